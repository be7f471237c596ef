// Decode-shaped products (one token) over matrices far larger than the caches: the rate at which
// each kernel streams weights, beside the machine's plain read rate. Decode is bound by this
// stream, so a kernel well below the read rate is what a slow decode step is made of.
//   build/bench/dawn_kernels_bench [--benchmark_filter=x16]
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "kernels/membw.h"
#include "kernels/thread_pool.h"
#include "kernels/types.h"
#include "kernels/x16.h"
#include "ops/attention.h"
#include "ops/matmul.h"

namespace {

using dawn::DType;

constexpr size_t kBytes = size_t(512) << 20;  // well past any last-level cache
constexpr size_t kHuge = size_t(2) << 20;

// A weight of `type` with `cols` columns filling ~kBytes: 16 rows quantized from random values,
// copied over the whole buffer (the rate does not depend on the values; realistic scales keep
// the float work free of special cases), repacked when `x16`.
// In transparent huge pages, as `--load copy` holds a model's weights.
struct BigWeight {
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], Free> bytes;
  size_t size;
  dawn::Weight w;
  BigWeight(DType type, int64_t cols, bool x16, size_t total = kBytes) {
    const size_t rb = dawn::row_bytes(type, cols);
    const int64_t rows = int64_t(total / rb) / 16 * 16;
    size = rb * size_t(rows);
    bytes.reset(static_cast<uint8_t*>(std::aligned_alloc(kHuge, (size + kHuge - 1) / kHuge * kHuge)));
    madvise(bytes.get(), size, MADV_HUGEPAGE);
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 0.05f);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int r = 0; r < 16; ++r) {
      for (float& v : row) v = dist(rng);
      dawn::traits(type).from_float(row.data(), bytes.get() + rb * size_t(r), cols);
    }
    std::vector<uint8_t> scratch;
    if (x16) dawn::repack_x16(type, bytes.get(), cols, scratch);
    for (int64_t r = 16; r < rows; r += 16) std::memcpy(bytes.get() + rb * size_t(r), bytes.get(), rb * 16);
    w = {type, cols, rows, bytes.get(), rb, x16};
  }
};

void matvec(benchmark::State& state, DType type, int64_t cols, bool x16, size_t bytes = kBytes) {
  const int threads = int(state.range(0));
  dawn::ThreadPool pool(threads);
  const BigWeight big(type, cols, x16, bytes);
  std::vector<float> x(static_cast<size_t>(cols)), y(static_cast<size_t>(big.w.rows));
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  for (float& v : x) v = dist(rng);
  dawn::ActBuffer buf;
  for (auto _ : state) {
    dawn::matmul(big.w, x.data(), 1, y.data(), pool, buf);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(big.size));
}

// MoE decode: 6 of 64 experts (fresh picks every iteration, so their weights are cold), one input
// row per expert, as one gathered product; the rate counts the picked experts' bytes.
void experts(benchmark::State& state, DType type, int64_t rows, int64_t cols) {
  constexpr int kExperts = 64, kUsed = 6;
  dawn::ThreadPool pool(int(state.range(0)));
  const BigWeight big(type, cols, dawn::x16_supported(type));
  const int64_t per = big.w.rows / kExperts / 16 * 16;
  rows = std::min(rows, per);
  std::vector<float> x(static_cast<size_t>(kUsed * cols)), y(static_cast<size_t>(kUsed * rows));
  std::mt19937 rng(5);
  std::normal_distribution<float> dist;
  for (float& v : x) v = dist(rng);
  std::vector<int32_t> seq(kUsed);
  for (int i = 0; i < kUsed; ++i) seq[size_t(i)] = i;
  std::vector<dawn::GatherTask> tasks(kUsed);
  dawn::ActBuffer buf;
  for (auto _ : state) {
    for (int i = 0; i < kUsed; ++i) {
      const int64_t e = int64_t(rng() % kExperts);
      tasks[size_t(i)] = {big.w.slice(e * per, rows), seq.data() + i, 1, y.data() + i * rows};
    }
    dawn::matmul_gather(tasks.data(), kUsed, x.data(), kUsed, pool, buf);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kUsed * rows * int64_t(big.w.row_stride));
}

