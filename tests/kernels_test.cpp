// Every type's quantizer, dequantizer and dot product against plain references on
// random data, at row lengths that are and are not multiples of the SIMD width.
#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/types.h"

namespace dawn {
namespace {

std::vector<float> random_row(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

TEST(Half, RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_f32(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_fp16(f), h) << h;
  }
}

__attribute__((target("f16c"))) uint16_t hw_to_half(float f) {
  return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float hw_from_half(uint16_t h) { return _cvtsh_ss(h); }

TEST(Half, MatchesF16cHardware) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "no F16C";
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 1000000; ++i) {
    const float f = f32_from_bits(bits(rng));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_fp16(f), hw_to_half(f)) << f;
  }
  for (uint32_t h = 0; h < 65536; ++h) {
    const float a = fp16_to_f32(uint16_t(h)), b = hw_from_half(uint16_t(h));
    if (std::isnan(a)) continue;
    ASSERT_EQ(bits_from_f32(a), bits_from_f32(b)) << h;
  }
}

TEST(Half, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808001u)), 0x3f81);
  EXPECT_EQ(bf16_to_f32(0x4049), f32_from_bits(0x40490000u));
}

struct TypeCase {
  DType type;
  double max_rel_rmse;  // quantization error bound, relative to the data's RMS
};

class TypeTest : public ::testing::TestWithParam<TypeCase> {};

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, int64_t(x.size())));
  traits(t).from_float(x.data(), q.data(), int64_t(x.size()));
  return q;
}

std::vector<float> dequantize(DType t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> x(n);
  traits(t).to_float(q.data(), x.data(), n);
  return x;
}

TEST_P(TypeTest, QuantizationErrorIsBounded) {
  const TypeCase c = GetParam();
  const int64_t block = traits(c.type).block;
  for (int64_t blocks : {1, 3, 7}) {
    const int64_t n = std::max<int64_t>(block, 32) * blocks;
    const auto x = random_row(n, uint32_t(n * 31 + 5), 0.02f);
    const auto y = dequantize(c.type, quantize(c.type, x), n);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
      err += (x[i] - y[i]) * (x[i] - y[i]);
      ref += x[i] * x[i];
    }
    EXPECT_LE(std::sqrt(err / ref), c.max_rel_rmse) << type_name(c.type) << " n=" << n;
    if (c.type != DType::F32) {
      EXPECT_GT(std::sqrt(err / ref), 0.0) << "exact round trip is suspicious for quantized types";
    }
  }
}

// The dot product against the plain reference: dequantize both operands and sum in double.
TEST_P(TypeTest, DotMatchesDequantizedReference) {
  const TypeCase c = GetParam();
  const TypeTraits& tt = traits(c.type);
  const TypeTraits& at = traits(tt.dot_type);
  const int64_t unit = std::max(tt.block, at.block);
  for (int64_t units : {1, 2, 5, 9}) {
    const int64_t n = unit * units;
    const auto w = random_row(n, uint32_t(units * 101), 0.05f);
    const auto x = random_row(n, uint32_t(units * 977 + 1), 1.0f);
    const auto wq = quantize(c.type, w);
    std::vector<uint8_t> xq(row_bytes(tt.dot_type, n));
    at.from_float(x.data(), xq.data(), n);
    const auto wd = dequantize(c.type, wq, n);
    const auto xd = dequantize(tt.dot_type, xq, n);
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      ref += double(wd[i]) * double(xd[i]);
      mag += std::fabs(double(wd[i]) * double(xd[i]));
    }
    // Q8_1 carries d*sum(q) rounded to f16 (as ggml stores it), which an offset
    // weight type multiplies by its block minimum: allow that rounding, no more.
    double s_round = 0;
    if (c.type == DType::Q5_1 || c.type == DType::Q4_1) {
      const auto* xb = reinterpret_cast<const BlockQ8_1*>(xq.data());
      for (int64_t b = 0; b < n / QK; ++b) {
        const uint16_t m = c.type == DType::Q5_1 ? reinterpret_cast<const BlockQ5_1*>(wq.data())[b].m
                                                 : reinterpret_cast<const BlockQ4_1*>(wq.data())[b].m;
        s_round += std::fabs(fp16_to_f32(m) * fp16_to_f32(xb[b].s)) * std::ldexp(1.0, -11);
      }
    }
    const double got = tt.vec_dot(n, wq.data(), xq.data());
    EXPECT_NEAR(got, ref, 1e-5 * mag + s_round + 1e-7) << type_name(c.type) << " n=" << n;
    // The activation quantization itself must stay close to the float product.
    double exact = 0;
    for (int64_t i = 0; i < n; ++i) exact += double(wd[i]) * double(x[i]);
    EXPECT_NEAR(got, exact, 0.02 * mag + 1e-6) << type_name(c.type) << " n=" << n;
  }
}

