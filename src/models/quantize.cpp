#include "models/quantize.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <thread>
#include <vector>

#include "formats/gguf.h"
#include "kernels/thread_pool.h"
#include "kernels/types.h"
#include "models/synth.h"
#include "util/error.h"

namespace dawn {

namespace {

enum class Mix { Pure, Q2_K, Q4_K_M, Q5_K_M };

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

uint32_t ftype_of(Mix mix, DType base) {
  switch (mix) {
    case Mix::Q2_K: return 10;
    case Mix::Q4_K_M: return 15;
    case Mix::Q5_K_M: return 17;
    case Mix::Pure: break;
  }
  switch (base) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
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

}  // namespace

void quantize_model(const std::string& in, const std::string& out, const std::string& target,
                    const std::function<void(size_t, size_t)>& progress) {
  std::string t = target;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  Mix mix = Mix::Pure;
  DType base;
  if (t == "q4_k_m") {
    mix = Mix::Q4_K_M, base = DType::Q4_K;
  } else if (t == "q5_k_m") {
    mix = Mix::Q5_K_M, base = DType::Q5_K;
  } else if (t == "q2_k") {
    mix = Mix::Q2_K, base = DType::Q2_K;
  } else if (!parse_type_name(t, &base) || base == DType::Q8_K || base == DType::Q8_1) {
    throw Error("quantize: unknown target type '" + target +
                "' (f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q2_k, q3_k, q4_k, "
                "q5_k, q6_k, q4_k_m, q5_k_m)");
  }
  auto f = GgufFile::open(in);
  const std::string arch = f->get_str("general.architecture");
  const uint32_t n_layer = f->get_u32(arch + ".block_count");
  const uint32_t n_expert = f->get_u32(arch + ".expert_count", 0);
  const bool is_quantized = base != DType::F32 && base != DType::F16 && base != DType::BF16;
  const bool tied = f->find_tensor("output.weight") == nullptr;

  int n_attn_v = 0;
  for (const GgufTensor& x : f->tensors())
    n_attn_v += contains(x.name, "attn_v.weight") || contains(x.name, "attn_kv_b.weight");
  int i_attn_v = 0, i_ffn_down = 0;

  GgufWriter w;
  for (const GgufKV& kv : f->kvs()) {
    if (kv.key != "general.file_type") w.copy_kv(kv);
  }
  w.set_u32("general.file_type", ftype_of(mix, base));
  w.set_u32("general.quantization_version", 2);
  // Rows are quantized independently: all cores share each tensor.
  ThreadPool pool(int(std::max(1u, std::thread::hardware_concurrency())));
  for (const GgufTensor& x : f->tensors()) {
    DType type = x.type;
    if (quantizable(x)) {
      type = base;
      const std::string& n = x.name;
      if (is_quantized) {
        const bool output = n == "output.weight" || (tied && n == "token_embd.weight");
        if (output) {
          type = x.ne[0] % 256 != 0 ? DType::Q8_0 : base != DType::Q8_0 ? DType::Q6_K : base;
        } else if (contains(n, "attn_v.weight") || contains(n, "attn_kv_b.weight")) {
          if (mix == Mix::Q2_K) type = DType::Q3_K;
          if ((mix == Mix::Q4_K_M || mix == Mix::Q5_K_M) && use_more_bits(i_attn_v, n_attn_v)) type = DType::Q6_K;
          if (n_expert == 8) type = DType::Q8_0;
          ++i_attn_v;
        } else if (contains(n, "attn_k.weight") && n_expert == 8) {
          type = DType::Q8_0;
        } else if (contains(n, "ffn_down")) {
          const int il = n_expert > 1 ? layer_of(n) : i_ffn_down;
          if (mix == Mix::Q2_K) type = DType::Q3_K;
          if ((mix == Mix::Q4_K_M || mix == Mix::Q5_K_M) && use_more_bits(il, int(n_layer))) type = DType::Q6_K;
          ++i_ffn_down;
        } else if (contains(n, "attn_output.weight")) {
          if (n_expert == 8 && (mix == Mix::Q2_K || mix == Mix::Q4_K_M)) type = DType::Q5_K;
          if (n_expert != 8 && mix == Mix::Q2_K) type = DType::Q3_K;
        }
      }
      type = fallback_type(type, x.ne[0]);
    }
    std::vector<int64_t> ne(x.ne, x.ne + x.n_dims);
    const GgufTensor* src = &x;
    w.add_tensor(x.name, type, ne, [src, type, &pool](uint8_t* dst) {
      const int64_t cols = src->ne[0], rows = src->nelements() / cols;
      if (type == src->type) {
        std::copy(src->data, src->data + src->nbytes, dst);
        return;
      }
      const size_t in_rb = row_bytes(src->type, cols), out_rb = row_bytes(type, cols);
      pool.parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
          traits(src->type).to_float(src->data + size_t(r) * in_rb, row.data(), cols);
          traits(type).from_float(row.data(), dst + size_t(r) * out_rb, cols);
        }
      });
    });
  }
  w.write(out, progress);
}

}  // namespace dawn
