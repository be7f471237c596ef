// Attention of several query rows over a shared cache (attend_tiled as one block: the SIMD kernels
// on AVX-512) against the one-row reference (attend).
#include "ops/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/half.h"
#include "kernels/thread_pool.h"
#include "kernels/types.h"

namespace dawn {
namespace {

// n_q rows at one position over n_kv cache rows: one block of attend_tiled on one thread.
void attend_rows(const float* q, int64_t q_stride, int n_q, int64_t dk, const KvRows& k, const KvRows& v, int64_t dv,
                 int64_t n_kv, float scale, float* out, int64_t out_stride) {
  static ThreadPool pool(1);
  AttnScratch scratch;
  const std::vector<int32_t> len(static_cast<size_t>(n_q), static_cast<int32_t>(n_kv));
  const AttnQueries block{q, q_stride, n_q, len.data(), k, v, out, out_stride};
  attend_tiled(&block, 1, dk, dv, scale, pool, scratch);
}

struct Cache {
  std::vector<float> f32;
  std::vector<uint16_t> f16;
  KvRows rows(bool half) {
    return {half ? static_cast<void*>(f16.data()) : static_cast<void*>(f32.data()), 0,
            half ? KvType::F16 : KvType::F32};
  }
};

// n rows of `stride` random elements; K and V share the rows as MLA's latent cache does.
Cache random_cache(int64_t n, int64_t stride, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Cache c;
  for (int64_t i = 0; i < n * stride; ++i) {
    c.f16.push_back(f32_to_fp16(nd(rng)));
    c.f32.push_back(fp16_to_f32(c.f16.back()));
  }
  return c;
}

void check(int n_q, int64_t dk, int64_t dv, int64_t n_kv, bool half) {
  std::mt19937 rng(uint32_t(n_q * 1000 + dk * 7 + n_kv));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t stride = std::max(dk, dv + 2) + 3;  // rows wider than what is read, as a cache's are
  Cache c = random_cache(n_kv, stride, rng);
  KvRows k = c.rows(half), v = k.offset(2);
  k.stride = v.stride = stride;
  const int64_t q_stride = dk + 5, out_stride = dv + 7;
  std::vector<float> q(size_t(n_q * q_stride));
  for (float& x : q) x = nd(rng);
  const float scale = 0.3f;
  std::vector<float> out(size_t(n_q * out_stride), 12345.0f);
  attend_rows(q.data(), q_stride, n_q, dk, k, v, dv, n_kv, scale, out.data(), out_stride);
  std::vector<float> ref(static_cast<size_t>(dv)), s1(static_cast<size_t>(n_kv));
  for (int r = 0; r < n_q; ++r) {
    attend(q.data() + r * q_stride, dk, k, v, dv, n_kv, scale, s1.data(), ref.data());
    for (int64_t i = 0; i < dv; ++i) {
      ASSERT_NEAR(out[size_t(r * out_stride + i)], ref[size_t(i)], 1e-4f * (1.0f + std::fabs(ref[size_t(i)])))
          << "row " << r << " element " << i << " n_q " << n_q << " dk " << dk << " n_kv " << n_kv;
    }
    for (int64_t i = dv; i < out_stride; ++i) EXPECT_EQ(out[size_t(r * out_stride + i)], 12345.0f) << "wrote past dv";
  }
}

TEST(AttendRows, MatchesOneRowAttentionOverF16AndF32Caches) {
  for (bool half : {true, false}) {
    for (int n_q : {1, 3, 4, 5, 8, 9, 16}) {
      for (int64_t n_kv : {1, 3, 4, 7, 37}) {
        check(n_q, 72, 40, n_kv, half);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST(AttendRows, MatchesOneRowAttentionAtMlaShapes) {
  check(8, 576, 512, 130, true);
  check(16, 576, 512, 61, false);
}

TEST(AttendRows, SizesThatAreNotMultiplesOfTheSimdWidth) {
  for (int64_t dk : {1, 15, 17, 33}) {
    for (int64_t dv : {1, 13, 31, 33, 47}) {
      check(5, dk, dv, 9, true);
      if (HasFatalFailure()) return;
    }
  }
}

// A q8_0 cache attends exactly as an f32 cache holding its dequantized values, and the grouped
// (SIMD) form as the one-row form: rows written with kv_store (the activation quantizer), read
// back block by block. V is a slice 32 values in, as a head's is.
TEST(AttendRows, Q8_0CacheIsItsDequantizedValues) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t stride = 128, dk = 96, dv = 64;
  for (int64_t n_kv : {1, 5, 37}) {
    std::vector<uint8_t> q8(kv_bytes(KvType::Q8_0, stride) * size_t(n_kv));
    std::vector<float> f32(size_t(stride * n_kv)), row(static_cast<size_t>(stride));
    const KvRows k8{q8.data(), stride, KvType::Q8_0}, k32{f32.data(), stride, KvType::F32};
    for (int64_t j = 0; j < n_kv; ++j) {
      for (float& x : row) x = nd(rng);
      kv_store(k8, j, row.data(), stride);
      traits(DType::Q8_0).to_float(k8.row(j), f32.data() + j * stride, stride);
    }
    ASSERT_NE(f32[0], 0.0f);
    for (int n_q : {1, 4, 9}) {
      std::vector<float> q(size_t(n_q * dk));
      for (float& x : q) x = nd(rng);
      std::vector<float> a(size_t(n_q * dv)), b(size_t(n_q * dv));
      attend_rows(q.data(), dk, n_q, dk, k8, k8.offset(32), dv, n_kv, 0.2f, a.data(), dv);
      attend_rows(q.data(), dk, n_q, dk, k32, k32.offset(32), dv, n_kv, 0.2f, b.data(), dv);
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_NEAR(a[i], b[i], 1e-5f * (1.0f + std::fabs(b[i]))) << "n_kv " << n_kv << " n_q " << n_q << " i " << i;
      }
      // And the one-row form, whose q8_0 dot and axpy are plain loops: the SIMD kernels' reference.
      std::vector<float> one(static_cast<size_t>(dv)), s1(static_cast<size_t>(n_kv));
      for (int r = 0; r < n_q; ++r) {
        attend(q.data() + r * dk, dk, k8, k8.offset(32), dv, n_kv, 0.2f, s1.data(), one.data());
        for (int64_t i = 0; i < dv; ++i) {
          ASSERT_NEAR(a[size_t(r * dv + i)], one[size_t(i)], 1e-5f * (1.0f + std::fabs(one[size_t(i)])))
              << "one-row form, n_kv " << n_kv << " row " << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace dawn
