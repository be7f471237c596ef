// Memory read bandwidth of this machine, the roofline for decoding: every
// active weight byte is read once per token.
#pragma once
#include <cstddef>

#include "kernels/thread_pool.h"

namespace dawn {

// Best-of-`passes` read rate in bytes/s over a `bytes` buffer (well beyond the
// caches), split across the pool's threads, SIMD loads into several accumulators.
double read_bandwidth(ThreadPool& pool, size_t bytes, int passes);

}  // namespace dawn