// Every SIMD tier this CPU runs (AVX2 and AVX-512 where present, not only the dispatched one),
// against the scalar reference on random data, with block counts that are not multiples of any
// unroll factor.
std::vector<std::pair<const char*, DotKernels>> tiers(DType t) {
  std::vector<std::pair<const char*, DotKernels>> out;
  if (cpu_isa() >= Isa::Avx2) out.push_back({"avx2", dot_kernels(t, Isa::Avx2)});
  if (cpu_isa() >= Isa::Avx512) out.push_back({"avx512", dot_kernels(t, Isa::Avx512)});
  return out;
}

TEST_P(TypeTest, FastDotMatchesScalarReference) {
  const TypeCase c = GetParam();
  const TypeTraits& tt = traits(c.type);
  const TypeTraits& at = traits(tt.dot_type);
  const int64_t unit = std::max(tt.block, at.block);
  std::vector<int64_t> sizes;
  for (int64_t units : {1, 2, 3, 5, 7, 9, 17}) sizes.push_back(unit * units);
  if (unit == 1) sizes = {1, 7, 8, 31, 32, 33, 100, 257, 1000};
  std::vector<std::pair<const char*, VecDotFn>> dots = {{"dispatched", tt.vec_dot}};
  for (const auto& [isa, k] : tiers(c.type)) {
    if (k.dot) dots.push_back({isa, k.dot});
  }
  for (int64_t n : sizes) {
    const auto w = random_row(n, uint32_t(n * 31 + 7), 0.05f);
    const auto x = random_row(n, uint32_t(n * 17 + 3), 1.0f);
    const auto wq = quantize(c.type, w);
    std::vector<uint8_t> xq(row_bytes(tt.dot_type, n));
    at.from_float(x.data(), xq.data(), n);
    const auto wd = dequantize(c.type, wq, n);
    const auto xd = dequantize(tt.dot_type, xq, n);
    double mag = 0;
    for (int64_t i = 0; i < n; ++i) mag += std::fabs(double(wd[i]) * double(xd[i]));
    const float ref = tt.vec_dot_ref(n, wq.data(), xq.data());
    for (const auto& [isa, dot] : dots) {
      const float fast = dot(n, wq.data(), xq.data());
      EXPECT_NEAR(fast, ref, 2e-6 * mag + 1e-7) << type_name(c.type) << " " << isa << " n=" << n;
    }
  }
}

// The multi-token (prefill) kernels of every tier: four activation rows against one weight row,
// each equal to the scalar reference's single dot product.
TEST_P(TypeTest, MultiTokenDotMatchesScalarReference) {
  const TypeCase c = GetParam();
  std::vector<std::pair<const char*, VecDotX4Fn>> dots;
  for (const auto& [isa, k] : tiers(c.type)) {
    if (k.dot4) dots.push_back({isa, k.dot4});
  }
  if (dots.empty()) GTEST_SKIP() << "no multi-token kernel for " << type_name(c.type);
  const TypeTraits& tt = traits(c.type);
  const TypeTraits& at = traits(tt.dot_type);
  for (int64_t units : {1, 2, 3, 7}) {
    const int64_t n = std::max(tt.block, at.block) * units;
    const auto wq = quantize(c.type, random_row(n, uint32_t(n + 5), 0.05f));
    const size_t stride = row_bytes(tt.dot_type, n) + 64;  // padded: the kernel must honour the stride
    std::vector<uint8_t> act(stride * 4);
    for (int k = 0; k < 4; ++k) {
      const auto x = random_row(n, uint32_t(n * 3 + k), 1.0f + float(k));
      at.from_float(x.data(), act.data() + stride * size_t(k), n);
    }
    for (const auto& [isa, dot4] : dots) {
      float out[4];
      dot4(n, wq.data(), act.data(), stride, out);
      for (int k = 0; k < 4; ++k) {
        const float ref = tt.vec_dot_ref(n, wq.data(), act.data() + stride * size_t(k));
        EXPECT_NEAR(out[k], ref, 1e-5f * (1.0f + std::fabs(ref)))
            << type_name(c.type) << " " << isa << " n=" << n << " k=" << k;
      }
    }
  }
}

