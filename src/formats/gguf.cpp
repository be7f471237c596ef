#include "formats/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "util/error.h"
#include "util/progress.h"

namespace dawn {

namespace {

constexpr uint64_t kMaxNameLen = 63;  // ggml's GGML_MAX_NAME less the terminator

size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL: return 1;
    case GgufType::U16:
    case GgufType::I16: return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32: return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64: return 8;
    default: return 0;
  }
}

bool known_type(uint32_t t) { return t <= uint32_t(GgufType::F64); }

// Printable, bounded rendering of untrusted bytes for error messages.
std::string show(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 48; ++i) {
    const unsigned char c = s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 48) out += "...";
  return out + "\"";
}

struct Cursor {
  const GgufFile& f;
  const uint8_t* base;
  size_t size;
  size_t pos = 0;

  void need(size_t n, std::string_view field) {
    if (n > size - pos) {
      f.fail(field, "file truncated at byte " + std::to_string(pos) + " (needs " + std::to_string(n) +
                        " more bytes, file has " + std::to_string(size) + ")");
    }
  }
  template <typename T>
  T get(std::string_view field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, base + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string_view str(std::string_view field) {
    const uint64_t n = get<uint64_t>(field);
    need(n, field);
    std::string_view s(reinterpret_cast<const char*>(base + pos), n);
    pos += n;
    return s;
  }
};

}  // namespace

const char* gguf_type_name(GgufType t) {
  static const char* names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                "bool", "string", "array", "u64", "i64", "f64"};
  return known_type(uint32_t(t)) ? names[uint32_t(t)] : "unknown";
}

void GgufFile::fail(std::string_view field, std::string_view what) const {
  throw Error(path_ + ": " + std::string(field) + ": " + std::string(what));
}

