// Causal softmax attention of query heads over cached keys and values.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dawn {

class ThreadPool;

// How a KV cache stores its elements: f32; f16 (half the memory); q8_0 (blocks of 32 int8 values
// with an f16 scale, as ggml's Q8_0: 34 bytes per 32, for row lengths and slices that are
// multiples of 32). All are converted to f32 as they are read.
enum class KvType { F32, F16, Q8_0 };

// Bytes of n elements of type t (n a multiple of 32 for q8_0).
inline size_t kv_bytes(KvType t, int64_t n) {
  return t == KvType::Q8_0 ? size_t(n / 32) * 34 : size_t(n) * (t == KvType::F16 ? 2 : 4);
}

// Rows of a KV cache: position p starts `stride` elements after position p-1.
struct KvRows {
  void* base = nullptr;
  int64_t stride = 0;
  KvType type = KvType::F32;

  uint8_t* row(int64_t pos) const { return static_cast<uint8_t*>(base) + size_t(pos) * kv_bytes(type, stride); }
  // The same rows starting `off` elements further in (a head's slice).
  KvRows offset(int64_t off) const { return {static_cast<uint8_t*>(base) + kv_bytes(type, off), stride, type}; }
};

// Writes n floats as position `pos` of `rows` (converted to the rows' type).
void kv_store(const KvRows& rows, int64_t pos, const float* src, int64_t n);

// q . k_j over n elements, and out += a * v_j over n elements: the one-row form's products (plain
// loops, or AVX2 for f16 rows), the reference of the SIMD kernels.
float kv_dot(const float* q, const KvRows& k, int64_t j, int64_t n);
void kv_axpy(float a, const KvRows& v, int64_t j, float* out, int64_t n);

// out[dv] = softmax(scale * q . k_j) . v_j over j < n_kv; scores needs n_kv floats.
void attend(const float* q, int64_t dk, const KvRows& k, const KvRows& v, int64_t dv, int64_t n_kv, float scale,
            float* scores, float* out);

// One block of query rows for attend_tiled: n_q rows (q_stride floats apart) over one cache, row
// r over cache rows [0, len[r]) (a prefill chunk's tokens of one sequence, causal, with all their
// heads); row r's result goes to out + r * out_stride.
struct AttnQueries {
  const float* q = nullptr;
  int64_t q_stride = 0;
  int n_q = 0;
  const int32_t* len = nullptr;
  KvRows k, v;
  float* out = nullptr;
  int64_t out_stride = 0;
};

// The end of the run of tokens from t (of n) that belong to t's sequence, at most `most` of them:
// the tokens of one block of attend_tiled.
inline int64_t seq_run_end(const int32_t* seq, int64_t t, int64_t n, int64_t most) {
  int64_t end = t + 1;
  while (end < n && end - t < most && seq[end] == seq[t]) ++end;
  return end;
}

// attend_tiled's buffers, grown on demand: the later pieces' partial results and every piece's
// running maxima and sums.
struct AttnScratch {
  std::vector<float> part, ml;
  struct Piece {
    int block;
    int64_t j0, j1, len;  // cache rows [j0, j1) of the block's len
    float *acc, *m, *l;
    int64_t acc_stride;
  };
  std::vector<Piece> pieces;
  std::vector<size_t> firsts;  // each block's first piece, and the end
};

// Cache rows per tile of attend_tiled: a tile's scores (rows x tile floats) and its cache rows
// stay in L2 while every query row of the block passes over them.
constexpr int64_t kAttnTile = 256;

// attend() for blocks of query rows, FlashAttention-style: each block passes over its cache in
// tiles of kAttnTile rows with an online softmax (running maximum and sum per row, the partial
// result rescaled as the maximum grows), so each cache row is read once per block, not once per
// query row, and no scores buffer spans the whole cache. A block with a long cache and fewer
// blocks than threads is cut along positions into pieces on different threads (split-K), merged
// at the end by their maxima and sums: one sequence's decode at depth uses every core.
void attend_tiled(const AttnQueries* blocks, int n_blocks, int64_t dk, int64_t dv, float scale, ThreadPool& pool,
                  AttnScratch& scratch);

}  // namespace dawn
