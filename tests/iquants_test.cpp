// The i-quants and Q4_1: codebooks against ggml's published tables (by checksum), hand-built
// blocks whose values follow from the bit layout alone, and every type's dot products (scalar
// and each SIMD tier) against the dequantized rows on random blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/iq_grids.h"
#include "kernels/types.h"
#include "random_blocks.h"

namespace dawn {
namespace {

template <class T, size_t N>
uint64_t fnv1a(const std::array<T, N>& table, int bytes_per_entry) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (T e : table) {
    for (int j = 0; j < bytes_per_entry; ++j) {
      h ^= (uint64_t(e) >> (8 * j)) & 0xff;
      h *= 0x100000001b3ull;
    }
  }
  return h;
}

// FNV-1a over the bytes of ggml's tables (ggml/src/ggml-common.h), entry by entry.
TEST(IqGrids, AreGgmlsTables) {
  EXPECT_EQ(fnv1a(kIq2xxsGrid, 8), 0xbb4ee025b5ac6e8eull);
  EXPECT_EQ(fnv1a(kIq2xsGrid, 8), 0xc9b1ee61e79909bdull);
  EXPECT_EQ(fnv1a(kIq2sGrid, 8), 0x123edd38a3b62b90ull);
  EXPECT_EQ(fnv1a(kIq1sGrid, 8), 0x6703ed863501ae2eull);
  EXPECT_EQ(fnv1a(kIq3xxsGrid, 4), 0xdfa5dc83d6a155d5ull);
  EXPECT_EQ(fnv1a(kIq3sGrid, 4), 0xfa37020c25b44829ull);
  EXPECT_EQ(kIq2xxsGrid[0], 0x0808080808080808ull);
  EXPECT_EQ(kIq1sGrid[0], ~0ull);  // all -1
  EXPECT_EQ(kIq3sGrid[0], 0x01010101u);
}

TEST(IqGrids, SignBytesHaveEvenParity) {
  for (int i = 0; i < 128; ++i) {
    EXPECT_EQ(kSignsIq2xs[size_t(i)] & 127, i);
    EXPECT_EQ(__builtin_popcount(kSignsIq2xs[size_t(i)]) % 2, 0) << i;
  }
}

template <class B>
std::vector<float> dequant(DType t, const B& b) {
  std::vector<float> y(static_cast<size_t>(traits(t).block));
  traits(t).to_float(&b, y.data(), int64_t(y.size()));
  return y;
}

TEST(IqBlocks, Iq2XxsLayout) {
  BlockIQ2_XXS b{};
  b.d = f32_to_fp16(1.0f);
  // Sub-block 1: grid indices 0, 0, 0, 0; group 0 sign index 1 (elements 0 and 7 negative by
  // parity); scale 3 (multiplier 7, over 8: 0.875).
  const uint32_t aux = 1u | (3u << 28);
  std::memcpy(&b.qs[4 + 2], &aux, 4);
  const auto y = dequant(DType::IQ2_XXS, b);
  EXPECT_FLOAT_EQ(y[32], -7.0f);
  EXPECT_FLOAT_EQ(y[33], 7.0f);
  EXPECT_FLOAT_EQ(y[39], -7.0f);
  EXPECT_FLOAT_EQ(y[40], 7.0f);
  EXPECT_FLOAT_EQ(y[0], 1.0f);  // sub-block 0: scale 0 = multiplier 1/8, grid value 8
}

TEST(IqBlocks, Iq1MScaleIsSpreadOverNibbles) {
  BlockIQ1_M b{};
  const uint16_t d = f32_to_fp16(2.0f);
  uint16_t sc[4] = {};
  for (int k = 0; k < 4; ++k) sc[k] = uint16_t(((d >> (4 * k)) & 0xF) << 12);
  sc[0] |= 5 << 3;  // sub-block 1 (weights 16..31): scale 5, multiplier 11
  std::memcpy(b.scales, sc, 8);
  b.qh[0] = 0x80;  // group 1: delta -1/8; group 0: +1/8
  const auto y = dequant(DType::IQ1_M, b);
  EXPECT_FLOAT_EQ(y[0], 2.0f * (-1.0f + 0.125f));  // grid 0 is all -1, multiplier 1
  EXPECT_FLOAT_EQ(y[8], 2.0f * (-1.0f - 0.125f));
  EXPECT_FLOAT_EQ(y[16], 22.0f * (-1.0f + 0.125f));
}

TEST(IqBlocks, Iq4XsSignedSubScales) {
  BlockIQ4_XS b{};
  b.d = f32_to_fp16(0.5f);
  b.scales_l[0] = 0x0F;         // sub-block 0: low bits 15; sub-block 1: 0
  b.scales_h = 0x2 | (3 << 2);  // sub-block 0 high bits 2 (ls 47 -> +15); sub-block 1 high bits 3 (ls 48 -> +16)
  for (int j = 0; j < 128; ++j) b.qs[j] = 0x80 | 0x08;  // both nibbles: 0 -> -127, 8 -> 1
  b.qs[0] = 0x0F;                                       // element 0: level 15 (113), element 16: level 0 (-127)
  const auto y = dequant(DType::IQ4_XS, b);
  EXPECT_FLOAT_EQ(y[0], 0.5f * 15 * 113);
  EXPECT_FLOAT_EQ(y[16], 0.5f * 15 * -127);
  EXPECT_FLOAT_EQ(y[1], 0.5f * 15 * 1);
  EXPECT_FLOAT_EQ(y[32], 0.5f * 16 * 1);
  EXPECT_FLOAT_EQ(y[64], 0.5f * -32 * 1);  // no scale bits: 0 - 32
}

class IqTypeTest : public ::testing::TestWithParam<DType> {};

std::vector<float> to_floats(DType t, const uint8_t* q, int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  traits(t).to_float(q, x.data(), n);
  return x;
}

std::vector<uint8_t> activations(DType at, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = nd(rng);
  std::vector<uint8_t> q(row_bytes(at, n));
  traits(at).from_float(x.data(), q.data(), n);
  return q;
}

// The scalar dot product is the dequantized rows' product (to float rounding).
TEST_P(IqTypeTest, DotIsTheDequantizedProduct) {
  const DType t = GetParam();
  const TypeTraits& tt = traits(t);
  for (int64_t blocks : {1, 2, 5, 9}) {
    const int64_t n = std::max(tt.block, traits(tt.dot_type).block) * blocks;
    const auto w = random_weight_rows(t, 1, n, uint32_t(n + 3));
    const auto a = activations(tt.dot_type, n, uint32_t(n * 7 + 1));
    const auto wd = to_floats(t, w.data(), n), ad = to_floats(tt.dot_type, a.data(), n);
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      ref += double(wd[size_t(i)]) * ad[size_t(i)];
      mag += std::fabs(double(wd[size_t(i)]) * ad[size_t(i)]);
    }
    double s_round = 0;  // Q8_1's d * sum is stored in f16, as ggml does
    if (t == DType::Q4_1) {
      for (int64_t b = 0; b < n / QK; ++b) {
        s_round += std::fabs(fp16_to_f32(reinterpret_cast<const BlockQ4_1*>(w.data())[b].m) *
                             fp16_to_f32(reinterpret_cast<const BlockQ8_1*>(a.data())[b].s)) *
                   std::ldexp(1.0, -11);
      }
    }
    EXPECT_NEAR(tt.vec_dot_ref(n, w.data(), a.data()), ref, 1e-5 * mag + s_round + 1e-7) << tt.name << " n=" << n;
    EXPECT_GT(mag, 0.0);
  }
}

