// Highway (Debian 12's libhwy 1.0.3) against our intrinsics, on the decode kernel that matters
// most per byte: one token against Q8_0 weights in the x16 layout (kernels/x16.h), L2-resident
// so the kernel's own speed shows. Highway 1.0.3 has no u8 x i8 quad dot (vpdpbusd); its
// nearest is widening to i16 and ReorderWidenMulAccumulate (vpmaddwd), so this measures what
// portability would cost today. Both read the same bytes and must give the same sums.
//   build/dawn_highway_bench
#include <benchmark/benchmark.h>
#include <hwy/highway.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/half.h"
#include "kernels/level_gemm.h"
#include "kernels/thread_pool.h"
#include "kernels/types.h"
#include "kernels/x16.h"
#include "ops/matmul.h"

namespace hn = hwy::HWY_NAMESPACE;

namespace {

using dawn::DType;

constexpr int64_t kCols = 1408, kRows = 256;  // 352 KiB of Q8_0: V2-Lite's expert down rows
constexpr int64_t kBlock = 32 + 16 * 32;      // one x16 block: 16 f16 scales, 16 x 32 levels

struct Setup {
  std::vector<uint8_t> w;  // kRows / 16 groups of kCols / 32 x16 blocks
  dawn::LevelActs acts;
  std::vector<int16_t> x16;  // the activation's four-value groups, each repeated for 8 rows
  Setup() {
    const size_t rb = dawn::row_bytes(DType::Q8_0, kCols);
    w.resize(rb * kRows);
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    std::vector<float> row(static_cast<size_t>(kCols));
    for (int64_t r = 0; r < kRows; ++r) {
      for (float& v : row) v = nd(rng);
      dawn::traits(DType::Q8_0).from_float(row.data(), w.data() + rb * size_t(r), kCols);
    }
    std::vector<uint8_t> scratch;
    for (int64_t g = 0; g < kRows / 16; ++g)
      dawn::repack_x16(DType::Q8_0, w.data() + rb * 16 * size_t(g), kCols, scratch);
    std::vector<float> x(static_cast<size_t>(kCols));
    for (float& v : x) v = nd(rng) * 20;
    dawn::size_acts(DType::Q8_0, 1, kCols, acts);
    dawn::fill_acts(DType::Q8_0, x.data(), 0, 1, acts);
    for (int64_t q = 0; q < kCols / 4; ++q) {
      for (int rep = 0; rep < 8; ++rep) {
        for (int k = 0; k < 4; ++k) x16.push_back(acts.q[size_t(4 * q + k)]);
      }
    }
  }
};

// One group of 16 rows: levels widened to i16 (rows 0-7 in the lower half of each load, 8-15 in
// the upper), multiplied by the pre-widened activation in pairs; adjacent i32 lanes then hold
// halves of one row's sum, gathered into one lane per row and scaled per block in float.
void group_hwy(const uint8_t* group, const Setup& s, float* y) {
  const hn::ScalableTag<uint8_t> du8;
  const hn::Half<decltype(du8)> dh8;
  const hn::Repartition<int16_t, decltype(du8)> di16;
  const hn::Repartition<int32_t, decltype(du8)> di32;
  const hn::Repartition<float, decltype(du8)> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> df16;
  static_assert(HWY_TARGET <= HWY_AVX3, "the x16 layout is laid out for 64-byte vectors");
  auto acc = hn::Zero(df);
  const int64_t nb = kCols / 32;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* b = group + i * kBlock;
    auto lo = hn::Zero(di32), hi = hn::Zero(di32), lo1 = hn::Zero(di32), hi1 = hn::Zero(di32);
    for (int g = 0; g < 8; ++g) {
      const auto q = hn::LoadU(du8, b + 32 + 64 * g);
      const auto xa = hn::LoadU(di16, s.x16.data() + (i * 8 + g) * 32);
      lo = hn::ReorderWidenMulAccumulate(di32, hn::PromoteTo(di16, hn::LowerHalf(dh8, q)), xa, lo, lo1);
      hi = hn::ReorderWidenMulAccumulate(di32, hn::PromoteTo(di16, hn::UpperHalf(dh8, q)), xa, hi, hi1);
    }
    lo = hn::Add(lo, lo1);
    hi = hn::Add(hi, hi1);
    // Row r's halves are lanes 2r and 2r + 1; the zero level (128) comes off through zsum.
    const auto rows = hn::Add(hn::ConcatEven(di32, hi, lo), hn::ConcatOdd(di32, hi, lo));
    const auto dw = hn::PromoteTo(df, hn::LoadU(df16, reinterpret_cast<const hwy::float16_t*>(b)));
    const auto sum = hn::ConvertTo(df, hn::Add(rows, hn::Set(di32, s.acts.zsum[size_t(i)])));
    acc = hn::MulAdd(sum, hn::Mul(dw, hn::Set(df, s.acts.d[size_t(i)])), acc);
  }
  hn::StoreU(acc, df, y);
}

void q8_0_matvec(benchmark::State& state, bool highway) {
  static const Setup s;
  const size_t group_bytes = dawn::row_bytes(DType::Q8_0, kCols) * 16;
  std::vector<float> y(static_cast<size_t>(kRows)), ref(static_cast<size_t>(kRows));
  const int32_t tok = 0;
  for (int64_t g = 0; g < kRows / 16; ++g) {
    dawn::x16_gemm_ref(DType::Q8_0, s.w.data() + group_bytes * size_t(g), kCols, s.acts, &tok, 1, ref.data() + 16 * g,
                       16);
  }
  for (auto _ : state) {
    for (int64_t g = 0; g < kRows / 16; ++g) {
      const uint8_t* group = s.w.data() + group_bytes * size_t(g);
      if (highway) {
        group_hwy(group, s, y.data() + 16 * g);
      } else {
        dawn::x16_gemm(DType::Q8_0, group, kCols, s.acts, &tok, 1, y.data() + 16 * g, 16);
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  for (int64_t r = 0; r < kRows; ++r) {
    if (std::fabs(y[size_t(r)] - ref[size_t(r)]) > 1e-3f * (1.0f + std::fabs(ref[size_t(r)]))) {
      state.SkipWithError("the sums differ from the scalar reference");
      return;
    }
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(s.w.size()));
}

}  // namespace

BENCHMARK_CAPTURE(q8_0_matvec, intrinsics, false);
BENCHMARK_CAPTURE(q8_0_matvec, highway, true);

BENCHMARK_MAIN();
