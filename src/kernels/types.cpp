#include "kernels/types.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/dispatch.h"

namespace dawn {

extern const TypeTraits kTraitsF32, kTraitsF16, kTraitsBF16, kTraitsQ8_0, kTraitsQ4_0, kTraitsQ5_0, kTraitsQ5_1,
    kTraitsQ8_1, kTraitsQ8_K, kTraitsQ2_K, kTraitsQ3_K, kTraitsQ4_K, kTraitsQ5_K, kTraitsQ6_K, kTraitsQ4_1, kTraitsIQ4_NL, kTraitsIQ4_XS, kTraitsIQ2_XXS, kTraitsIQ2_XS,
    kTraitsIQ2_S, kTraitsIQ3_XXS, kTraitsIQ3_S, kTraitsIQ1_S, kTraitsIQ1_M;

const TypeTraits* find_traits(uint32_t id) {
  switch (DType(id)) {
    case DType::F32: return &kTraitsF32;
    case DType::F16: return &kTraitsF16;
    case DType::BF16: return &kTraitsBF16;
    case DType::Q4_0: return &kTraitsQ4_0;
    case DType::Q5_0: return &kTraitsQ5_0;
    case DType::Q5_1: return &kTraitsQ5_1;
    case DType::Q8_1: return &kTraitsQ8_1;
    case DType::Q8_0: return &kTraitsQ8_0;
    case DType::Q2_K: return &kTraitsQ2_K;
    case DType::Q3_K: return &kTraitsQ3_K;
    case DType::Q4_K: return &kTraitsQ4_K;
    case DType::Q5_K: return &kTraitsQ5_K;
    case DType::Q6_K: return &kTraitsQ6_K;
    case DType::Q8_K: return &kTraitsQ8_K;
    case DType::Q4_1: return &kTraitsQ4_1;
    case DType::IQ4_NL: return &kTraitsIQ4_NL;
    case DType::IQ4_XS: return &kTraitsIQ4_XS;
    case DType::IQ2_XXS: return &kTraitsIQ2_XXS;
    case DType::IQ2_XS: return &kTraitsIQ2_XS;
    case DType::IQ2_S: return &kTraitsIQ2_S;
    case DType::IQ3_XXS: return &kTraitsIQ3_XXS;
    case DType::IQ3_S: return &kTraitsIQ3_S;
    case DType::IQ1_S: return &kTraitsIQ1_S;
    case DType::IQ1_M: return &kTraitsIQ1_M;
  }
  return nullptr;
}

const TypeTraits& traits(DType t) {
  const TypeTraits* tt = find_traits(uint32_t(t));
  if (!tt) std::abort();  // DType values are only made from validated ids
  return *tt;
}

bool parse_type_name(std::string_view s, DType* out) {
  for (uint32_t id = 0; id <= 30; ++id) {
    const TypeTraits* tt = find_traits(id);
    if (!tt) continue;
    std::string name = tt->name;
    if (name.size() != s.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < s.size() && eq; ++i) eq = std::tolower(name[i]) == std::tolower(s[i]);
    if (eq) {
      *out = DType(id);
      return true;
    }
  }
  return false;
}

}  // namespace dawn

namespace dawn {

bool cpu_has_avx512_vbmi() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vbmi") != 0;
  }();
  return has;
}

Isa cpu_isa() {
  static const Isa isa = [] {
    __builtin_cpu_init();
    Isa best = Isa::Scalar;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
      best = Isa::Avx2;
      if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
          __builtin_cpu_supports("avx512vnni")) {
        best = Isa::Avx512;
      }
    }
    const char* env = std::getenv("DAWN_SIMD");
    if (env && (std::strcmp(env, "0") == 0 || std::strcmp(env, "scalar") == 0)) return Isa::Scalar;
    if (env && std::strcmp(env, "avx2") == 0 && best > Isa::Avx2) return Isa::Avx2;
    return best;
  }();
  return isa;
}

