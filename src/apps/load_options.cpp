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
}

}  // namespace dawn
