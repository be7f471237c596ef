// The sampling and speculative-decoding flags that several subcommands share.
#include <filesystem>

#include "apps/commands.h"
#include "engine/speculative.h"

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

void add_draft_options(CLI::App* c, DraftParams& p) {
  c->add_option_function<std::string>(
       "--draft",
       [&p](const std::string& k) {
         const auto named = draft_kind_named(k);
         p.kind = named.value_or(DraftKind::Model);
         p.model_path = named ? std::string() : k;
       },
       "Speculative decoding: mtp (the model's own MTP layer drafts one token ahead; DeepSeek-V3/R1 files that "
       "keep it), ngram (prompt lookup: the tokens that followed the last earlier match of the context's end), a "
       "GGUF file (a smaller model with the same vocabulary drafts its greedy continuation) or none. The output is "
       "the same as without it")
      ->check(CLI::Validator(
          [](std::string& k) -> std::string {
            if (draft_kind_named(k) || std::filesystem::is_regular_file(k)) return {};
            return "--draft: '" + k + "' is neither none, mtp, ngram nor an existing GGUF file";
          },
          "none|mtp|ngram|MODEL.gguf"))
      ->default_str("none");
  c->add_option("--draft-n", p.n_draft, "Tokens drafted per step (0: mtp 1, ngram 4, a draft model 4)")
      ->capture_default_str();
}

}  // namespace dawn