// The vector Q8_K quantizer is byte for byte the scalar one: random rows, a row whose extreme
// magnitude appears with both signs (the first one sets the scale), values that scale to exact
// halves (rounded to even), an all-zero block, and large and tiny magnitudes.
TEST(Q8K, VectorQuantizerIsTheScalarOne) {
  if (cpu_isa() < Isa::Avx512) GTEST_SKIP() << "no AVX-512";
  std::vector<std::vector<float>> rows;
  for (uint32_t seed = 1; seed <= 20; ++seed) rows.push_back(random_row(4 * QK_K, seed, seed % 2 ? 1.0f : 1e-3f));
  std::vector<float> ties = random_row(2 * QK_K, 77);
  ties[40] = -9.0f, ties[200] = 9.0f, ties[QK_K + 3] = 9.0f, ties[QK_K + 9] = -9.0f;
  rows.push_back(ties);
  std::vector<float> halves(QK_K);
  for (int j = 0; j < QK_K; ++j) halves[size_t(j)] = -127.0f * float((j % 64) * 2 + 1) / 254.0f;  // -127 x odd/254
  halves[0] = -127.0f;
  rows.push_back(halves);
  std::vector<float> zeros(2 * QK_K, 0.0f);
  for (int j = QK_K; j < 2 * QK_K; ++j) zeros[size_t(j)] = float(j - QK_K) * 1e4f;
  rows.push_back(zeros);
  for (const auto& x : rows) {
    const int64_t n = int64_t(x.size());
    std::vector<uint8_t> ref(row_bytes(DType::Q8_K, n)), fast(ref.size(), 0xAB);
    quantize_row_q8_k_ref(x.data(), ref.data(), n);
    quantize_row_q8_k_avx512(x.data(), fast.data(), n);
    EXPECT_EQ(fast, ref) << "row of " << n;
  }
}

// The same for Q8_0: random rows, exact halves after scaling, a zero block, a tiny block.
TEST(Q80, VectorQuantizerIsTheScalarOne) {
  if (cpu_isa() < Isa::Avx512) GTEST_SKIP() << "no AVX-512";
  std::vector<std::vector<float>> rows;
  for (uint32_t seed = 1; seed <= 20; ++seed) rows.push_back(random_row(8 * QK, seed + 100, seed % 2 ? 1.0f : 1e-3f));
  std::vector<float> halves(2 * QK, 0.0f);  // block 0: amax 127, so id = 1 and odd/2 stay halves
  for (int j = 0; j < QK; ++j) halves[size_t(j)] = float((j % 16) * 2 + 1) / (j % 2 ? 2.0f : -2.0f);
  halves[5] = 127.0f;
  for (int j = QK; j < 2 * QK; ++j) halves[size_t(j)] = j == QK + 7 ? 1e-30f : 0.0f;
  rows.push_back(halves);
  for (const auto& x : rows) {
    const int64_t n = int64_t(x.size());
    std::vector<uint8_t> ref(row_bytes(DType::Q8_0, n)), fast(ref.size(), 0xAB);
    quantize_row_q8_0_ref(x.data(), ref.data(), n);
    quantize_row_q8_0_avx512(x.data(), fast.data(), n);
    EXPECT_EQ(fast, ref) << "row of " << n;
  }
}

