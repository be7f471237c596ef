// Tiled attention (attend_tiled): blocks of query rows over their caches with an online softmax,
// long caches cut along positions across threads and merged by their maxima and sums.
#include <algorithm>
#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/thread_pool.h"
#include "ops/attention.h"

namespace dawn {

namespace {

int kv_elem(KvType t) { return t == KvType::F16 ? 1 : t == KvType::Q8_0 ? 2 : 0; }

// The register-blocked kernels need one element type for K and V (MLA's latent rows are both).
// An f32 cache is the reference configuration (the goldens run on it): its products are the
// one-row form's plain loops, summed in the one-row form's order.
bool blocked(const AttnQueries& b) {
  return cpu_isa() >= Isa::Avx512 && b.k.type == b.v.type && b.k.type != KvType::F32;
}

// s[r * ss + j] = q_r . k_{j0 + j} for j < n.
void qk_tile(const AttnQueries& b, int64_t dk, int64_t j0, int64_t n, float* s, int64_t ss) {
  if (blocked(b)) {
    qk_rows_avx512(b.q, b.q_stride, b.n_q, dk, b.k.row(j0), b.k.stride, kv_elem(b.k.type), n, s, ss);
    return;
  }
  for (int r = 0; r < b.n_q; ++r) {
    for (int64_t j = 0; j < n; ++j) s[r * ss + j] = kv_dot(b.q + r * b.q_stride, b.k, j0 + j, dk);
  }
}

// acc_r += sum_j p[r * ps + j] v_{j0 + j} for j < n.
void pv_tile(const AttnQueries& b, int64_t dv, int64_t j0, int64_t n, const float* p, int64_t ps, float* acc,
             int64_t as) {
  if (blocked(b)) {
    pv_rows_avx512(p, ps, b.n_q, b.v.row(j0), b.v.stride, kv_elem(b.v.type), n, dv, acc, as, true);
    return;
  }
  for (int r = 0; r < b.n_q; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      if (p[r * ps + j] != 0.0f) kv_axpy(p[r * ps + j], b.v, j0 + j, acc + r * as, dv);
    }
  }
}

float softmax_step(float* s, int64_t n, float scale, float* m) {
  return use_avx2() ? softmax_step_avx2(s, n, scale, m) : softmax_step_ref(s, n, scale, m);
}

// Cache rows [j0, j1) for every row of block b: the unnormalised result in acc (rows as apart),
// each row's maximum scaled score in m and its sum of exponentials in l. With `whole` (the rows'
// whole cache in one tile) the softmax is the plain two-pass one, normalised before the
// products as the one-row form does it (l = 1), so short contexts round as that form rounds.
void run_piece(const AttnQueries& b, int64_t j0, int64_t j1, bool whole, int64_t dk, int64_t dv, float scale,
               float* acc, int64_t as, float* m, float* l) {
  thread_local std::vector<float> scores;
  if (scores.size() < size_t(b.n_q * kAttnTile)) scores.resize(size_t(b.n_q * kAttnTile));
  for (int r = 0; r < b.n_q; ++r) {
    m[r] = -INFINITY;
    l[r] = 0;
    std::fill(acc + r * as, acc + r * as + dv, 0.0f);
  }
  for (int64_t t0 = j0; t0 < j1; t0 += kAttnTile) {
    const int64_t n = std::min(kAttnTile, j1 - t0);
    float* s = scores.data();
    qk_tile(b, dk, t0, n, s, kAttnTile);
    for (int r = 0; r < b.n_q; ++r) {
      float* row = s + r * kAttnTile;
      const int64_t valid = std::clamp<int64_t>(int64_t(b.len[r]) - t0, 0, n);
      if (valid > 0) {
        const float m_old = m[r];
        const float sum = softmax_step(row, valid, scale, &m[r]);
        if (whole) {
          const float inv = 1.0f / sum;
          for (int64_t j = 0; j < valid; ++j) row[j] *= inv;
          l[r] = 1;
        } else if (m[r] != m_old) {
          // exp(-inf) = 0: a row's first tile leaves nothing to rescale.
          const float alpha = std::exp(m_old - m[r]);
          float* a = acc + r * as;
          if (m_old != -INFINITY) {
            for (int64_t i = 0; i < dv; ++i) a[i] *= alpha;
          }
          l[r] = l[r] * alpha + sum;
        } else {
          l[r] += sum;
        }
      }
      std::fill(row + valid, row + n, 0.0f);  // past the row's causal end
    }
    pv_tile(b, dv, t0, n, s, kAttnTile, acc, as);
  }
}

// Merges one block's pieces [first, end) (the first in the output rows) and normalises:
// out = sum_i e^(m_i - M) acc_i / sum_i e^(m_i - M) l_i with M the largest m_i.
void merge(const AttnScratch::Piece* first, const AttnScratch::Piece* end, const AttnQueries& b, int64_t dv) {
  for (int r = 0; r < b.n_q; ++r) {
    float M = -INFINITY;
    for (const AttnScratch::Piece* p = first; p < end; ++p) M = std::max(M, p->m[r]);
    float* out = b.out + r * b.out_stride;
    float L = 0;
    for (const AttnScratch::Piece* p = first; p < end; ++p) {
      if (p->m[r] == -INFINITY) continue;  // the piece lies past this row's causal end
      const float w = std::exp(p->m[r] - M);
      L += w * p->l[r];
      if (p == first) {
        if (w != 1.0f) {
          for (int64_t c = 0; c < dv; ++c) out[c] *= w;
        }
      } else {
        const float* a = p->acc + r * p->acc_stride;
        for (int64_t c = 0; c < dv; ++c) out[c] += w * a[c];
      }
    }
    const float inv = L > 0 ? 1.0f / L : 0.0f;
    for (int64_t c = 0; c < dv; ++c) out[c] *= inv;
  }
}

}  // namespace