// Every SIMD tier this CPU runs, against the scalar reference, odd block counts included.
TEST_P(IqTypeTest, EveryTierMatchesTheScalarReference) {
  const DType t = GetParam();
  const TypeTraits& tt = traits(t);
  std::vector<std::pair<const char*, VecDotFn>> dots = {{"dispatched", tt.vec_dot}};
  if (cpu_isa() >= Isa::Avx2 && dot_kernels(t, Isa::Avx2).dot) dots.push_back({"avx2", dot_kernels(t, Isa::Avx2).dot});
  if (cpu_isa() >= Isa::Avx512 && dot_kernels(t, Isa::Avx512).dot) {
    dots.push_back({"avx512", dot_kernels(t, Isa::Avx512).dot});
  }
  for (int64_t blocks : {1, 2, 3, 5, 7, 9, 17}) {
    const int64_t n = std::max(tt.block, traits(tt.dot_type).block) * blocks;
    const auto w = random_weight_rows(t, 1, n, uint32_t(n * 5 + 1));
    const auto a = activations(tt.dot_type, n, uint32_t(n * 11 + 2));
    const auto wd = to_floats(t, w.data(), n), ad = to_floats(tt.dot_type, a.data(), n);
    double mag = 0;
    for (int64_t i = 0; i < n; ++i) mag += std::fabs(double(wd[size_t(i)]) * ad[size_t(i)]);
    const float ref = tt.vec_dot_ref(n, w.data(), a.data());
    for (const auto& [isa, dot] : dots) {
      EXPECT_NEAR(dot(n, w.data(), a.data()), ref, 2e-6 * mag + 1e-7) << tt.name << " " << isa << " n=" << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, IqTypeTest,
                         ::testing::Values(DType::Q4_1, DType::IQ4_NL, DType::IQ4_XS, DType::IQ2_XXS, DType::IQ2_XS,
                                           DType::IQ2_S, DType::IQ3_XXS, DType::IQ3_S, DType::IQ1_S, DType::IQ1_M),
                         [](const auto& info) { return std::string(type_name(info.param)); });

}  // namespace
}  // namespace dawn

