// Runtime choice between SIMD kernels and their scalar references.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dawn {

using VecDotFn = float (*)(int64_t n, const void* w, const void* act);
// Four activation rows (act, act + act_stride, ...) against one weight row: out[0..3].
using VecDotX4Fn = void (*)(int64_t n, const void* w, const void* act, size_t act_stride, float* out);

// Instruction-set tiers dawn has kernels for, in increasing order.
enum class Isa { Scalar, Avx2, Avx512 };

// The best tier this CPU runs (AVX2 = AVX2+FMA+F16C; AVX-512 = F/BW/VL/DQ + VNNI), capped by
// DAWN_SIMD in the environment ("0" or "scalar", "avx2") so benchmarks and bug hunts can force
// a lower tier.
Isa cpu_isa();
inline bool use_avx2() { return cpu_isa() >= Isa::Avx2; }

enum class DType : uint32_t;

// The kernels of one tier for weights of type t; nullptr where that tier has none.
struct DotKernels {
  VecDotFn dot = nullptr;
  VecDotX4Fn dot4 = nullptr;
};
DotKernels dot_kernels(DType t, Isa isa);

// The levels form of a row (types.h: UnpackLevelsFn): the SIMD unpacker this CPU has for t, else
// `scalar` (the prefill GEMM unpacks each weight row once per tile of tokens; the MoE experts'
// small token groups make that a large share of prefill for the i-quants).
using UnpackFn = void (*)(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
UnpackFn pick_unpack(DType t, UnpackFn scalar);
void unpack_iq4_nl_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
void unpack_iq4_xs_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
void unpack_iq2_xxs_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
void unpack_iq2_xs_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
void unpack_iq2_s_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
void unpack_iq3_xxs_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
void unpack_iq3_s_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
void unpack_iq1_s_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);
void unpack_iq1_m_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min);

// The fastest single-token dot this CPU has for t, else `scalar`.
VecDotFn pick_dot(DType t, VecDotFn scalar);

// AVX2 dot products; each computes what the named type's scalar vec_dot does.
float vec_dot_f32_avx2(int64_t n, const void* w, const void* act);
float vec_dot_f16_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q8_0_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q4_0_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q5_0_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q4_k_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q6_k_avx2(int64_t n, const void* w, const void* act);
// The i-quants and Q4_1 (simd_avx2_iq.cpp).
float vec_dot_q4_1_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq4_nl_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq4_xs_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq2_xxs_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq2_xs_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq2_s_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq3_xxs_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq3_s_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq1_s_avx2(int64_t n, const void* w, const void* act);
float vec_dot_iq1_m_avx2(int64_t n, const void* w, const void* act);
void vec_dot_q5_0_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q8_0_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q4_k_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q6_k_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out);

// AVX-512 + VNNI dot products.
float vec_dot_q8_0_avx512(int64_t n, const void* w, const void* act);
float vec_dot_q5_0_avx512(int64_t n, const void* w, const void* act);
float vec_dot_q4_k_avx512(int64_t n, const void* w, const void* act);
float vec_dot_q6_k_avx512(int64_t n, const void* w, const void* act);
void vec_dot_q5_0_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q8_0_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q4_k_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q6_k_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
float vec_dot_iq4_nl_avx512(int64_t n, const void* w, const void* act);
float vec_dot_iq1_s_avx512(int64_t n, const void* w, const void* act);
// These need AVX-512 VBMI as well (Ice Lake, Zen 4 and later).
bool cpu_has_avx512_vbmi();
float vec_dot_iq2_xxs_avx512(int64_t n, const void* w, const void* act);
float vec_dot_iq2_xs_avx512(int64_t n, const void* w, const void* act);
float vec_dot_iq2_s_avx512(int64_t n, const void* w, const void* act);
float vec_dot_iq3_xxs_avx512(int64_t n, const void* w, const void* act);
float vec_dot_iq3_s_avx512(int64_t n, const void* w, const void* act);
void vec_dot_iq4_nl_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out);

// Activation rows to Q8_K (the K-quants' dot format): the plain scalar reference and the AVX-512
// form, bit for bit the same (decode converts ~0.7 M values a token for V2-Lite, on one thread).
void quantize_row_q8_k_ref(const float* x, void* dst, int64_t n);
void quantize_row_q8_k_avx512(const float* x, void* dst, int64_t n);
// The same for Q8_0 (the dot format of Q4_0/Q5_0/Q8_0 weights).
void quantize_row_q8_0_ref(const float* x, void* dst, int64_t n);
void quantize_row_q8_0_avx512(const float* x, void* dst, int64_t n);

// g[i] = silu(g[i]) * u[i] (SwiGLU): the libm reference, and AVX2 with a polynomial exp within
// 2 ulp (the scalar exp was ~5 % of a V2-Lite decode step, all on one thread).
void swiglu_ref(float* g, const float* u, int64_t n);
void swiglu_avx2(float* g, const float* u, int64_t n);
// s = softmax(scale * s) in place, the same two ways (attention's scores).
void softmax_ref(float* s, int64_t n, float scale);
void softmax_avx2(float* s, int64_t n, float scale);
// One tile of an online softmax (tiled attention): with m the running maximum of the row's scaled
// scores so far, m = max(m, scale * s), s = exp(scale * s - m) in place; returns their sum.
float softmax_step_ref(float* s, int64_t n, float scale, float* m);
float softmax_step_avx2(float* s, int64_t n, float scale, float* m);

// The multi-token kernel of the best tier that has one for t, or nullptr.
VecDotX4Fn vec_dot_x4(DType t);

// f32 query row . f16 cache row, and out += a * f16 cache row (attention over an f16 KV cache).
float dot_f32_f16_avx2(const float* q, const uint16_t* k, int64_t n);
void axpy_f16_avx2(float a, const uint16_t* v, float* out, int64_t n);

// Attention products for n_q query rows over one cache (rows k_stride / v_stride elements apart,
// of kv_elem: 0 f32, 1 f16, 2 q8_0 with dk, dv and the strides multiples of 32):
// s[r * s_stride + j] = q_r . k_j, and out_r = sum_j p[r * p_stride + j] v_j (added to what
// out_r holds with accumulate).
void qk_rows_avx512(const float* q, int64_t q_stride, int n_q, int64_t dk, const void* k, int64_t k_stride, int kv_elem,
                    int64_t n_kv, float* s, int64_t s_stride);
void pv_rows_avx512(const float* p, int64_t p_stride, int n_q, const void* v, int64_t v_stride, int kv_elem,
                    int64_t n_kv, int64_t dv, float* out, int64_t out_stride, bool accumulate = false);

}  // namespace dawn