namespace {

struct Mapping {
  void* map;
  size_t len;
  const uint8_t* base;
};

// Reads the spans [begin, end) of fd (sorted, disjoint) into a private anonymous mapping of the
// file's size, aligned to and advised for huge pages, at the same offsets; the rest of it is never
// touched, so takes no memory. Left writable: see GgufFile::seal.
Mapping copy_to_huge_pages(const GgufFile& f, int fd, size_t size, const std::vector<std::pair<size_t, size_t>>& spans,
                           const std::string& label) {
  constexpr size_t kHuge = size_t(2) << 20;
  const size_t len = size + kHuge;
  void* map = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) {
    f.fail("read", "cannot allocate " + std::to_string(size >> 20) + " MiB for the weights: " + std::strerror(errno));
  }
  uint8_t* base = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(map) + kHuge - 1) & ~(kHuge - 1));
  madvise(base, size, MADV_HUGEPAGE);
  size_t total = 0, done = 0;
  for (const auto& [begin, end] : spans) total += end - begin;
  Progress bar(label);
  for (const auto& [begin, end] : spans) {
    for (size_t at = begin; at < end;) {
      const ssize_t r = pread(fd, base + at, std::min(end - at, size_t(64) << 20), off_t(at));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        munmap(map, len);
        f.fail("read", r < 0 ? std::strerror(errno) : "file shrank while being read");
      }
      at += size_t(r);
      done += size_t(r);
      bar.update(done, total);
    }
  }
  return {map, len, base};
}

}  // namespace

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path, Residency r) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) f->fail("open", std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    f->fail("open", "not a regular file");
  }
  f->size_ = size_t(st.st_size);
  if (f->size_ == 0) {
    ::close(fd);
    f->fail("header.magic", "file is empty");
  }
  if (r == Residency::Copy) {
    Mapping m;
    try {
      m = copy_to_huge_pages(*f, fd, f->size_, {{0, f->size_}}, "loading " + path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    f->map_ = m.map;
    f->map_len_ = m.len;
    f->base_ = m.base;
  } else {
    void* p = mmap(nullptr, f->size_, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) f->fail("mmap", std::strerror(errno));
    f->map_ = p;
    f->map_len_ = f->size_;
    f->base_ = static_cast<const uint8_t*>(p);
  }
  f->residency_ = r;
  f->parse();
  return f;
}

namespace {

// The page-aligned span of [offset, offset + bytes) within a mapping at base.
std::pair<void*, size_t> page_span(const uint8_t* base, size_t size, size_t offset, size_t bytes) {
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  if (offset >= size) return {nullptr, 0};
  bytes = std::min(bytes, size - offset);
  const size_t begin = offset / page * page;
  return {const_cast<uint8_t*>(base) + begin, offset + bytes - begin};
}

}  // namespace

void GgufFile::advise_willneed(const uint8_t* p, size_t bytes) const {
  auto [a, n] = page_span(base_, size_, size_t(p - base_), bytes);
  if (n) madvise(a, n, MADV_WILLNEED);
}

void GgufFile::advise_random(const uint8_t* p, size_t bytes) const {
  auto [a, n] = page_span(base_, size_, size_t(p - base_), bytes);
  if (n) madvise(a, n, MADV_RANDOM);
}

void GgufFile::lock() const {
  if (mlock(base_, size_) != 0) {
    fail("--mlock", std::string("cannot lock ") + std::to_string(size_ >> 20) + " MiB in memory: " +
                        std::strerror(errno) + " (raise the limit: ulimit -l, or LimitMEMLOCK for a service)");
  }
}

void GgufFile::lock(const uint8_t* p, size_t bytes) const {
  auto [a, n] = page_span(base_, size_, size_t(p - base_), bytes);
  if (n && mlock(a, n) != 0) {
    fail("--mlock", std::string("cannot lock ") + std::to_string(n >> 20) + " MiB in memory: " + std::strerror(errno) +
                        " (raise the limit: ulimit -l, or LimitMEMLOCK for a service)");
  }
}

void GgufFile::copy_part(const std::function<std::pair<size_t, size_t>(const GgufTensor&)>& want) {
  if (residency_ != Residency::Map) fail("read", "only a mapped file can be copied in part");
  std::vector<std::pair<size_t, size_t>> spans = {{0, data_start_}};  // [begin, end) in the file
  for (const GgufTensor& t : tensors_) {
    auto [from, to] = want(t);
    to = std::min(to, t.nbytes);
    if (from < to) spans.push_back({size_t(t.data - base_) + from, size_t(t.data - base_) + to});
  }
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<size_t, size_t>> merged;
  for (const auto& sp : spans) {
    if (!merged.empty() && sp.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, sp.second);
    } else {
      merged.push_back(sp);
    }
  }
  size_t total = 0;
  for (const auto& sp : merged) total += sp.second - sp.first;
  const int fd = ::open(path_.c_str(), O_RDONLY);
  if (fd < 0) fail("open", std::strerror(errno));
  Mapping m;
  try {
    m = copy_to_huge_pages(*this, fd, size_, merged,
                           "loading " + path_ + " (" + std::to_string(total >> 20) + " of " +
                               std::to_string(size_ >> 20) + " MiB)");
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  munmap(map_, map_len_);
  map_ = m.map;
  map_len_ = m.len;
  base_ = m.base;
  residency_ = Residency::Copy;
  kvs_.clear();
  tensors_.clear();
  kv_index_.clear();
  tensor_index_.clear();
  parse();  // the same bytes: only the pointers move
}

uint8_t* GgufFile::writable(const uint8_t* p) const {
  if (residency_ != Residency::Copy) fail("weights", "a mapped file is read-only");
  return const_cast<uint8_t*>(p);
}

void GgufFile::seal() const {
  if (residency_ == Residency::Copy) mprotect(map_, map_len_, PROT_READ);
}

GgufFile::~GgufFile() {
  if (map_) munmap(map_, map_len_);
}

void GgufFile::parse() {
  Cursor c{*this, base_, size_};
  c.need(4, "header.magic");
  if (std::memcmp(base_, "GGUF", 4) != 0) {
    fail("header.magic", "expected \"GGUF\", got " + show({reinterpret_cast<const char*>(base_), 4}));
  }
  c.pos = 4;
  version_ = c.get<uint32_t>("header.version");
  if (version_ != 2 && version_ != 3) {
    fail("header.version", "unsupported version " + std::to_string(version_) + " (dawn reads 2 and 3)");
  }
  const uint64_t n_tensors = c.get<uint64_t>("header.n_tensors");
  const uint64_t n_kv = c.get<uint64_t>("header.n_kv");
  // Each KV takes at least 13 bytes and each tensor info at least 32: bound the counts
  // by the file size before reserving anything.
  if (n_kv > (size_ - c.pos) / 13) {
    fail("header.n_kv", std::to_string(n_kv) + " key/value pairs cannot fit in " + std::to_string(size_) + " bytes");
  }
  if (n_tensors > (size_ - c.pos) / 32) {
    fail("header.n_tensors", std::to_string(n_tensors) + " tensors cannot fit in " + std::to_string(size_) + " bytes");
  }

  kvs_.reserve(n_kv);  // the indexes view keys in place: no reallocation allowed
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string idx = "kv[" + std::to_string(i) + "]";
    GgufKV kv;
    kv.key = std::string(c.str(idx + ".key"));
    if (kv.key.empty()) fail(idx + ".key", "empty key");
    const std::string field = "key '" + kv.key + "'";
    const uint32_t t = c.get<uint32_t>(field + ".type");
    if (!known_type(t)) fail(field, "unknown value type " + std::to_string(t));
    kv.type = GgufType(t);
    if (kv.type == GgufType::STRING) {
      kv.strings.push_back(c.str(field));
    } else if (kv.type == GgufType::ARRAY) {
      const uint32_t et = c.get<uint32_t>(field + ".elem_type");
      if (!known_type(et)) fail(field, "unknown array element type " + std::to_string(et));
      kv.elem_type = GgufType(et);
      if (kv.elem_type == GgufType::ARRAY) fail(field, "nested arrays are not supported");
      kv.count = c.get<uint64_t>(field + ".count");
      if (kv.elem_type == GgufType::STRING) {
        if (kv.count > (size_ - c.pos) / 8) {
          fail(field, "array of " + std::to_string(kv.count) + " strings cannot fit in the file");
        }
        kv.strings.reserve(kv.count);
        for (uint64_t j = 0; j < kv.count; ++j) kv.strings.push_back(c.str(field));
      } else {
        const size_t es = scalar_size(kv.elem_type);
        if (kv.count > (size_ - c.pos) / es) {
          fail(field, "array of " + std::to_string(kv.count) + " " + gguf_type_name(kv.elem_type) +
                          " runs past the end of the file");
        }
        kv.data = base_ + c.pos;
        c.pos += kv.count * es;
      }
    } else {
      const size_t es = scalar_size(kv.type);
      c.need(es, field);
      kv.data = base_ + c.pos;
      c.pos += es;
    }
    if (kv.type == GgufType::BOOL && *kv.data > 1) {
      fail(field, "bool value " + std::to_string(*kv.data) + " is neither 0 nor 1");
    }
    kvs_.push_back(std::move(kv));
    if (!kv_index_.emplace(kvs_.back().key, i).second) fail(field, "duplicate key");
  }

  if (const GgufKV* a = find("general.alignment")) {
    if (a->type != GgufType::U32) {
      fail("key 'general.alignment'", std::string("has type ") + gguf_type_name(a->type) + ", expected u32");
    }
    std::memcpy(&alignment_, a->data, 4);
    if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0) {
      fail("key 'general.alignment'", "value " + std::to_string(alignment_) + " is not a power of two");
    }
  }

  tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const std::string idx = "tensor[" + std::to_string(i) + "]";
    GgufTensor t;
    const std::string_view name = c.str(idx + ".name");
    if (name.empty()) fail(idx + ".name", "empty tensor name");
    if (name.size() > kMaxNameLen) {
      fail(idx + ".name", "name " + show(name) + " is longer than " + std::to_string(kMaxNameLen) + " bytes");
    }
    t.name = std::string(name);
    const std::string field = "tensor '" + t.name + "'";
    const uint32_t nd = c.get<uint32_t>(field + ".n_dims");
    if (nd == 0 || nd > kMaxDims) fail(field + ".n_dims", "value " + std::to_string(nd) + " is not in 1..4");
    t.n_dims = int(nd);
    uint64_t total = 1;
    for (int d = 0; d < kMaxDims; ++d) {
      uint64_t v = 1;
      if (d < t.n_dims) v = c.get<uint64_t>(field + ".ne");
      if (v > uint64_t(std::numeric_limits<int64_t>::max()) || (v != 0 && total > (uint64_t(1) << 62) / v)) {
        fail(field + ".ne[" + std::to_string(d) + "]",
             "dimension " + std::to_string(v) + " overflows the element count");
      }
      total *= v;
      t.ne[d] = int64_t(v);
    }
    const uint32_t ty = c.get<uint32_t>(field + ".type");
    const TypeTraits* tt = find_traits(ty);
    if (!tt || DType(ty) == DType::Q8_K)
      fail(field + ".type", "unknown or unsupported tensor type " + std::to_string(ty));
    t.type = DType(ty);
    if (t.ne[0] % tt->block != 0) {
      fail(field + ".ne[0]", "row length " + std::to_string(t.ne[0]) + " is not a multiple of " + tt->name +
                                 "'s block size " + std::to_string(tt->block));
    }
    t.nbytes = size_t(total / uint64_t(tt->block)) * size_t(tt->bytes);
    t.offset = c.get<uint64_t>(field + ".offset");
    if (t.offset % alignment_ != 0) {
      fail(field + ".offset",
           "offset " + std::to_string(t.offset) + " is not a multiple of the alignment " + std::to_string(alignment_));
    }
    tensors_.push_back(std::move(t));
    if (!tensor_index_.emplace(tensors_.back().name, i).second) fail(field, "duplicate tensor name");
  }

  const size_t data_start = (c.pos + alignment_ - 1) / alignment_ * alignment_;
  data_start_ = std::min(data_start, size_);
  if (!tensors_.empty() && data_start > size_) fail("data", "file truncated before the tensor data section");
  const size_t data_size = size_ - std::min(size_, data_start);
  std::vector<const GgufTensor*> order;
  for (GgufTensor& t : tensors_) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      fail("tensor '" + t.name + "'.offset",
           "data [" + std::to_string(t.offset) + ", " + std::to_string(t.offset + t.nbytes) +
               ") runs past the end of the file (" + std::to_string(data_size) + " data bytes)");
    }
    t.data = base_ + data_start + t.offset;
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i - 1]->offset + order[i - 1]->nbytes > order[i]->offset) {
      fail("tensor '" + order[i]->name + "'.offset", "data overlaps tensor '" + order[i - 1]->name + "'");
    }
  }
}

