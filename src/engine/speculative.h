// Speculative decoding over one Session: a drafter proposes the next tokens, the trunk checks them all
// in one batched pass over the K + 1 positions, and every proposal up to the first the trunk would
// not have chosen is kept; the cache is rewound past the rest. Drafters: DeepSeek-V3's MTP layer
// (`mtp`: a guess from the trunk's last state, and further ones chained on the layer's own state, as
// SGLang's NextN does), prompt lookup (`ngram`: the tokens
// that followed the latest earlier occurrence of the context's last few tokens) and a smaller model
// with the same vocabulary (`MODEL.gguf`: its greedy continuation, from its own cache kept in step
// with the trunk's).
//
// Each kept token is still chosen by the request's own sampler from the trunk's own logits at its
// position (generation.h), so the output is what decoding without a draft gives, token for token,
// greedy or sampled with the same seed. With a deterministic draft this is the speculative-sampling
// rule itself: a proposal d is kept with probability p(d) (min(1, p/q) for the one-hot q), and after
// a miss the token comes from p with d excluded (the residual max(0, p - q), normalised).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/generate.h"
#include "engine/session.h"

namespace dawn {

enum class DraftKind { None, Mtp, Ngram, Model };
// The drafter "none", "mtp" or "ngram" names; nullopt for anything else (a draft model's path).
std::optional<DraftKind> draft_kind_named(const std::string& s);
// The same, throwing Error naming `what` for anything else.
DraftKind parse_draft_kind(const std::string& s, const std::string& what);
const char* draft_kind_name(DraftKind k);

struct DraftParams {
  DraftKind kind = DraftKind::None;
  int n_draft = 0;   // tokens proposed per step (1-16); 0: the drafter's default (mtp 1, ngram 4, model 4)
  int ngram_max = 3;  // prompt lookup: the longest suffix matched (then shorter ones, down to 1)
  std::string model_path{};  // Model: the draft model's file (open_draft_model opens it)
  Session* model = nullptr;  // Model: its session, the caller's; generations keep it in step with the trunk's
};

// A draft model opened for a trunk: its weights and a session over them with the trunk's context.
struct DraftModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
};
// Opens d.model_path and points d.model at its session; throws Error naming the file when its
// vocabulary is not the trunk's token for token (a draft is a list of the trunk's token ids).
// It runs on the trunk session's threads, with its context.
std::unique_ptr<DraftModel> open_draft_model(DraftParams& d, Session& trunk, const Vocab& trunk_vocab, KvType kv_type);
// The drafter's proposals per step once defaults apply; throws Error (naming `what`) for a count
// the drafter cannot make.
int draft_count(const DraftParams& p, const std::string& what);

// What the drafts did, over one or more generations.
struct DraftStats {
  int64_t steps = 0;     // trunk passes that checked proposals (each also yields one token of its own)
  int64_t drafted = 0;   // tokens proposed
  int64_t accepted = 0;  // proposals the trunk confirmed
  double acceptance_rate() const { return drafted > 0 ? double(accepted) / double(drafted) : 0.0; }
  double accepted_per_step() const { return steps > 0 ? double(accepted) / double(steps) : 0.0; }
  void add(const DraftStats& o) {
    steps += o.steps;
    drafted += o.drafted;
    accepted += o.accepted;
  }
};

// generate() with a drafter (a Session made with_mtp for Mtp; d.model set for Model); d.kind None
// is plain generate().
// stats, when given, gets this generation's counts added.
GenerateResult generate_with_draft(Session& s, const Vocab& v, const std::vector<int32_t>& prompt,
                                   const GenerateParams& p, const DraftParams& d,
                                   const std::function<void(const std::string&)>& on_text, DraftStats* stats = nullptr);

// Prompt lookup: up to n tokens that followed the latest earlier occurrence of the longest suffix of
// ctx (ngram_max tokens down to 1) into *out (cleared first; empty when nothing matches).
void ngram_draft(const std::vector<int32_t>& ctx, int ngram_max, int n, std::vector<int32_t>* out);

}  // namespace dawn
