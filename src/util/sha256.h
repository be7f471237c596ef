// SHA-256 of a file, hex: how the goldens pin the exact model file the reference saw.
#pragma once
#include <string>

namespace dawn {

// Lower-case hex digest of the file's bytes (as sha256sum prints it); throws Error naming the
// file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace dawn