const GgufKV* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second];
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensor& GgufFile::tensor(std::string_view name) const {
  const GgufTensor* t = find_tensor(name);
  if (!t) fail("tensor '" + std::string(name) + "'", "required tensor is missing");
  return *t;
}

const GgufKV& GgufFile::expect(std::string_view key, GgufType t) const {
  const GgufKV* kv = find(key);
  const std::string field = "key '" + std::string(key) + "'";
  if (!kv) fail(field, "required key is missing");
  if (kv->type != t)
    fail(field, std::string("has type ") + gguf_type_name(kv->type) + ", expected " + gguf_type_name(t));
  return *kv;
}

uint32_t GgufFile::get_u32(std::string_view key) const {
  uint32_t v;
  std::memcpy(&v, expect(key, GgufType::U32).data, 4);
  return v;
}
float GgufFile::get_f32(std::string_view key) const {
  float v;
  std::memcpy(&v, expect(key, GgufType::F32).data, 4);
  return v;
}
bool GgufFile::get_bool(std::string_view key) const { return *expect(key, GgufType::BOOL).data != 0; }
std::string GgufFile::get_str(std::string_view key) const {
  return std::string(expect(key, GgufType::STRING).strings[0]);
}
uint32_t GgufFile::get_u32(std::string_view key, uint32_t fallback) const {
  return find(key) ? get_u32(key) : fallback;
}
float GgufFile::get_f32(std::string_view key, float fallback) const { return find(key) ? get_f32(key) : fallback; }
bool GgufFile::get_bool(std::string_view key, bool fallback) const { return find(key) ? get_bool(key) : fallback; }
std::string GgufFile::get_str(std::string_view key, std::string fallback) const {
  return find(key) ? get_str(key) : fallback;
}

