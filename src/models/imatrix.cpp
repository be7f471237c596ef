#include "models/imatrix.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "engine/session.h"
#include "formats/gguf.h"
#include "kernels/types.h"
#include "models/model.h"
#include "ops/matmul.h"
#include "util/error.h"

namespace dawn {

std::optional<std::vector<float>> Imatrix::values(const std::string& tensor) const {
  const auto it = entries.find(tensor);
  if (it == entries.end()) return std::nullopt;
  const ImatrixEntry& e = it->second;
  std::vector<float> v(size_t(e.ne0) * size_t(e.n_mat));
  for (int k = 0; k < e.n_mat; ++k) {
    for (int64_t j = 0; j < e.ne0; ++j) {
      const size_t at = size_t(k) * size_t(e.ne0) + size_t(j);
      v[at] = e.counts[size_t(k)] > 0 ? float(e.sum2[at] / e.counts[size_t(k)]) : 1.0f;
    }
  }
  return v;
}

void Imatrix::write_gguf(const std::string& path) const {
  GgufWriter w;
  w.set_str("general.type", "imatrix");
  w.set_str_array("imatrix.datasets", datasets);
  w.set_u32("imatrix.chunk_count", uint32_t(chunk_count));
  w.set_u32("imatrix.chunk_size", uint32_t(chunk_size));
  for (const auto& [name, e] : entries) {
    const ImatrixEntry* p = &e;
    // As llama-imatrix writes them: experts as [ne0, n_expert] with a count each; any other
    // weight as one row of ne0 x slices values (a 3-D attn_k_b: its heads side by side) and one
    // count (every head sees every token).
    if (name.find("_exps.") == std::string::npos) {
      w.add_tensor(name + ".in_sum2", DType::F32, {e.ne0 * e.n_mat}, [p](uint8_t* dst) {
        for (size_t i = 0; i < p->sum2.size(); ++i) {
          const float v = float(p->sum2[i]);
          std::memcpy(dst + 4 * i, &v, 4);
        }
      });
      w.add_tensor(name + ".counts", DType::F32, {1}, [p](uint8_t* dst) {
        const float v = float(p->counts[0]);
        std::memcpy(dst, &v, 4);
      });
      continue;
    }
    w.add_tensor(name + ".in_sum2", DType::F32, {e.ne0, e.n_mat}, [p](uint8_t* dst) {
      for (size_t i = 0; i < p->sum2.size(); ++i) {
        const float v = float(p->sum2[i]);
        std::memcpy(dst + 4 * i, &v, 4);
      }
    });
    w.add_tensor(name + ".counts", DType::F32, {1, e.n_mat}, [p](uint8_t* dst) {
      for (size_t i = 0; i < p->counts.size(); ++i) {
        const float v = float(p->counts[i]);
        std::memcpy(dst + 4 * i, &v, 4);
      }
    });
  }
  w.write(path);
}

namespace {

void put_i32(std::ofstream& out, int32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); }

}  // namespace

// Legacy: mean(x^2) * ncall per value and one ncall per entry (per-expert counts are lost, as
// in llama.cpp's writer: ncall is the largest count over the chunk size, rounded up).
void Imatrix::write_dat(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(path + ": cannot write the importance matrix");
  int32_t n = 0;
  for (const auto& [name, e] : entries) n += *std::max_element(e.counts.begin(), e.counts.end()) > 0;
  put_i32(out, n);
  for (const auto& [name, e] : entries) {
    const double max_count = *std::max_element(e.counts.begin(), e.counts.end());
    if (max_count <= 0) continue;
    const int32_t ncall = int32_t(std::ceil(max_count / std::max(1, chunk_size)));
    put_i32(out, int32_t(name.size()));
    out.write(name.data(), std::streamsize(name.size()));
    put_i32(out, ncall);
    put_i32(out, int32_t(e.sum2.size()));
    for (int k = 0; k < e.n_mat; ++k) {
      for (int64_t j = 0; j < e.ne0; ++j) {
        const double c = e.counts[size_t(k)];
        const float v = float((c > 0 ? e.sum2[size_t(k) * size_t(e.ne0) + size_t(j)] / c : 1.0) * ncall);
        out.write(reinterpret_cast<const char*>(&v), 4);
      }
    }
  }
  put_i32(out, chunk_count);
  const std::string ds = datasets.empty() ? std::string() : datasets[0];
  put_i32(out, int32_t(ds.size()));
  out.write(ds.data(), std::streamsize(ds.size()));
  if (!out) throw Error(path + ": write failed");
}