TEST(Types, SimdIsUsedWhereTheCpuHasIt) {
  if (!use_avx2()) GTEST_SKIP() << "no AVX2/FMA/F16C here (or DAWN_SIMD=0)";
  for (DType t : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q4_K, DType::Q6_K}) {
    EXPECT_NE(traits(t).vec_dot, traits(t).vec_dot_ref) << type_name(t);
  }
  // The best tier wins where it has a kernel.
  if (cpu_isa() >= Isa::Avx512) {
    for (DType t : {DType::Q8_0, DType::Q5_0, DType::Q4_K, DType::Q6_K}) {
      EXPECT_EQ(traits(t).vec_dot, dot_kernels(t, Isa::Avx512).dot) << type_name(t);
      EXPECT_EQ(vec_dot_x4(t), dot_kernels(t, Isa::Avx512).dot4) << type_name(t);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, TypeTest,
                         ::testing::Values(TypeCase{DType::F32, 1e-6}, TypeCase{DType::F16, 1e-3},
                                           TypeCase{DType::BF16, 5e-3}, TypeCase{DType::Q8_0, 0.01},
                                           TypeCase{DType::Q4_0, 0.12}, TypeCase{DType::Q5_0, 0.06},
                                           TypeCase{DType::Q5_1, 0.06}, TypeCase{DType::Q8_1, 0.01},
                                           TypeCase{DType::Q2_K, 0.40}, TypeCase{DType::Q3_K, 0.22},
                                           TypeCase{DType::Q4_K, 0.12}, TypeCase{DType::Q5_K, 0.06},
                                           TypeCase{DType::Q6_K, 0.03}, TypeCase{DType::Q8_K, 0.01},
                                           TypeCase{DType::Q4_1, 0.12}, TypeCase{DType::IQ4_NL, 0.10},
                                           TypeCase{DType::IQ4_XS, 0.10}, TypeCase{DType::IQ2_XXS, 0.40},
                                           TypeCase{DType::IQ2_XS, 0.34}, TypeCase{DType::IQ2_S, 0.29},
                                           TypeCase{DType::IQ3_XXS, 0.22}, TypeCase{DType::IQ3_S, 0.16},
                                           TypeCase{DType::IQ1_S, 0.55}, TypeCase{DType::IQ1_M, 0.50}),
                         [](const auto& info) { return std::string(type_name(info.param.type)); });

TEST(Types, BlockGeometryMatchesGgml) {
  struct G {
    uint32_t id;
    int block, bytes;
  } g[] = {{0, 1, 4},     {1, 1, 2},      {2, 32, 18},    {6, 32, 22},    {7, 32, 24},    {8, 32, 34},    {9, 32, 36},
           {10, 256, 84}, {11, 256, 110}, {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {15, 256, 292}, {30, 1, 2},
           {3, 32, 20},   {16, 256, 66},  {17, 256, 74},  {18, 256, 98},  {19, 256, 50},  {20, 32, 18},   {21, 256, 110},
           {22, 256, 82}, {23, 256, 136}, {29, 256, 56}};
  for (const G& x : g) {
    const TypeTraits* t = find_traits(x.id);
    ASSERT_NE(t, nullptr) << x.id;
    EXPECT_EQ(t->block, x.block) << t->name;
    EXPECT_EQ(t->bytes, x.bytes) << t->name;
  }
  EXPECT_EQ(find_traits(4), nullptr);  // ggml's removed Q4_2
  EXPECT_EQ(find_traits(24), nullptr);  // I8: an integer tensor type, not a weight format
  DType d;
  EXPECT_TRUE(parse_type_name("Q4_K", &d));
  EXPECT_EQ(d, DType::Q4_K);
  EXPECT_FALSE(parse_type_name("q4_k_m", &d));
}

// The vector SwiGLU against the libm one: gates over the whole range where silu is neither x nor 0
// to float precision, extremes past exp's clamp, and lengths that leave every tail size.
TEST(Swiglu, VectorFormIsTheReferenceWithinFourUlp) {
  if (!use_avx2()) GTEST_SKIP() << "no AVX2";
  for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 1000, 1411}) {
    auto g = random_row(n, uint32_t(n + 7), 40.0f);
    const auto u = random_row(n, uint32_t(n + 8), 3.0f);
    if (n > 16) g[3] = -200.0f, g[4] = 200.0f, g[5] = -87.5f, g[6] = 88.5f, g[7] = 1e-6f, g[8] = -0.0f;
    auto ref = g, fast = g;
    swiglu_ref(ref.data(), u.data(), n);
    swiglu_avx2(fast.data(), u.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(fast[size_t(i)], ref[size_t(i)], 5e-7f * std::fabs(ref[size_t(i)]) + 1e-30f)
          << "n " << n << " i " << i << " gate " << g[size_t(i)];
    }
  }
}

// The vector softmax against the reference: scores spread over many e-folds (tiny probabilities
// included), every tail length, one row that is a single score.
TEST(Softmax, VectorFormIsTheReference) {
  if (!use_avx2()) GTEST_SKIP() << "no AVX2";
  for (int64_t n : {1, 5, 8, 13, 64, 100, 1029}) {
    const auto x = random_row(n, uint32_t(n + 11), 4.0f);
    auto ref = x, fast = x;
    softmax_ref(ref.data(), n, 0.7f);
    softmax_avx2(fast.data(), n, 0.7f);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(fast[size_t(i)], ref[size_t(i)], 1e-6f * ref[size_t(i)] + 1e-38f) << "n " << n << " i " << i;
    }
  }
}

}  // namespace
}  // namespace dawn
