// Tiled attention (attend_tiled: online softmax over tiles, split-K across threads) against the
// one-row form (attend) for every row: MLA-like shared K/V rows and separate K and V of other
// types, causal lengths that end inside and across tiles, several blocks and pool sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/thread_pool.h"
#include "ops/attention.h"

namespace dawn {
namespace {

// n rows of `stride` random values stored as type t through kv_store (as the cache is written).
std::vector<uint8_t> random_rows(KvType t, int64_t n, int64_t stride, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<uint8_t> bytes(kv_bytes(t, stride) * size_t(n));
  std::vector<float> row(static_cast<size_t>(stride));
  const KvRows rows{bytes.data(), stride, t};
  for (int64_t j = 0; j < n; ++j) {
    for (float& x : row) x = 2.0f * nd(rng);  // scores spread enough that the softmax is peaked
    kv_store(rows, j, row.data(), stride);
  }
  return bytes;
}

struct Case {
  KvType kt, vt;
  bool shared;  // V is K's rows 32 values in (MLA's latent), else rows of their own
  int64_t dk, dv, n_kv;
  std::vector<std::vector<int32_t>> lens;  // per block, each row's cache length
};

void check(const Case& c, int threads, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t k_stride = c.shared ? c.dk + 32 : c.dk, v_stride = c.shared ? k_stride : c.dv;
  std::vector<uint8_t> kb = random_rows(c.kt, c.n_kv, k_stride, rng);
  std::vector<uint8_t> vb = c.shared ? std::vector<uint8_t>() : random_rows(c.vt, c.n_kv, v_stride, rng);
  const KvRows k{kb.data(), k_stride, c.kt};
  const KvRows v = c.shared ? k.offset(32) : KvRows{vb.data(), v_stride, c.vt};
  const int64_t q_stride = c.dk + 3, out_stride = c.dv + 5;
  std::vector<std::vector<float>> q(c.lens.size()), out(c.lens.size());
  std::vector<AttnQueries> blocks;
  for (size_t bi = 0; bi < c.lens.size(); ++bi) {
    const int n_q = int(c.lens[bi].size());
    q[bi].resize(size_t(n_q * q_stride));
    for (float& x : q[bi]) x = 0.2f * nd(rng);
    out[bi].assign(size_t(n_q * out_stride), 12345.0f);
    blocks.push_back({q[bi].data(), q_stride, n_q, c.lens[bi].data(), k, v, out[bi].data(), out_stride});
  }
  ThreadPool pool(threads);
  AttnScratch scratch;
  const float scale = 0.125f;
  attend_tiled(blocks.data(), int(blocks.size()), c.dk, c.dv, scale, pool, scratch);
  std::vector<float> ref(static_cast<size_t>(c.dv)), scores(static_cast<size_t>(c.n_kv));
  for (size_t bi = 0; bi < c.lens.size(); ++bi) {
    for (int r = 0; r < blocks[bi].n_q; ++r) {
      attend(q[bi].data() + r * q_stride, c.dk, k, v, c.dv, c.lens[bi][size_t(r)], scale, scores.data(), ref.data());
      const float* o = out[bi].data() + r * out_stride;
      for (int64_t i = 0; i < c.dv; ++i) {
        ASSERT_NEAR(o[i], ref[size_t(i)], 2e-5f + 1e-4f * std::fabs(ref[size_t(i)]))
            << "block " << bi << " row " << r << " len " << c.lens[bi][size_t(r)] << " element " << i << " threads "
            << threads;
      }
      for (int64_t i = c.dv; i < out_stride; ++i) ASSERT_EQ(o[i], 12345.0f) << "wrote past dv";
    }
  }
}

// A prefill block: n_tok tokens from position p0, each with `heads` rows.
std::vector<int32_t> causal(int n_tok, int heads, int32_t p0) {
  std::vector<int32_t> len;
  for (int t = 0; t < n_tok; ++t) len.insert(len.end(), size_t(heads), p0 + t + 1);
  return len;
}

TEST(AttendTiled, DecodeRowsSplitAcrossThreadsMatchTheOneRowForm) {
  // One block of 16 heads at one position: cut into 1, 2 or 3 pieces along the cache (split-K),
  // lengths inside one tile, across several and not a multiple of anything.
  for (KvType t : {KvType::F16, KvType::Q8_0, KvType::F32}) {
    for (int32_t n : {1, 37, 256, 257, 700}) {
      for (int threads : {1, 2, 3}) {
        check({t, t, true, 96, 64, n, {std::vector<int32_t>(16, n)}}, threads, uint32_t(n * 7 + threads));
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST(AttendTiled, CausalPrefillBlocksMatchTheOneRowForm) {
  // Several blocks of a few tokens with all their heads, the last tile cut inside by each row's
  // causal end; some blocks start past a tile boundary.
  for (KvType t : {KvType::F16, KvType::Q8_0}) {
    for (int threads : {1, 2}) {
      Case c{t, t, true, 64, 32, 600, {}};
      c.lens = {causal(4, 3, 0), causal(4, 3, 250), causal(3, 5, 590), causal(1, 2, 511)};
      check(c, threads, uint32_t(threads));
      if (HasFatalFailure()) return;
    }
  }
}

TEST(AttendTiled, SeparateKAndVOfOtherTypesAndOddWidths) {
  // A GQA head's K and V rows of their own; f16 K with f32 V takes the one-row products per tile.
  Case mixed{KvType::F16, KvType::F32, false, 40, 24, 300, {causal(6, 6, 280), std::vector<int32_t>(6, 3)}};
  check(mixed, 2, 5);
  Case odd{KvType::F16, KvType::F16, false, 17, 13, 290, {causal(2, 3, 270), std::vector<int32_t>(5, 290)}};
  check(odd, 3, 6);
  Case f32{KvType::F32, KvType::F32, false, 33, 47, 520, {std::vector<int32_t>(7, 520)}};
  check(f32, 2, 7);
}

}  // namespace
}  // namespace dawn