DotKernels dot_kernels(DType t, Isa isa) {
  if (isa == Isa::Avx2) {
    switch (t) {
      case DType::F32: return {vec_dot_f32_avx2, nullptr};
      case DType::F16: return {vec_dot_f16_avx2, nullptr};
      case DType::Q4_0: return {vec_dot_q4_0_avx2, nullptr};
      case DType::Q5_0: return {vec_dot_q5_0_avx2, vec_dot_q5_0_x4_avx2};
      case DType::Q8_0: return {vec_dot_q8_0_avx2, vec_dot_q8_0_x4_avx2};
      case DType::Q4_K: return {vec_dot_q4_k_avx2, vec_dot_q4_k_x4_avx2};
      case DType::Q6_K: return {vec_dot_q6_k_avx2, vec_dot_q6_k_x4_avx2};
      case DType::Q4_1: return {vec_dot_q4_1_avx2, nullptr};
      case DType::IQ4_NL: return {vec_dot_iq4_nl_avx2, nullptr};
      case DType::IQ4_XS: return {vec_dot_iq4_xs_avx2, nullptr};
      case DType::IQ2_XXS: return {vec_dot_iq2_xxs_avx2, nullptr};
      case DType::IQ2_XS: return {vec_dot_iq2_xs_avx2, nullptr};
      case DType::IQ2_S: return {vec_dot_iq2_s_avx2, nullptr};
      case DType::IQ3_XXS: return {vec_dot_iq3_xxs_avx2, nullptr};
      case DType::IQ3_S: return {vec_dot_iq3_s_avx2, nullptr};
      case DType::IQ1_S: return {vec_dot_iq1_s_avx2, nullptr};
      case DType::IQ1_M: return {vec_dot_iq1_m_avx2, nullptr};
      default: return {};
    }
  }
  if (isa == Isa::Avx512) {
    switch (t) {
      case DType::Q5_0: return {vec_dot_q5_0_avx512, vec_dot_q5_0_x4_avx512};
      case DType::Q8_0: return {vec_dot_q8_0_avx512, vec_dot_q8_0_x4_avx512};
      case DType::Q4_K: return {vec_dot_q4_k_avx512, vec_dot_q4_k_x4_avx512};
      case DType::Q6_K: return {vec_dot_q6_k_avx512, vec_dot_q6_k_x4_avx512};
      case DType::IQ4_NL: return {vec_dot_iq4_nl_avx512, vec_dot_iq4_nl_x4_avx512};
      case DType::IQ1_S: return {vec_dot_iq1_s_avx512, nullptr};
      // The sign+magnitude i-quants: sign masks made by VBMI byte shuffles (Cascade Lake: AVX2).
      case DType::IQ2_XXS: return {cpu_has_avx512_vbmi() ? vec_dot_iq2_xxs_avx512 : nullptr, nullptr};
      case DType::IQ2_XS: return {cpu_has_avx512_vbmi() ? vec_dot_iq2_xs_avx512 : nullptr, nullptr};
      case DType::IQ2_S: return {cpu_has_avx512_vbmi() ? vec_dot_iq2_s_avx512 : nullptr, nullptr};
      case DType::IQ3_XXS: return {cpu_has_avx512_vbmi() ? vec_dot_iq3_xxs_avx512 : nullptr, nullptr};
      case DType::IQ3_S: return {cpu_has_avx512_vbmi() ? vec_dot_iq3_s_avx512 : nullptr, nullptr};
      default: return {};
    }
  }
  return {};
}

UnpackFn pick_unpack(DType t, UnpackFn scalar) {
  if (cpu_isa() < Isa::Avx2) return scalar;
  switch (t) {
    case DType::IQ4_NL: return unpack_iq4_nl_avx2;
    case DType::IQ4_XS: return unpack_iq4_xs_avx2;
    case DType::IQ2_XXS: return unpack_iq2_xxs_avx2;
    case DType::IQ2_XS: return unpack_iq2_xs_avx2;
    case DType::IQ2_S: return unpack_iq2_s_avx2;
    case DType::IQ3_XXS: return unpack_iq3_xxs_avx2;
    case DType::IQ3_S: return unpack_iq3_s_avx2;
    case DType::IQ1_S: return unpack_iq1_s_avx2;
    case DType::IQ1_M: return unpack_iq1_m_avx2;
    default: return scalar;
  }
}

VecDotFn pick_dot(DType t, VecDotFn scalar) {
  for (int isa = int(cpu_isa()); isa > int(Isa::Scalar); --isa) {
    if (VecDotFn f = dot_kernels(t, Isa(isa)).dot) return f;
  }
  return scalar;
}

VecDotX4Fn vec_dot_x4(DType t) {
  for (int isa = int(cpu_isa()); isa > int(Isa::Scalar); --isa) {
    if (VecDotX4Fn f = dot_kernels(t, Isa(isa)).dot4) return f;
  }
  return nullptr;
}

}  // namespace dawn