Imatrix Imatrix::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open the importance matrix");
  char magic[4] = {};
  in.read(magic, 4);
  Imatrix im;
  if (std::memcmp(magic, "GGUF", 4) == 0) {
    in.close();
    auto f = GgufFile::open(path);
    if (!f->find("imatrix.chunk_count")) throw Error(path + ": GGUF without imatrix.* keys, not an importance matrix");
    im.chunk_count = int(f->get_u32("imatrix.chunk_count"));
    im.chunk_size = int(f->get_u32("imatrix.chunk_size", 0));
    if (const GgufKV* kv = f->find("imatrix.datasets")) {
      for (std::string_view s : kv->strings) im.datasets.emplace_back(s);
    }
    for (const GgufTensor& t : f->tensors()) {
      const std::string suffix = ".in_sum2";
      if (t.name.size() <= suffix.size() || t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      const std::string name = t.name.substr(0, t.name.size() - suffix.size());
      const GgufTensor* c = f->find_tensor(name + ".counts");
      if (!c) throw Error(path + ": " + t.name + " has no " + name + ".counts");
      if (t.type != DType::F32 || c->type != DType::F32 || c->nelements() != t.ne[1])
        throw Error(path + ": " + name + ": sums and counts must be F32 with one count per matrix");
      ImatrixEntry e;
      e.ne0 = t.ne[0];
      e.n_mat = int(t.ne[1]);
      e.sum2.resize(size_t(t.nelements()));
      e.counts.resize(size_t(e.n_mat));
      for (size_t i = 0; i < e.sum2.size(); ++i) {
        float v;
        std::memcpy(&v, t.data + 4 * i, 4);
        if (!std::isfinite(v)) throw Error(path + ": " + name + " holds a non-finite value");
        e.sum2[i] = v;
      }
      for (int k = 0; k < e.n_mat; ++k) {
        float v;
        std::memcpy(&v, c->data + 4 * k, 4);
        e.counts[size_t(k)] = v;
      }
      im.entries[name] = std::move(e);
    }
    return im;
  }
  // Legacy .dat: int32 entries; per entry name, ncall, nval, values (mean x^2 * ncall).
  in.seekg(0);
  const auto get_i32 = [&](const char* what) {
    int32_t v = 0;
    in.read(reinterpret_cast<char*>(&v), 4);
    if (!in) throw Error(path + ": truncated legacy importance matrix (reading " + what + ")");
    return v;
  };
  const int32_t n = get_i32("the entry count");
  if (n < 0 || n > 1000000) throw Error(path + ": not an importance matrix (entry count " + std::to_string(n) + ")");
  for (int32_t i = 0; i < n; ++i) {
    const int32_t len = get_i32("a name length");
    if (len <= 0 || len > 4096) throw Error(path + ": bad name length " + std::to_string(len) + " in entry " + std::to_string(i));
    std::string name(size_t(len), '\0');
    in.read(name.data(), len);
    const int32_t ncall = get_i32("a call count"), nval = get_i32("a value count");
    if (nval <= 0 || nval > (1 << 28)) throw Error(path + ": " + name + ": bad value count " + std::to_string(nval));
    ImatrixEntry e;
    e.ne0 = nval;  // the tensor's ne0 is not stored: quantize splits by its own shape
    e.sum2.resize(size_t(nval));
    e.counts = {double(std::max(ncall, 1))};
    for (int32_t j = 0; j < nval; ++j) {
      float v;
      in.read(reinterpret_cast<char*>(&v), 4);
      if (!in) throw Error(path + ": " + name + ": truncated values");
      if (!std::isfinite(v)) throw Error(path + ": " + name + " holds a non-finite value");
      e.sum2[size_t(j)] = v;
    }
    im.entries[name] = std::move(e);
  }
  int32_t last = 0, ds_len = 0;
  if (in.read(reinterpret_cast<char*>(&last), 4) && in.read(reinterpret_cast<char*>(&ds_len), 4) && ds_len > 0 &&
      ds_len < 65536) {
    std::string ds(size_t(ds_len), '\0');
    if (in.read(ds.data(), ds_len)) im.datasets.push_back(ds);
    im.chunk_count = last;
  }
  return im;
}