const std::vector<std::string_view>& GgufFile::get_str_array(std::string_view key) const {
  const GgufKV& kv = expect(key, GgufType::ARRAY);
  if (kv.elem_type != GgufType::STRING) {
    fail("key '" + std::string(key) + "'",
         std::string("is an array of ") + gguf_type_name(kv.elem_type) + ", expected an array of string");
  }
  return kv.strings;
}

std::vector<int32_t> GgufFile::get_i32_array(std::string_view key) const {
  const GgufKV& kv = expect(key, GgufType::ARRAY);
  if (kv.elem_type != GgufType::I32) {
    fail("key '" + std::string(key) + "'",
         std::string("is an array of ") + gguf_type_name(kv.elem_type) + ", expected an array of i32");
  }
  std::vector<int32_t> v(kv.count);
  std::memcpy(v.data(), kv.data, kv.count * 4);
  return v;
}

std::vector<float> GgufFile::get_f32_array(std::string_view key) const {
  const GgufKV& kv = expect(key, GgufType::ARRAY);
  if (kv.elem_type != GgufType::F32) {
    fail("key '" + std::string(key) + "'",
         std::string("is an array of ") + gguf_type_name(kv.elem_type) + ", expected an array of f32");
  }
  std::vector<float> v(kv.count);
  std::memcpy(v.data(), kv.data, kv.count * 4);
  return v;
}

// ---- writer ----

namespace {

template <typename T>
void append(std::vector<uint8_t>& out, const T& v) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(T));
}
void append_str(std::vector<uint8_t>& out, std::string_view s) {
  append<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}
template <typename T>
std::vector<uint8_t> scalar(GgufType t, T v) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, uint32_t(t));
  append(out, v);
  return out;
}

}  // namespace