namespace dawn {
namespace {

// An importance matrix must buy accuracy where it points: columns it weights 30x come out closer
// than under a flat one (all ones: the same search, so only the weighting differs), for every type
// that takes one (the K-quants and the legacy types as well as the i-quants); and without one,
// quantize is from_float exactly.
class ImatrixTest : public ::testing::TestWithParam<DType> {};

TEST_P(ImatrixTest, ImatrixLowersTheWeightedError) {
  const DType t = GetParam();
  const TypeTraits& tt = traits(t);
  ASSERT_NE(tt.quantize, nullptr) << tt.name << " takes no importance matrix";
  const int64_t n = 256 * 16;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> x(static_cast<size_t>(n)), im(static_cast<size_t>(n)), y(static_cast<size_t>(n));
  const std::vector<float> flat(static_cast<size_t>(n), 1.0f);
  for (float& v : x) v = nd(rng);
  for (int64_t j = 0; j < n; ++j) im[size_t(j)] = j % 8 < 2 ? 30.0f : 1.0f;
  std::vector<uint8_t> q(row_bytes(t, n));
  const auto weighted_error = [&](const float* imatrix) {
    tt.quantize(x.data(), q.data(), n, imatrix);
    tt.to_float(q.data(), y.data(), n);
    double e = 0;
    for (int64_t j = 0; j < n; ++j) e += im[size_t(j)] * (x[size_t(j)] - y[size_t(j)]) * (x[size_t(j)] - y[size_t(j)]);
    return e;
  };
  const double with = weighted_error(im.data()), without = weighted_error(flat.data());
  EXPECT_LT(with, 0.9 * without) << tt.name;
  if (!tt.needs_imatrix) {
    std::vector<uint8_t> plain(q.size()), none(q.size());
    tt.from_float(x.data(), plain.data(), n);
    tt.quantize(x.data(), none.data(), n, nullptr);
    EXPECT_EQ(plain, none) << tt.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ImatrixTest,
                         ::testing::Values(DType::Q4_0, DType::Q5_0, DType::Q4_1, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                                           DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS,
                                           DType::IQ2_XXS, DType::IQ2_XS, DType::IQ2_S, DType::IQ3_XXS, DType::IQ3_S,
                                           DType::IQ1_S, DType::IQ1_M),
                         [](const auto& info) { return std::string(type_name(info.param)); });

}  // namespace
}  // namespace dawn
