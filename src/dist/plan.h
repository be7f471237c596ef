// Which trunk layers each rank of a pipeline split runs: contiguous ranges balanced by weight
// bytes (the first rank also holds the embeddings, output head and MTP layers), or as given.
#pragma once
#include <string>
#include <vector>

#include "formats/gguf.h"

namespace dawn::dist {

struct Stage {
  int begin = 0, end = 0;  // trunk layers [begin, end)
  size_t bytes = 0;        // weight bytes the rank reads (its layers, and the ends on rank 0)
};

// The trunk's layer count: block_count less the MTP (nextn) layers. Throws Error naming the key.
int trunk_layers(const GgufFile& f);

// Ranges for n_ranks stages. per_rank (--layers-per-rank) gives each rank's count (they must sum
// to the trunk's layers, each at least 1); empty balances bytes, each rank's share of them in
// proportion to its weight (--layers-by-memory: its available memory; empty: equal shares).
// Throws Error naming the option.
std::vector<Stage> plan_layers(const GgufFile& f, int n_ranks, const std::vector<int>& per_rank,
                               const std::vector<double>& weight = {});

}  // namespace dawn::dist
