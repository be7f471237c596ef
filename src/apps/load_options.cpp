#include <memory>

#include "apps/commands.h"

namespace dawn {

void add_load_options(CLI::App* c, LoadOptions& o) {
  c->add_flag("--mlock", o.mlock, "Pin the weights in memory (no paging; needs ulimit -l)");
  o.load = WeightLoad::Auto;
  auto text = std::make_shared<std::string>("auto");
  c->add_option("--load", *text,
                "How weights reach memory: copy (read into huge pages and repacked for the interleaved kernels: slower "
                "start, faster decode), "
                "map (in place from the page cache: instant start, files larger than memory), "
                "auto (copy when the file fits in available memory)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "map", "copy"}))
      ->each([&o, text](const std::string& s) { o.load = parse_weight_load(s, "--load"); });
  c->add_option("--split", o.split.kind,
                "Under mpirun: how the ranks share the model. layers: each rank holds a contiguous range of layers "
                "(rank 0 also the embeddings and the head) and the hidden state passes from rank to rank. experts "
                "(deepseek2): every rank runs every layer, holding 1/N of each MoE layer's routed experts, and the "
                "ranks swap the experts' rows in each MoE layer. One process ignores it")
      ->check(CLI::IsMember({"layers", "experts"}));
  c->add_option("--layers-per-rank", o.split.layers_per_rank,
                "With --split layers: each rank's layer count, in rank order (default: balanced by bytes)")
      ->delimiter(',');
  c->add_flag("--layers-by-memory", o.split.by_memory,
              "With --split layers: each rank's share of the weight bytes in proportion to the memory its machine "
              "has available at start (MemAvailable), instead of equal shares");
  c->add_option("--wire", o.split.wire,
                "With --split: how rows cross the network. f32: exact (the single process's logits). q8_0: 8-bit "
                "blocks (34 bytes per 32 values, 3.8x fewer bytes; every rank rounds its own rows the same way, "
                "so they stay in step), for slow links")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "q8_0"}));
  c->add_option("--dist-timeout", o.split.timeout_s,
                "With --split: seconds a rank may stay silent before the run stops, naming it")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace dawn