namespace {

// Where each tensor's bytes are in the mapping, to name the weight of a product.
struct Span {
  const uint8_t* begin;
  const uint8_t* end;
  const GgufTensor* t;
};

struct Collector {
  std::vector<Span> spans;  // sorted by begin
  Imatrix* im;

  void observe(const Weight& w, const float* x, const int32_t* rows, int64_t n) {
    if (n <= 0 || w.empty()) return;
    auto it = std::upper_bound(spans.begin(), spans.end(), w.data,
                               [](const uint8_t* p, const Span& s) { return p < s.begin; });
    if (it == spans.begin()) return;
    --it;
    if (w.data >= it->end) return;  // a copy (legacy k_b / v_b, F32 conversions): not a file tensor
    const GgufTensor& t = *it->t;
    if (t.name.rfind("blk.", 0) != 0 || t.ne[0] != w.cols) return;
    const size_t mat_bytes = row_bytes(t.type, t.ne[0]) * size_t(t.ne[1]);
    const int mat = int(size_t(w.data - it->begin) / mat_bytes);
    ImatrixEntry& e = im->entries[t.name];
    if (e.sum2.empty()) {
      e.ne0 = t.ne[0];
      e.n_mat = int(t.ne[2] * t.ne[3]);
      e.sum2.assign(size_t(e.ne0) * size_t(e.n_mat), 0.0);
      e.counts.assign(size_t(e.n_mat), 0.0);
    }
    double* s = e.sum2.data() + size_t(mat) * size_t(e.ne0);
    for (int64_t r = 0; r < n; ++r) {
      const float* row = x + int64_t(rows ? rows[r] : r) * w.cols;
      for (int64_t j = 0; j < w.cols; ++j) s[j] += double(row[j]) * row[j];
    }
    e.counts[size_t(mat)] += double(n);
  }
};

}  // namespace

Imatrix collect_imatrix(const Model& m, const std::vector<int32_t>& tokens, int n_ctx, int bos, int max_chunks,
                        int threads, const std::function<void(int, int)>& progress) {
  Imatrix im;
  Collector c;
  c.im = &im;
  for (const GgufTensor& t : m.file->tensors()) c.spans.push_back({t.data, t.data + t.nbytes, &t});
  std::sort(c.spans.begin(), c.spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  // As llama-imatrix: BOS before the text, chunks of n_ctx, each chunk's first token made BOS.
  std::vector<int32_t> all;
  if (bos >= 0) all.push_back(bos);
  all.insert(all.end(), tokens.begin(), tokens.end());
  if (n_ctx < 2) throw Error("imatrix: a context of " + std::to_string(n_ctx) + " tokens is too short");
  int n_chunks = int(all.size() / size_t(n_ctx));
  if (max_chunks > 0) n_chunks = std::min(n_chunks, max_chunks);
  if (n_chunks == 0) {
    throw Error("imatrix: the text has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " +
                std::to_string(n_ctx) + " (lower -c)");
  }
  // The MTP layer runs too (llama.cpp's does not, so its imatrix has no blk.N.nextn entries and
  // llama-quantize cannot make a low-bit file of a model that keeps one).
  const bool mtp = !m.mtp_layers.empty();
  Session s(m, n_ctx, threads, KvType::F32, mtp);
  const MatmulObserver obs{[](void* ctx, const Weight& w, const float* x, const int32_t* rows, int64_t n) {
                             static_cast<Collector*>(ctx)->observe(w, x, rows, n);
                           },
                           &c};
  {
    // The observer is process-wide: cleared on every way out, a throw included.
    struct Watch {
      explicit Watch(const MatmulObserver* o) { set_matmul_observer(o); }
      ~Watch() { set_matmul_observer(nullptr); }
      Watch(const Watch&) = delete;
      Watch& operator=(const Watch&) = delete;
    } watch(&obs);
    std::vector<int32_t> chunk;
    for (int i = 0; i < n_chunks; ++i) {
      chunk.assign(all.begin() + int64_t(i) * n_ctx, all.begin() + int64_t(i + 1) * n_ctx);
      if (bos >= 0) chunk[0] = bos;
      s.reset();
      s.eval(chunk.data(), int(chunk.size()));
      if (mtp) s.eval_mtp(chunk.data() + 1, s.hidden(), int(chunk.size()) - 1);
      if (progress) progress(i + 1, n_chunks);
    }
  }
  im.chunk_count = n_chunks;
  im.chunk_size = n_ctx;
  return im;
}

}  // namespace dawn