void GgufWriter::put(const std::string& key, std::vector<uint8_t> bytes) {
  if (key == "general.alignment") {
    std::memcpy(&alignment_, bytes.data() + 4, 4);
  }
  for (Entry& e : kvs_) {
    if (e.key == key) {
      e.bytes = std::move(bytes);
      return;
    }
  }
  kvs_.push_back({key, std::move(bytes)});
}

void GgufWriter::set_u32(const std::string& k, uint32_t v) { put(k, scalar(GgufType::U32, v)); }
void GgufWriter::set_i32(const std::string& k, int32_t v) { put(k, scalar(GgufType::I32, v)); }
void GgufWriter::set_u64(const std::string& k, uint64_t v) { put(k, scalar(GgufType::U64, v)); }
void GgufWriter::set_f32(const std::string& k, float v) { put(k, scalar(GgufType::F32, v)); }
void GgufWriter::set_bool(const std::string& k, bool v) { put(k, scalar(GgufType::BOOL, uint8_t(v))); }
void GgufWriter::set_str(const std::string& k, const std::string& v) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, uint32_t(GgufType::STRING));
  append_str(out, v);
  put(k, std::move(out));
}
void GgufWriter::set_str_array(const std::string& k, const std::vector<std::string>& v) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, uint32_t(GgufType::ARRAY));
  append<uint32_t>(out, uint32_t(GgufType::STRING));
  append<uint64_t>(out, v.size());
  for (const std::string& s : v) append_str(out, s);
  put(k, std::move(out));
}
void GgufWriter::set_i32_array(const std::string& k, const std::vector<int32_t>& v) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, uint32_t(GgufType::ARRAY));
  append<uint32_t>(out, uint32_t(GgufType::I32));
  append<uint64_t>(out, v.size());
  for (int32_t x : v) append(out, x);
  put(k, std::move(out));
}
void GgufWriter::set_f32_array(const std::string& k, const std::vector<float>& v) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, uint32_t(GgufType::ARRAY));
  append<uint32_t>(out, uint32_t(GgufType::F32));
  append<uint64_t>(out, v.size());
  for (float x : v) append(out, x);
  put(k, std::move(out));
}

void GgufWriter::copy_kv(const GgufKV& kv) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, uint32_t(kv.type));
  if (kv.type == GgufType::STRING) {
    append_str(out, kv.strings[0]);
  } else if (kv.type == GgufType::ARRAY) {
    append<uint32_t>(out, uint32_t(kv.elem_type));
    append<uint64_t>(out, kv.count);
    if (kv.elem_type == GgufType::STRING) {
      for (std::string_view s : kv.strings) append_str(out, s);
    } else {
      out.insert(out.end(), kv.data, kv.data + kv.count * scalar_size(kv.elem_type));
    }
  } else {
    out.insert(out.end(), kv.data, kv.data + scalar_size(kv.type));
  }
  put(kv.key, std::move(out));
}

void GgufWriter::add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, Producer produce) {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  const TypeTraits& tt = traits(type);
  if (ne.empty() || ne[0] % tt.block != 0) {
    throw Error("writer: tensor '" + name + "': row length is not a multiple of " + tt.name + "'s block");
  }
  tensors_.push_back({name, type, std::move(ne), size_t(n / tt.block) * size_t(tt.bytes), std::move(produce)});
}

void GgufWriter::write(const std::string& path, const std::function<void(size_t, size_t)>& progress) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(path + ": open: cannot create file");
  std::vector<uint8_t> head;
  head.insert(head.end(), {'G', 'G', 'U', 'F'});
  append<uint32_t>(head, 3);
  append<uint64_t>(head, tensors_.size());
  append<uint64_t>(head, kvs_.size());
  for (const Entry& e : kvs_) {
    append_str(head, e.key);
    head.insert(head.end(), e.bytes.begin(), e.bytes.end());
  }
  const auto pad = [&](size_t n) { return (n + alignment_ - 1) / alignment_ * alignment_; };
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    append_str(head, t.name);
    append<uint32_t>(head, uint32_t(t.ne.size()));
    for (int64_t d : t.ne) append<uint64_t>(head, uint64_t(d));
    append<uint32_t>(head, uint32_t(t.type));
    append<uint64_t>(head, offset);
    offset += pad(t.nbytes);
  }
  head.resize(pad(head.size()), 0);
  out.write(reinterpret_cast<const char*>(head.data()), std::streamsize(head.size()));
  std::vector<uint8_t> buf;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    buf.assign(pad(t.nbytes), 0);
    t.produce(buf.data());
    out.write(reinterpret_cast<const char*>(buf.data()), std::streamsize(buf.size()));
    if (progress) progress(i + 1, tensors_.size());
  }
  if (!out) throw Error(path + ": write: I/O error");
}

}  // namespace dawn