// One decode step's MLA attention for V2-Lite's 16 heads over a latent cache of range(0)
// positions (576-value rows, 512 of them the values) in an f16 or q8_0 cache, tiled on one
// thread; counts multiply-adds.
void mla_attend(benchmark::State& state, dawn::KvType type) {
  constexpr int kHeads = 16;
  constexpr int64_t kRow = 576, kLatent = 512;
  const int64_t n_kv = state.range(0);
  std::mt19937 rng(9);
  std::normal_distribution<float> dist;
  std::vector<uint8_t> cache(dawn::kv_bytes(type, kRow) * size_t(n_kv));
  std::vector<float> row(static_cast<size_t>(kRow)), q(static_cast<size_t>(kHeads * kRow));
  const dawn::KvRows k{cache.data(), kRow, type};
  for (int64_t j = 0; j < n_kv; ++j) {
    for (float& v : row) v = dist(rng);
    dawn::kv_store(k, j, row.data(), kRow);
  }
  for (float& v : q) v = dist(rng);
  std::vector<float> out(static_cast<size_t>(kHeads * kLatent));
  const std::vector<int32_t> len(static_cast<size_t>(kHeads), static_cast<int32_t>(n_kv));
  const dawn::AttnQueries block{q.data(), kRow, kHeads, len.data(), k, k, out.data(), kLatent};
  dawn::ThreadPool pool(1);
  dawn::AttnScratch scratch;
  for (auto _ : state) {
    dawn::attend_tiled(&block, 1, kRow, kLatent, 0.07f, pool, scratch);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["MAC/s"] =
      benchmark::Counter(double(state.iterations()) * kHeads * n_kv * (kRow + kLatent), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(mla_attend, f16, dawn::KvType::F16)->Arg(64)->Arg(512)->Arg(4096);
BENCHMARK_CAPTURE(mla_attend, q8_0, dawn::KvType::Q8_0)->Arg(64)->Arg(512)->Arg(4096);

// One decode step's GQA attention for every layer of Qwen2.5-1.5B (28 layers, 2 KV heads of 128
// values, 6 query heads each) over an f16 or q8_0 cache of range(0) positions, on range(1)
// threads as the model runs it (a block per KV head, split along positions when threads are
// more): the caches together are far past the last-level cache, so this is the stream of a
// decode step at depth; bytes count the K and V rows read. head_major: each head's rows apart, as
// KvCache holds them (LayerKv); otherwise the heads of a position side by side, for comparison.
void gqa_attend(benchmark::State& state, dawn::KvType type, bool head_major) {
  constexpr int kLayers = 28, kKvHeads = 2, kGroup = 6;
  constexpr int64_t kHead = 128, kRow = kKvHeads * kHead;
  const int64_t n_kv = state.range(0);
  const size_t rb = dawn::kv_bytes(type, kRow);
  std::mt19937 rng(11);
  std::normal_distribution<float> dist;
  const size_t bytes = (2 * kLayers * rb * size_t(n_kv) + kHuge - 1) / kHuge * kHuge;
  std::unique_ptr<uint8_t[], BigWeight::Free> cache(static_cast<uint8_t*>(std::aligned_alloc(kHuge, bytes)));
  madvise(cache.get(), bytes, MADV_HUGEPAGE);
  std::vector<float> row(static_cast<size_t>(kRow)), q(static_cast<size_t>(kKvHeads * kGroup * kHead));
  for (size_t r = 0; r < 2 * kLayers * size_t(n_kv); ++r) {
    for (float& v : row) v = dist(rng);
    dawn::kv_store(dawn::KvRows{cache.get(), kRow, type}, int64_t(r), row.data(), kRow);
  }
  for (float& v : q) v = dist(rng);
  std::vector<float> out(q.size());
  const std::vector<int32_t> len(static_cast<size_t>(kGroup), static_cast<int32_t>(n_kv));
  std::vector<dawn::AttnQueries> blocks;
  for (int l = 0; l < kLayers; ++l) {
    const dawn::KvRows k{cache.get() + size_t(2 * l) * rb * size_t(n_kv), kRow, type};
    const dawn::KvRows v{cache.get() + size_t(2 * l + 1) * rb * size_t(n_kv), kRow, type};
    for (int g = 0; g < kKvHeads; ++g) {
      const size_t hb = dawn::kv_bytes(type, kHead) * size_t(n_kv);
      const dawn::KvRows kh = head_major ? dawn::KvRows{k.row(0) + g * hb, kHead, type} : k.offset(g * kHead);
      const dawn::KvRows vh = head_major ? dawn::KvRows{v.row(0) + g * hb, kHead, type} : v.offset(g * kHead);
      blocks.push_back({q.data() + g * kGroup * kHead, kHead, kGroup, len.data(), kh, vh,
                        out.data() + g * kGroup * kHead, kHead});
    }
  }
  dawn::ThreadPool pool(int(state.range(1)));
  dawn::AttnScratch scratch;
  for (auto _ : state) {
    for (int l = 0; l < kLayers; ++l) dawn::attend_tiled(blocks.data() + l * kKvHeads, kKvHeads, kHead, kHead, 0.088f, pool, scratch);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kLayers * 2 * int64_t(dawn::kv_bytes(type, kHead)) * kKvHeads * n_kv);
}
BENCHMARK_CAPTURE(gqa_attend, f16, dawn::KvType::F16, true)->Args({4096, 2})->Args({16384, 2})->Args({4096, 1})->UseRealTime();
BENCHMARK_CAPTURE(gqa_attend, f16_heads_interleaved, dawn::KvType::F16, false)->Args({4096, 2})->UseRealTime();
BENCHMARK_CAPTURE(gqa_attend, q8_0, dawn::KvType::Q8_0, true)->Args({4096, 2})->UseRealTime();

void read_rate(benchmark::State& state) {
  dawn::ThreadPool pool(int(state.range(0)));
  double best = 0;
  for (auto _ : state) best = dawn::read_bandwidth(pool, kBytes, 3);
  state.counters["GB/s"] = best / 1e9;
}

}  // namespace

BENCHMARK(read_rate)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q4_K_x16, DType::Q4_K, 2048, true)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q4_K_rows, DType::Q4_K, 2048, false)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q6_K_x16, DType::Q6_K, 2048, true)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q6_K_rows, DType::Q6_K, 2048, false)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q8_0_x16, DType::Q8_0, 1408, true)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q8_0_rows, DType::Q8_0, 1408, false)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q5_0_x16, DType::Q5_0, 1408, true)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q5_0_rows, DType::Q5_0, 1408, false)->Arg(1)->Arg(2)->UseRealTime();
// The same products over 384 KiB a thread, held in L2: the kernel's own ceiling, which must sit
// well above half the machine's read rate for two threads to reach the roofline.
constexpr size_t kHot = size_t(384) << 10;
BENCHMARK_CAPTURE(matvec, q4_K_x16_hot, DType::Q4_K, 2048, true, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q6_K_x16_hot, DType::Q6_K, 2048, true, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q8_0_x16_hot, DType::Q8_0, 1408, true, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, q5_0_x16_hot, DType::Q5_0, 1408, true, kHot)->Arg(1)->UseRealTime();
// The i-quants of the low-bit DeepSeek files (row by row: they have no x16 form).
BENCHMARK_CAPTURE(matvec, iq2_xxs_hot, DType::IQ2_XXS, 2048, false, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, iq2_xs_hot, DType::IQ2_XS, 2048, false, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, iq2_s_hot, DType::IQ2_S, 2048, false, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, iq3_xxs_hot, DType::IQ3_XXS, 2048, false, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, iq3_s_hot, DType::IQ3_S, 2048, false, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, iq1_s_hot, DType::IQ1_S, 2048, false, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, iq1_m_hot, DType::IQ1_M, 2048, false, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, iq4_nl_rows_hot, DType::IQ4_NL, 1408, false, kHot)->Arg(1)->UseRealTime();
BENCHMARK_CAPTURE(matvec, iq4_nl_x16_hot, DType::IQ4_NL, 1408, true, kHot)->Arg(1)->UseRealTime();

// V2-Lite's expert shapes: gate/up 1408 x 2048, down 2048 x 1408.
BENCHMARK_CAPTURE(experts, gate_q4_K, DType::Q4_K, 1408, 2048)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(experts, down_q8_0, DType::Q8_0, 2048, 1408)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(experts, down_q5_0, DType::Q5_0, 2048, 1408)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(experts, gate_iq2_xxs, DType::IQ2_XXS, 1408, 2048)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(experts, gate_iq1_s, DType::IQ1_S, 1408, 2048)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(experts, down_iq4_nl, DType::IQ4_NL, 2048, 1408)->Arg(1)->Arg(2)->UseRealTime();

BENCHMARK_MAIN();
