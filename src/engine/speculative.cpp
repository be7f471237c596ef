// Speculative decoding: drafts (MTP or prompt lookup), one batched check by the trunk, rewind past
// the first miss (speculative.h).
#include "engine/speculative.h"

#include <algorithm>
#include <cstdio>

#include "engine/generation.h"
#include "util/error.h"

namespace dawn {

std::optional<DraftKind> draft_kind_named(const std::string& s) {
  if (s == "none") return DraftKind::None;
  if (s == "mtp") return DraftKind::Mtp;
  if (s == "ngram") return DraftKind::Ngram;
  return std::nullopt;
}

DraftKind parse_draft_kind(const std::string& s, const std::string& what) {
  if (const auto k = draft_kind_named(s)) return *k;
  throw Error(what + ": unknown drafter '" + s + "' (none, mtp or ngram)");
}

const char* draft_kind_name(DraftKind k) {
  switch (k) {
    case DraftKind::Mtp: return "mtp";
    case DraftKind::Ngram: return "ngram";
    case DraftKind::Model: return "model";
    default: return "none";
  }
}

int draft_count(const DraftParams& p, const std::string& what) {
  if (p.n_draft < 0 || p.n_draft > 16) {
    throw Error(what + ": " + std::to_string(p.n_draft) + " draft tokens per step is out of range (0-16; 0: default)");
  }
  switch (p.kind) {
    case DraftKind::None: return 0;
    case DraftKind::Mtp: return p.n_draft > 0 ? p.n_draft : 1;
    case DraftKind::Ngram:
    case DraftKind::Model: return p.n_draft > 0 ? p.n_draft : 4;
  }
  return 0;
}

void ngram_draft(const std::vector<int32_t>& ctx, int ngram_max, int n, std::vector<int32_t>* out) {
  out->clear();
  const int len = int(ctx.size());
  if (n <= 0) return;
  for (int m = std::min(ngram_max, len - 1); m >= 1; --m) {
    const auto suffix = ctx.end() - m;
    for (int j = len - m - 1; j >= 0; --j) {  // the latest earlier occurrence first
      if (std::equal(ctx.begin() + j, ctx.begin() + j + m, suffix)) {
        const int from = j + m;
        out->assign(ctx.begin() + from, ctx.begin() + std::min(len, from + n));
        return;
      }
    }
  }
}

namespace {

// A token's text for a message: quoted, control bytes escaped.
std::string quoted(const std::string& t) {
  std::string out = "\"";
  for (const unsigned char c : t) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, c < 0x20 ? "\\x%02x" : "\\%c", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}


}  // namespace

std::unique_ptr<DraftModel> open_draft_model(DraftParams& d, Session& trunk, const Vocab& trunk_vocab, KvType kv_type) {
  auto dm = std::make_unique<DraftModel>();
  dm->model = load_model(d.model_path);
  const Vocab dv(*dm->model->file);
  const std::string& path = d.model_path;
  if (dv.size() != trunk_vocab.size() || dm->model->hp.n_vocab != trunk.model().hp.n_vocab) {
    throw Error(path + ": the draft model's vocabulary has " + std::to_string(dv.size()) + " tokens, the model's " +
                std::to_string(trunk_vocab.size()) + " (a draft model needs the model's vocabulary)");
  }
  for (int32_t i = 0; i < dv.size(); ++i) {
    if (dv.piece(i, true) != trunk_vocab.piece(i, true)) {
      throw Error(path + ": token " + std::to_string(i) + " is " + quoted(dv.piece(i, true)) + " in the draft model but " +
                  quoted(trunk_vocab.piece(i, true)) + " in the model (a draft model needs the model's vocabulary)");
    }
  }
  dm->session = std::make_unique<Session>(*dm->model, trunk.n_ctx(), trunk.pool(), kv_type);
  d.model = dm->session.get();
  return dm;
}

GenerateResult generate_with_draft(Session& s, const Vocab& v, const std::vector<int32_t>& prompt,
                                   const GenerateParams& p, const DraftParams& d,
                                   const std::function<void(const std::string&)>& on_text, DraftStats* stats) {
  if (d.kind == DraftKind::None) return generate(s, v, prompt, p, on_text);
  const int n_vocab = s.model().hp.n_vocab;
  const int k_max = draft_count(d, "draft");
  const bool mtp = d.kind == DraftKind::Mtp;
  Session* dm = d.kind == DraftKind::Model ? d.model : nullptr;
  if (d.kind == DraftKind::Model && !dm) throw Error("draft: no draft model opened (open_draft_model)");
  // A draft model's cache follows the trunk's: the tokens the trunk holds that it does not yet are
  // fed when it next drafts. A trunk rewound (a chat turn's new prompt, a reset) rewinds it too;
  // one behind (a fresh draft model for a later chat turn) starts again from this prompt, which
  // costs guesses only.
  std::vector<int32_t> pending;
  if (dm) {
    if (dm->pos() < s.pos()) dm->reset();
    dm->rewind(s.pos());
    pending = prompt;
  }
  Generation g(v, prompt, p);
  DraftStats st;
  const int64_t D = s.model().hp.n_embd;
  std::vector<int32_t> ctx(prompt), drafts, batch, next;
  std::vector<float> states;
  std::string text;
  const int64_t start = s.pos();
  const float* logits = s.eval(prompt.data(), int(prompt.size()));
  int32_t tok = g.next(logits, n_vocab, &text);
  if (!g.done() && s.pos() >= s.n_ctx()) g.stop_for_context(&text);
  if (!text.empty()) on_text(text);
  // The MTP layer runs at every settled position once the token after it is known: its guess, made
  // at the last settled one, is for the token after the pending one (tok).
  int32_t guess = -1;
  if (mtp && !g.done()) {
    // Each prompt position with the token that follows it (the last with tok), after the position
    // an earlier generation left with its state kept (multi-turn chat).
    next.clear();
    states.clear();
    if (s.mtp_pos() + 1 == start && !s.mtp_state().empty()) {
      next.push_back(prompt[0]);
      states = s.mtp_state();
    } else {
      s.set_mtp_pos(start);  // any gap (a session used without MTP) costs guesses only
    }
    next.insert(next.end(), prompt.begin() + 1, prompt.end());
    next.push_back(tok);
    states.insert(states.end(), s.hidden(), s.hidden() + int64_t(prompt.size()) * D);
    s.mtp_state().clear();
    guess = greedy_token(s.eval_mtp(next.data(), states.data(), int(next.size())), n_vocab);
  }
  while (!g.done()) {
    // tok is not in the cache yet: it goes at base, the proposals after it.
    ctx.push_back(tok);
    const int64_t base = s.pos();
    const int room = int(std::min<int64_t>(k_max, s.n_ctx() - base - 1));
    drafts.clear();
    if (room > 0) {
      if (mtp) {
        // More than one: the MTP layer chained on its own state, one position further each time.
        drafts.push_back(guess);
        for (int j = 1; j < room; ++j) {
          drafts.push_back(greedy_token(s.eval_mtp_ahead(drafts.back(), s.mtp_out(), base + j - 1), n_vocab));
        }
      } else if (dm) {
        // Its greedy continuation: tok and the drafts but the last go into its cache.
        pending.push_back(tok);
        const float* l = dm->eval(pending.data(), int(pending.size()));
        pending.clear();
        for (;;) {
          drafts.push_back(greedy_token(l, n_vocab));
          if (int(drafts.size()) == room) break;
          l = dm->eval(&drafts.back(), 1);
        }
      } else {
        ngram_draft(ctx, d.ngram_max, room, &drafts);
      }
    } else if (dm) {
      pending.push_back(tok);
    }
    const int k = int(drafts.size());
    batch.assign(1, tok);
    batch.insert(batch.end(), drafts.begin(), drafts.end());
    const float* rows = s.eval(batch.data(), k + 1, k > 0);
    if (k > 0) {
      ++st.steps;
      st.drafted += k;
    }
    // Row i's logits follow batch[i]: they are the trunk's own as long as every proposal before
    // them was the token chosen, so the walk stops at the first miss.
    int used = 0;
    for (int i = 0; i <= k; ++i) {
      text.clear();
      tok = g.next(rows + size_t(i) * size_t(n_vocab), n_vocab, &text);
      used = i + 1;
      if (!g.done() && base + used >= s.n_ctx()) g.stop_for_context(&text);
      if (!text.empty()) on_text(text);
      if (g.done() || i == k || tok != drafts[size_t(i)]) break;
      ++st.accepted;
    }
    s.rewind(base + used);  // the cache rows of missed proposals are rewritten before they are read
    if (dm && k > 0) {
      // It holds tok and drafts 1 .. k-1 after the trunk's base: keep what was kept, and feed the
      // last draft next time when every draft was kept.
      const int64_t at = dm->pos() - k;  // where tok is in its cache
      if (used <= k) {
        dm->rewind(at + used);
      } else {
        pending.assign(1, drafts[size_t(k - 1)]);
      }
    }
    ctx.insert(ctx.end(), batch.begin() + 1, batch.begin() + used);
    if (mtp) {
      // The settled positions base .. base + used - 1, each with the token after it; once done, the
      // last one's is not known (tok may not be what the next turn puts there): its state is kept.
      next.assign(batch.begin() + 1, batch.begin() + used);
      if (!g.done()) next.push_back(tok);
      if (!next.empty()) guess = greedy_token(s.eval_mtp(next.data(), s.hidden(), int(next.size())), n_vocab);
      if (g.done()) s.mtp_state().assign(s.hidden() + (used - 1) * D, s.hidden() + used * D);
    }
  }
  if (dm && !pending.empty()) dm->eval(pending.data(), int(pending.size()));  // in step for a next turn
  if (stats) stats->add(st);
  return {g.tokens(), g.stop_reason()};
}

}  // namespace dawn
