#include "apps/commands.h"

namespace dawn {

void add_sampling_options(CLI::App* c, SamplerParams& p) {
  c->add_option("--temp", p.temp, "Temperature (0: greedy)")->capture_default_str();
  c->add_option("--top-k", p.top_k, "Top-k (0: off)")->capture_default_str();
  c->add_option("--top-p", p.top_p, "Top-p (1: off)")->capture_default_str();
  c->add_option("--min-p", p.min_p, "Min-p (0: off)")->capture_default_str();
  c->add_option("--repeat-penalty", p.repeat_penalty, "Repetition penalty (1: off)")->capture_default_str();
  c->add_option("--presence-penalty", p.presence_penalty, "Presence penalty")->capture_default_str();
  c->add_option("--frequency-penalty", p.frequency_penalty, "Frequency penalty")->capture_default_str();
  c->add_option("--repeat-last-n", p.penalty_last_n, "Tokens the penalties look back at (-1: all)")
      ->capture_default_str();
  c->add_option("--seed", p.seed, "Random seed (same seed, same output)")->capture_default_str();
}

}  // namespace dawn
