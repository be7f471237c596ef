// dist without MPI: a single process, and a clear refusal of --split.
#include "dist/dist.h"

#include "util/error.h"

namespace dawn::dist {

void init(int*, char***) {}
void abandon() {}
int rank() { return 0; }
int size() { return 1; }
bool available() { return false; }

std::unique_ptr<Model> open_model(const std::string& path, const LoadOptions& opts, int) {
  if (!opts.split.kind.empty()) {
    throw Error("--split " + opts.split.kind +
                ": this dawn was built without MPI (install libopenmpi-dev and rebuild, then run it under mpirun)");
  }
  return load_model(path, opts);
}

}  // namespace dawn::dist
