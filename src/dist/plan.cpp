#include "dist/plan.h"

#include <cstdio>

#include "util/error.h"

namespace dawn::dist {

int trunk_layers(const GgufFile& f) {
  const std::string p = f.get_str("general.architecture") + ".";
  const int n = int(f.get_u32(p + "block_count")) - int(f.get_u32(p + "nextn_predict_layers", 0));
  if (n < 1) f.fail("key '" + p + "block_count'", "no trunk layers to split");
  return n;
}

std::vector<Stage> plan_layers(const GgufFile& f, int n_ranks, const std::vector<int>& per_rank,
                               const std::vector<double>& weight) {
  const int n = trunk_layers(f);
  std::vector<size_t> layer(size_t(n), 0);
  size_t ends = 0;
  for (const GgufTensor& t : f.tensors()) {
    int l = -1;
    if (std::sscanf(t.name.c_str(), "blk.%d.", &l) == 1 && l >= 0 && l < n) {
      layer[size_t(l)] += t.nbytes;
    } else {
      ends += t.nbytes;
    }
  }
  std::vector<int> count;
  if (!per_rank.empty()) {
    if (int(per_rank.size()) != n_ranks) {
      throw Error("--layers-per-rank: " + std::to_string(per_rank.size()) + " counts for " + std::to_string(n_ranks) +
                  " ranks");
    }
    int sum = 0;
    for (int c : per_rank) {
      if (c < 1) throw Error("--layers-per-rank: every rank needs at least one layer (got " + std::to_string(c) + ")");
      sum += c;
    }
    if (sum != n) {
      throw Error("--layers-per-rank: the counts add up to " + std::to_string(sum) + " but " + f.path() + " has " +
                  std::to_string(n) + " layers");
    }
    count = per_rank;
  } else {
    if (n_ranks > n) {
      throw Error("--split layers: " + std::to_string(n_ranks) + " ranks for " + std::to_string(n) + " layers of " +
                  f.path() + " (at most one rank per layer)");
    }
    // Cut where the running total (ends first: rank 0 holds them) crosses each rank's share,
    // leaving every later rank at least one layer.
    if (!weight.empty() && int(weight.size()) != n_ranks) throw Error("layer plan: a weight per rank is needed");
    const auto w = [&](int q) { return weight.empty() ? 1.0 : std::max(weight[size_t(q)], 0.0); };
    double sum_w = 0;
    for (int q = 0; q < n_ranks; ++q) sum_w += w(q);
    std::vector<double> upto(static_cast<size_t>(n_ranks), 0.0);  // the share of ranks 0..r
    for (int q = 0; q < n_ranks; ++q) {
      upto[size_t(q)] = (q ? upto[size_t(q - 1)] : 0.0) + (sum_w > 0 ? w(q) / sum_w : 1.0 / n_ranks);
    }
    size_t total = ends;
    for (size_t b : layer) total += b;
    size_t acc = ends;
    int r = 0, in_rank = 0;
    count.assign(size_t(n_ranks), 0);
    for (int l = 0; l < n; ++l) {
      const int left = n - l, ranks_after = n_ranks - r - 1;
      const double target = double(total) * upto[size_t(r)];
      const bool full = in_rank > 0 && (double(acc) + double(layer[size_t(l)]) / 2 > target || left <= ranks_after);
      if (full && r + 1 < n_ranks) {
        ++r;
        in_rank = 0;
      }
      ++count[size_t(r)];
      ++in_rank;
      acc += layer[size_t(l)];
    }
  }
  std::vector<Stage> out;
  int begin = 0;
  for (int r = 0; r < n_ranks; ++r) {
    Stage s{begin, begin + count[size_t(r)], r == 0 ? ends : 0};
    for (int l = s.begin; l < s.end; ++l) s.bytes += layer[size_t(l)];
    out.push_back(s);
    begin = s.end;
  }
  return out;
}

}  // namespace dawn::dist
