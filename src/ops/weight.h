// A 2-D view of weight rows in any supported type, pointing into the mapped file.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/types.h"

namespace dawn {

struct Weight {
  DType type = DType::F32;
  int64_t cols = 0;  // row length (ggml ne[0])
  int64_t rows = 0;
  const uint8_t* data = nullptr;
  size_t row_stride = 0;  // bytes
  // Rows repacked in place 16 at a time (kernels/x16.h): the level GEMM reads them a group of
  // 16 rows at a time (row() is the start of a group when r is a multiple of 16), dequantize_row
  // one row out of its group. Rows past the last whole group (rows % 16 of them) stay plain.
  bool x16 = false;

  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t r) const { return data + size_t(r) * row_stride; }
  Weight slice(int64_t first_row, int64_t n_rows) const {
    return {type, cols, n_rows, row(first_row), row_stride, x16};
  }
  // F32 vectors (norms, biases) are read directly.
  const float* f32() const { return reinterpret_cast<const float*>(data); }
};

}  // namespace dawn
