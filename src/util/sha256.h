// SHA-256, hex: how the goldens pin the exact model file the reference saw, and how the ranks of
// a split run check that they opened the same model.
#pragma once
#include <string>

namespace dawn {

// Lower-case hex digest of the file's bytes (as sha256sum prints it); throws Error naming the
// file when it cannot be read.
std::string sha256_file(const std::string& path);
// The same of n bytes in memory.
std::string sha256_bytes(const void* p, size_t n);

}  // namespace dawn