void attend_tiled(const AttnQueries* blocks, int n_blocks, int64_t dk, int64_t dv, float scale, ThreadPool& pool,
                  AttnScratch& sc) {
  // Pieces per block: enough for every thread when blocks are few, none shorter than a quarter
  // tile (a piece's fixed cost is one pass over its rows' results).
  const int threads = pool.size();
  auto& pieces = sc.pieces;
  pieces.clear();
  size_t part = 0, ml = 0;
  for (int bi = 0; bi < n_blocks; ++bi) {
    const AttnQueries& b = blocks[bi];
    const int64_t len = *std::max_element(b.len, b.len + b.n_q);
    int64_t split = n_blocks >= threads ? 1 : (threads + n_blocks - 1) / n_blocks;
    split = std::max<int64_t>(1, std::min(split, len / (kAttnTile / 4)));
    for (int64_t i = 0; i < split; ++i) {
      pieces.push_back({bi, len * i / split, len * (i + 1) / split, len, nullptr, nullptr, nullptr, 0});
      if (i > 0) part += size_t(b.n_q * dv);
      ml += size_t(2 * b.n_q);
    }
  }
  if (sc.part.size() < part) sc.part.resize(part);
  if (sc.ml.size() < ml) sc.ml.resize(ml);
  part = ml = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    AttnScratch::Piece& p = pieces[i];
    const AttnQueries& b = blocks[p.block];
    // A block's first piece works in the block's output rows; the others in the scratch.
    if (p.j0 == 0) {
      p.acc = b.out;
      p.acc_stride = b.out_stride;
    } else {
      p.acc = sc.part.data() + part;
      p.acc_stride = dv;
      part += size_t(b.n_q * dv);
    }
    p.m = sc.ml.data() + ml;
    p.l = p.m + b.n_q;
    ml += size_t(2 * b.n_q);
  }
  pool.parallel_for(int64_t(pieces.size()), 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const AttnScratch::Piece& p = pieces[size_t(i)];
      const bool whole = p.j0 == 0 && p.j1 == p.len && p.len <= kAttnTile;
      run_piece(blocks[p.block], p.j0, p.j1, whole, dk, dv, scale, p.acc, p.acc_stride, p.m, p.l);
    }
  });
  // Each block's pieces are consecutive in `pieces`: merged a block per task.
  auto& firsts = sc.firsts;
  firsts.clear();
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i == 0 || pieces[i].block != pieces[i - 1].block) firsts.push_back(i);
  }
  firsts.push_back(pieces.size());
  pool.parallel_for(int64_t(firsts.size()) - 1, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t bi = i0; bi < i1; ++bi) merge(pieces.data() + firsts[size_t(bi)], pieces.data() + firsts[size_t(bi) + 1],
                                                 blocks[pieces[firsts[size_t(bi)]].block], dv);
  });
}

}  // namespace dawn
