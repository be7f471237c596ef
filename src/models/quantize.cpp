#include "models/quantize.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "formats/gguf.h"
#include "kernels/thread_pool.h"
#include "kernels/types.h"
#include "models/imatrix.h"
#include "models/synth.h"
#include "models/tensor_types.h"
#include "util/error.h"

namespace dawn {

namespace {

enum class Mix { Pure, Q2_K, Q4_K_M, Q5_K_M, Iq };

bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

int layer_of(const std::string& name) {
  int l = -1;
  std::sscanf(name.c_str(), "blk.%d.", &l);
  return l;
}

bool quantizable(const GgufTensor& t) {
  const std::string& n = t.name;
  return t.n_dims >= 2 && n.size() >= 6 && n.compare(n.size() - 6, 6, "weight") == 0 && !contains(n, "_norm.weight") &&
         !contains(n, "ffn_gate_inp.weight");
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// llama.cpp's i-quant file types: name, general.file_type and the default tensor type.
struct IqFtype {
  const char* name;
  uint32_t ftype;
  DType base;
};
constexpr IqFtype kIqFtypes[] = {
    {"iq2_xxs", 19, DType::IQ2_XXS}, {"iq2_xs", 20, DType::IQ2_XS}, {"iq3_xxs", 23, DType::IQ3_XXS},
    {"iq1_s", 24, DType::IQ1_S},     {"iq4_nl", 25, DType::IQ4_NL}, {"iq3_s", 26, DType::IQ3_S},
    {"iq2_s", 28, DType::IQ2_XS},    {"iq2_m", 29, DType::IQ2_S},   {"iq4_xs", 30, DType::IQ4_XS},
    {"iq1_m", 31, DType::IQ1_M},
};

uint32_t ftype_of(Mix mix, DType base) {
  switch (mix) {
    case Mix::Q2_K: return 10;
    case Mix::Q4_K_M: return 15;
    case Mix::Q5_K_M: return 17;
    case Mix::Pure:
    case Mix::Iq: break;
  }
  switch (base) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q3_K: return 11;
    case DType::Q4_K: return 14;
    case DType::Q5_K: return 16;
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: return 0;
  }
}

// The shape of the file that the per-tensor rules read.
struct Shape {
  int n_layer = 0, n_expert = 0, n_gqa = 1, n_attn_v = 0;
  bool tied = false;
};

// Per-tensor counters, in file order (llama.cpp counts tensors, not layers, for some rules).
struct Counters {
  int attn_v = 0, ffn_down = 0;
};

// llama.cpp's choice for a tensor of an i-quant file (llama_tensor_get_type: the low-bit rules
// for IQ1_S/IQ1_M/IQ2_*, the others for IQ3_*/IQ4_*), before the shape fallback.
DType iq_tensor_type(const std::string& ft, DType base, const std::string& n, const Shape& s, Counters& c,
                     bool imatrix) {
  const bool low = ft == "iq1_s" || ft == "iq1_m" || ft == "iq2_xxs" || ft == "iq2_xs" || ft == "iq2_s" || ft == "iq2_m";
  const bool iq2sm = ft == "iq2_s" || ft == "iq2_m";
  const bool output = n == "output.weight" || (s.tied && n == "token_embd.weight");
  if (output) return low || ft == "iq3_xxs" ? DType::Q5_K : DType::Q6_K;
  if (n == "token_embd.weight") {
    if (low) return iq2sm ? DType::IQ3_S : DType::Q2_K;
    return ft == "iq3_xxs" ? DType::IQ3_S : base;
  }
  const bool attn_v = contains(n, "attn_v.weight") || contains(n, "attn_kv_b.weight") || contains(n, "attn_qkv.weight");
  if (low) {
    if (attn_v) {
      ++c.attn_v;
      return s.n_gqa >= 4 || s.n_expert >= 4 ? DType::Q4_K : iq2sm ? DType::IQ3_S : DType::Q2_K;
    }
    if (contains(n, "attn_k.weight")) return s.n_expert == 8 ? DType::Q4_K : base;
    if (contains(n, "ffn_down")) {
      const bool first = c.ffn_down++ < s.n_layer / 8;
      return first ? (iq2sm ? DType::IQ3_S : DType::Q2_K) : base;
    }
    if (contains(n, "attn_output.weight")) {
      if (s.n_expert == 8) return DType::Q5_K;
      if (ft == "iq1_s" || ft == "iq1_m") return DType::IQ2_XXS;
      return iq2sm ? DType::IQ3_S : base;
    }
    return base;
  }
  const bool iq4 = ft == "iq4_nl" || ft == "iq4_xs";
  DType t = base;
  if (attn_v) {
    ++c.attn_v;
    if (ft == "iq3_xxs") t = s.n_gqa >= 4 ? DType::Q4_K : imatrix ? DType::IQ3_XXS : DType::IQ3_S;
    if (iq4 && s.n_gqa >= 4) t = DType::Q5_K;
    if (s.n_expert == 8) t = DType::Q8_0;
  } else if (contains(n, "attn_k.weight")) {
    if (s.n_expert == 8) {
      t = DType::Q8_0;
    } else if (ft == "iq3_xxs") {
      t = DType::IQ2_S;
    }
  } else if (contains(n, "attn_q.weight")) {
    if (ft == "iq3_xxs") t = DType::IQ2_S;
  } else if (contains(n, "ffn_down")) {
    const int il = s.n_expert > 1 ? layer_of(n) : c.ffn_down;
    ++c.ffn_down;
    if (ft == "iq3_xxs" && !imatrix) t = il < s.n_layer / 8 ? DType::Q4_K : DType::Q3_K;
    if (iq4 && !imatrix && il < s.n_layer / 8) t = DType::Q5_K;
  } else if (contains(n, "attn_output.weight")) {
    if (s.n_expert == 8 && (ft == "iq3_xxs" || ft == "iq3_s" || iq4)) {
      t = DType::Q5_K;
    } else if (ft == "iq3_xxs") {
      t = DType::IQ3_S;
    }
  }
  return t;
}

// The K-quant mixes' rules (as before the i-quants): output Q6_K, attn_v / ffn_down bumped.
DType k_tensor_type(Mix mix, DType base, const std::string& n, const Shape& s, Counters& c, int64_t ne0) {
  const bool output = n == "output.weight" || (s.tied && n == "token_embd.weight");
  const bool iq4 = base == DType::IQ4_NL || base == DType::IQ4_XS;
  DType type = base;
  if (output) {
    type = ne0 % 256 != 0 ? DType::Q8_0 : base != DType::Q8_0 ? DType::Q6_K : base;
  } else if (contains(n, "attn_v.weight") || contains(n, "attn_kv_b.weight")) {
    if (mix == Mix::Q2_K) type = DType::Q3_K;
    if ((mix == Mix::Q4_K_M || mix == Mix::Q5_K_M) && use_more_bits(c.attn_v, s.n_attn_v)) type = DType::Q6_K;
    if (iq4 && s.n_gqa >= 4) type = DType::Q5_K;
    if (s.n_expert == 8) type = DType::Q8_0;
    ++c.attn_v;
  } else if (contains(n, "attn_k.weight") && s.n_expert == 8) {
    type = DType::Q8_0;
  } else if (contains(n, "ffn_down")) {
    const int il = s.n_expert > 1 ? layer_of(n) : c.ffn_down;
    if (mix == Mix::Q2_K) type = DType::Q3_K;
    if ((mix == Mix::Q4_K_M || mix == Mix::Q5_K_M) && use_more_bits(il, s.n_layer)) type = DType::Q6_K;
    ++c.ffn_down;
  } else if (contains(n, "attn_output.weight")) {
    if (s.n_expert == 8 && (mix == Mix::Q2_K || mix == Mix::Q4_K_M)) type = DType::Q5_K;
    if (s.n_expert != 8 && mix == Mix::Q2_K) type = DType::Q3_K;
  }
  return type;
}

const char* kTargets =
    "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q3_k, q4_k, q5_k, q6_k, q2_k, q4_k_m, q5_k_m, iq1_s, iq1_m, iq2_xxs, "
    "iq2_xs, iq2_s, iq2_m, iq3_xxs, iq3_s, iq4_nl, iq4_xs";

}  // namespace

void quantize_model(const std::string& in, const std::string& out, const std::string& target,
                    const std::function<void(size_t, size_t)>& progress, const QuantizeOptions& opts) {
  const std::string t = lower(target);
  Mix mix = Mix::Pure;
  DType base = DType::F32;
  uint32_t ftype = 0;
  if (t == "q4_k_m") {
    mix = Mix::Q4_K_M, base = DType::Q4_K;
  } else if (t == "q5_k_m") {
    mix = Mix::Q5_K_M, base = DType::Q5_K;
  } else if (t == "q2_k") {
    mix = Mix::Q2_K, base = DType::Q2_K;
  } else {
    bool iq = false;
    for (const IqFtype& f : kIqFtypes) {
      if (t == f.name) iq = true, mix = Mix::Iq, base = f.base, ftype = f.ftype;
    }
    if (!iq && (!parse_type_name(t, &base) || base == DType::Q8_K || base == DType::Q8_1))
      throw Error("quantize: unknown target type '" + target + "' (" + kTargets + ")");
  }
  if (mix != Mix::Iq) ftype = ftype_of(mix, base);
  if (!traits(base).from_float) throw Error("quantize: dawn cannot write " + std::string(type_name(base)));
  const TensorTypes overrides(opts.tensor_types, "quantize");
  Imatrix imatrix;
  const bool have_imatrix = !opts.imatrix.empty();
  if (have_imatrix) imatrix = Imatrix::load(opts.imatrix);
  if (mix == Mix::Iq && !have_imatrix && traits(base).needs_imatrix) {
    throw Error("quantize: " + t + " needs an importance matrix (--imatrix FILE, from dawn imatrix or llama-imatrix): "
                "without one, as llama.cpp says, the result is garbage");
  }
  auto f = GgufFile::open(in);
  const std::string arch = f->get_str("general.architecture");
  Shape shape;
  shape.n_layer = int(f->get_u32(arch + ".block_count"));
  shape.n_expert = int(f->get_u32(arch + ".expert_count", 0));
  const uint32_t n_head = f->get_u32(arch + ".attention.head_count", 1);
  shape.n_gqa = int(n_head / std::max(1u, f->get_u32(arch + ".attention.head_count_kv", n_head)));
  shape.tied = f->find_tensor("output.weight") == nullptr;
  for (const GgufTensor& x : f->tensors())
    shape.n_attn_v += contains(x.name, "attn_v.weight") || contains(x.name, "attn_kv_b.weight");
  const bool is_quantized = base != DType::F32 && base != DType::F16 && base != DType::BF16;
  Counters counters;

  GgufWriter w;
  for (const GgufKV& kv : f->kvs()) {
    if (kv.key != "general.file_type" && kv.key.rfind("quantize.imatrix.", 0) != 0) w.copy_kv(kv);
  }
  w.set_u32("general.file_type", ftype);
  w.set_u32("general.quantization_version", 2);
  if (have_imatrix) {
    // Names only, not paths: the same inputs give the same bytes wherever they lie.
    w.set_str("quantize.imatrix.file", std::filesystem::path(opts.imatrix).filename().string());
    if (!imatrix.datasets.empty()) w.set_str("quantize.imatrix.dataset", imatrix.datasets[0]);
    w.set_i32("quantize.imatrix.entries_count", int32_t(imatrix.entries.size()));
    w.set_i32("quantize.imatrix.chunks_count", int32_t(imatrix.chunk_count));
  }
  // Rows are quantized independently: all cores share each tensor.
  ThreadPool pool(int(std::max(1u, std::thread::hardware_concurrency())));
  for (const GgufTensor& x : f->tensors()) {
    DType type = x.type;
    const std::string& n = x.name;
    if (quantizable(x)) {
      if (!is_quantized) {
        type = base;
      } else if (mix == Mix::Iq) {
        type = iq_tensor_type(t, base, n, shape, counters, have_imatrix);
      } else {
        type = k_tensor_type(mix, base, n, shape, counters, x.ne[0]);
      }
      type = overrides.apply(n, type);
      type = fallback_type(type, x.ne[0]);
    }
    const int64_t n_mat = x.ne[2] * x.ne[3];
    std::optional<std::vector<float>> im;
    if (type != x.type && have_imatrix) {
      im = imatrix.values(n);
      if (im && im->size() != size_t(x.ne[0] * n_mat)) {
        throw Error("quantize: " + opts.imatrix + ": " + n + " has " + std::to_string(im->size()) +
                    " importance values, the tensor " + std::to_string(x.ne[0] * n_mat) + " (ne0 x matrices)");
      }
    }
    if (type != x.type && traits(type).needs_imatrix && !im && n != "token_embd.weight" && n != "output.weight") {
      throw Error("quantize: " + n + " would be " + type_name(type) + ", which needs importance values, and " +
                  (have_imatrix ? opts.imatrix + " has none for it" : std::string("no --imatrix was given")) +
                  " (or choose another type for it with --tensor-type)");
    }
    std::vector<int64_t> ne(x.ne, x.ne + x.n_dims);
    const GgufTensor* src = &x;
    w.add_tensor(n, type, ne, [src, type, im = std::move(im), &pool](uint8_t* dst) {
      const int64_t cols = src->ne[0], rows = src->nelements() / cols, rows_per_mat = src->ne[1];
      if (type == src->type) {
        std::copy(src->data, src->data + src->nbytes, dst);
        return;
      }
      const size_t in_rb = row_bytes(src->type, cols), out_rb = row_bytes(type, cols);
      const TypeTraits& tt = traits(type);
      pool.parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
          traits(src->type).to_float(src->data + size_t(r) * in_rb, row.data(), cols);
          if (im && tt.quantize) {
            tt.quantize(row.data(), dst + size_t(r) * out_rb, cols, im->data() + (r / rows_per_mat) * cols);
          } else {
            tt.from_float(row.data(), dst + size_t(r) * out_rb, cols);
          }
        }
      });
    });
  }
  w.write(out, progress);
}

}  // namespace dawn
