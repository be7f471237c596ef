// Runtime choice between SIMD kernels and their scalar references.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dawn {

using VecDotFn = float (*)(int64_t n, const void* w, const void* act);
// Four activation rows (act, act + act_stride, ...) against one weight row: out[0..3].
using VecDotX4Fn = void (*)(int64_t n, const void* w, const void* act, size_t act_stride, float* out);

// True when the CPU has AVX2, FMA and F16C and DAWN_SIMD is not "0" in the
// environment (so benchmarks and bug hunts can force the scalar kernels).
bool use_avx2();

inline VecDotFn pick_avx2(VecDotFn simd, VecDotFn scalar) { return use_avx2() ? simd : scalar; }

// AVX2 dot products; each computes what the named type's scalar vec_dot does.
float vec_dot_f16_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q8_0_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q4_0_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q5_0_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q4_k_avx2(int64_t n, const void* w, const void* act);
float vec_dot_q6_k_avx2(int64_t n, const void* w, const void* act);
void vec_dot_q5_0_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q8_0_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q4_k_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out);
void vec_dot_q6_k_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out);

// The multi-token kernel for weights of type t (declared by id to keep this header light), or nullptr.
enum class DType : uint32_t;
VecDotX4Fn vec_dot_x4(DType t);

// f32 query row . f16 cache row, and out += a * f16 cache row (attention over an f16 KV cache).
float dot_f32_f16_avx2(const float* q, const uint16_t* k, int64_t n);
void axpy_f16_avx2(float a, const uint16_t* v, float* out, int64_t n);

}  // namespace dawn
