#include "util/file.h"

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace dawn {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace dawn
