// GGUF v2/v3 container: a strict, zero-copy reader over an mmap'd file and a
// streaming writer. Every violation raises dawn::Error with one line naming the
// file, the field and the value.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernels/types.h"

namespace dawn {

enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
const char* gguf_type_name(GgufType t);

constexpr int kMaxDims = 4;

struct GgufKV {
  std::string key;
  GgufType type;
  GgufType elem_type;                     // arrays only
  uint64_t count = 1;                     // arrays: number of elements
  const uint8_t* data = nullptr;          // scalar or numeric array payload, in the mapping
  std::vector<std::string_view> strings;  // STRING, or ARRAY of STRING
};

struct GgufTensor {
  std::string name;
  DType type;
  int n_dims;
  int64_t ne[kMaxDims];  // ne[0] is the contiguous dimension; unused dims are 1
  uint64_t offset;       // relative to the data section
  size_t nbytes;
  const uint8_t* data;
  int64_t nelements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  // Where the bytes live: a shared mapping of the file (pages come and go with the page cache),
  // or a private copy in transparent huge pages (2 MiB TLB entries: a decode step streams
  // gigabytes of weights, and 4 KiB pages cost it a page walk every 4 KiB).
  enum class Residency { Map, Copy };
  // Maps (or reads) and validates the whole file; throws Error.
  static std::unique_ptr<GgufFile> open(const std::string& path, Residency r = Residency::Map);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  size_t file_size() const { return size_; }
  Residency residency() const { return residency_; }
  const std::vector<GgufKV>& kvs() const { return kvs_; }
  // The header, key/value pairs and tensor infos: every byte before the tensor data.
  std::string_view header() const { return {reinterpret_cast<const char*>(base_), data_start_}; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  const GgufKV* find(std::string_view key) const;
  const GgufTensor* find_tensor(std::string_view name) const;
  const GgufTensor& tensor(std::string_view name) const;  // throws when missing

  // Typed getters: throw on a missing key or a key of another type.
  uint32_t get_u32(std::string_view key) const;
  float get_f32(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::string get_str(std::string_view key) const;
  uint32_t get_u32(std::string_view key, uint32_t fallback) const;
  float get_f32(std::string_view key, float fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::string get_str(std::string_view key, std::string fallback) const;
  const std::vector<std::string_view>& get_str_array(std::string_view key) const;
  std::vector<int32_t> get_i32_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;

  [[noreturn]] void fail(std::string_view field, std::string_view what) const;

  // Page-cache hints for bytes of the mapping: read them ahead (a file that fits in memory), or
  // expect random access (routed experts of a file larger than memory). Best effort.
  void advise_willneed(const uint8_t* p, size_t bytes) const;
  void advise_random(const uint8_t* p, size_t bytes) const;
  // Pins the whole file, or the bytes [p, p + bytes) of it, in memory (mlock); throws Error naming
  // the limit when refused.
  void lock() const;
  void lock(const uint8_t* p, size_t bytes) const;
  // A mapped file becomes a Copy of only the header and the tensors `want` picks (a pipeline
  // stage's layers): the rest of the copy's address space is never touched, so takes no memory.
  // Tensor and key pointers move to the copy. Throws Error (the file stays mapped).
  // `want` gives the bytes [first, second) of each tensor to copy ({0, 0}: none).
  void copy_part(const std::function<std::pair<size_t, size_t>(const GgufTensor&)>& want);
  // A Copy's bytes stay writable until seal(), so that the loader can repack weights in place
  // (writable() throws Error for a Map); seal() makes them read-only.
  uint8_t* writable(const uint8_t* p) const;
  void seal() const;

 private:
  GgufFile() = default;
  void parse();
  const GgufKV& expect(std::string_view key, GgufType t) const;

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  Residency residency_ = Residency::Map;
  void* map_ = nullptr;  // what munmap gets: the copy's base is rounded up to a huge page
  size_t map_len_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  size_t data_start_ = 0;  // the tensor data section's offset in the file
  std::vector<GgufKV> kvs_;
  std::vector<GgufTensor> tensors_;
  std::unordered_map<std::string_view, size_t> kv_index_, tensor_index_;
};

// Writes GGUF v3. Tensor data is produced on demand while writing, so a file
// larger than memory can be generated.
class GgufWriter {
 public:
  using Producer = std::function<void(uint8_t* dst)>;

  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_str(const std::string& key, const std::string& v);
  void set_str_array(const std::string& key, const std::vector<std::string>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  // Copies a key/value pair verbatim from another file.
  void copy_kv(const GgufKV& kv);

  void add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, Producer produce);
  // Called after each tensor is written: (tensors done, total).
  void write(const std::string& path, const std::function<void(size_t, size_t)>& progress = {}) const;

 private:
  struct Entry {
    std::string key;
    std::vector<uint8_t> bytes;  // type tag and value, serialised
  };
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    size_t nbytes;
    Producer produce;
  };
  void put(const std::string& key, std::vector<uint8_t> bytes);
  std::vector<Entry> kvs_;
  std::vector<Tensor> tensors_;
  uint32_t alignment_ = 32;
};

}  // namespace dawn
