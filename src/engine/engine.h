// The multi-sequence engine: many requests at once over one model, one KV pool and one thread
// pool. Each step() runs one forward pass over a batch that holds every running sequence's next
// token plus chunks of waiting prompts under a token budget (chunked prefill: a long prompt does
// not freeze the other streams). Requests reuse the KV of the longest prefix an earlier request
// computed (prefix cache, bounded in bytes, least recently used out first).
//
// Over a pipeline split (StageLink::stages() > 1) the slots are dealt into as many lanes, each
// with its own batch: a step finishes the oldest lane's pass (head, sampling) and starts that
// lane's next one, so while one lane's rows are on the later stages this process runs another's
// layers and every stage is busy (a micro-batch pipeline, across steps).
//
// A request may draft (speculative.h): its next token goes into the batch with the drafter's
// proposals after it, each with its logits row, and the walk over them stops at the first the
// request's own sampler would not have chosen; its cache position goes back past the rest. With
// MTP drafts the MTP layer runs, after the trunk's pass, at every position the pass settled of the
// sequences that draft with it, in one batch of its own (and for K > 1 drafts, once more per further
// guess, chained on its own state).
//
// Threads: submit() and cancel() from any thread; step() (or the loop of start()) on one engine
// thread, which is the only one that calls forward and the only one that runs the callbacks.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/generation.h"
#include "engine/kv_cache.h"
#include "engine/speculative.h"
#include "kernels/thread_pool.h"
#include "models/model.h"
#include "text/vocab.h"

namespace dawn {

struct EngineOptions {
  int n_threads = 0;      // 0: every core
  int n_slots = 4;        // sequences at once (-np)
  int pool_tokens = 4096;  // KV positions shared by all sequences (-c)
  int max_ctx = 0;        // positions one request may use; 0: min(model context, pool_tokens)
  KvType kv_type = KvType::F16;
  int batch_tokens = 256;  // tokens per forward pass (decode tokens first, then prompt chunks)
  // Prompt tokens a pass takes while other sequences are decoding: a bound on how much longer
  // such a pass is than a decode-only one (inter-token latency). 0: as many as are decoding, at
  // least 16. Without decoding sequences a pass takes batch_tokens of prompt.
  int prefill_chunk = 0;
  size_t prefix_cache_bytes = size_t(256) << 20;  // 0: off
  // Cache rows for the model's MTP layer, so that requests can draft with it (the model must have
  // one: the constructor throws Error otherwise). Rows are taken only as they are written.
  bool mtp = false;
};

// What a request gets per generated token.
struct TokenOut {
  int32_t id = -1;
  std::string text;      // text now certain (may be empty: held back for a stop string or UTF-8)
  float logprob = 0;     // log-probability of `id` under the model (temperature 1, no bias), when asked
  std::vector<std::pair<int32_t, float>> top;  // the n most likely tokens and their log-probabilities
  bool eog = false;      // the end-of-generation token: not part of the output
};

struct RequestResult {
  std::vector<int32_t> tokens;  // generated (no end-of-generation token)
  std::string finish_reason;    // "stop" (eog or a stop string), "length", "cancelled", "error"
  std::string error;            // when finish_reason is "error"
  int prompt_tokens = 0, cached_tokens = 0;
  int drafted = 0, accepted = 0;  // proposals of the request's drafter, and those its tokens confirmed
  double queue_s = 0, first_token_s = 0, total_s = 0;  // from submit
};

struct Request {
  std::vector<int32_t> prompt;
  GenerateParams gen;  // n_predict < 0: until the request's context is full; logit bias in gen.sampling
  int logprobs = -1;   // -1: none; 0: the chosen token's; n > 0: also the top n (the model's, before bias)
  DraftParams draft;   // speculative decoding (Mtp needs EngineOptions::mtp); the output is the same without
  std::function<void(const TokenOut&)> on_token;       // engine thread
  std::function<void(const RequestResult&)> on_done;  // engine thread; exactly once
};

struct EngineStats {
  int running = 0, waiting = 0;
  int kv_used_tokens = 0, kv_pool_tokens = 0;
  uint64_t prompt_tokens = 0, generated_tokens = 0, cached_tokens = 0, requests = 0;
  uint64_t drafted_tokens = 0, accepted_tokens = 0;  // speculative decoding's proposals, and those kept
  size_t prefix_cache_bytes = 0;
  int prefix_cache_entries = 0;
};

class Engine {
 public:
  Engine(const Model& m, const Vocab& v, const EngineOptions& o);
  ~Engine();

  // Queues a request; returns its id. Throws Error (nothing queued) for a request that can never
  // run: empty prompt, ids outside the vocabulary, a prompt that leaves no room to generate in the
  // request context (the message says "context"), or a drafter this engine cannot run ("draft").
  uint64_t submit(Request r);
  // Ends a request as "cancelled" at the next step, freeing its slot (unknown ids: no-op).
  void cancel(uint64_t id);
  // One forward pass over the next batch (with lanes: finishes the next lane's pass in flight and
  // starts its next one); false when there was nothing to do and nothing is in flight.
  bool step();
  // Steps until no request is waiting or running (tests, the CLI).
  void run_until_idle();
  // A thread that steps whenever there is work; stop() finishes the requests in flight, then joins.
  void start();
  void stop();

  EngineStats stats() const;
  int max_ctx() const { return max_ctx_; }
  const Model& model() const { return m_; }

 private:
  struct Seq;
  struct PrefixEntry {
    std::vector<int32_t> tokens;
    std::vector<uint8_t> kv;
    int id = 0;  // a split model's later stages keep their rows of it under this id
  };
  void admit();
  void finish(Seq& q, const std::string& reason, const std::string& error = {});
  void remember_prefix(const Seq& q);
  int lookup_prefix(const std::vector<int32_t>& prompt, int slot);
  // The next token of q from its logits row (safe to run for several sequences at once), and
  // its delivery to the request (this thread, in batch order).
  void sample(Seq& q, const float* logits, TokenOut* out);
  void deliver(Seq& q, const TokenOut& out);
  // One sequence's part of a lane's batch: its next token and drafts (decode), or a prompt chunk
  // (with one logits row when it ends the prompt).
  struct Part {
    int slot = 0;
    int tok = 0, n_tok = 0;   // its tokens in the batch
    int row = 0, n_rows = 0;  // its logits rows
    bool decode = false;
    int used = 0;  // after sampling: rows whose token was kept (decode: 1 + drafts confirmed)
  };
  // A batch of sequences in flight over a pipeline split (a single one without).
  struct Lane {
    Batch batch;
    Scratch scratch;
    std::vector<float> logits;
    std::vector<Part> parts;
    std::vector<float> hidden;  // with MTP drafts: every token's final state (forward's `hidden`)
    bool want_hidden = false;
    bool in_flight = false;
  };
  int lane_of(int slot) const { return slot % int(lanes_.size()); }
  bool build(int lane);   // the lane's next batch; false when it has nothing to run
  void finish_lane(Lane& ln, int keep);  // its head, sampling and delivery
  void sample_part(Part& p, const float* logits);  // the walk over a part's rows (drafts: to the first miss)
  void run_mtp(Lane& ln);  // the MTP layer at the positions the lane's pass settled; the next guesses
  void end_cancelled();  // the running sequences in held_cancels_ whose lane is not in flight

  const Model& m_;
  const Vocab& v_;
  EngineOptions o_;
  int max_ctx_;
  KvCache cache_;
  SeqKv kv_;
  ThreadPool pool_;
  std::vector<Lane> lanes_;
  int next_lane_ = 0;
  std::vector<uint64_t> held_cancels_;  // engine thread: cancels of running (or unknown) ids
  std::vector<std::unique_ptr<Seq>> slots_;  // index = KV slot; null when free
  std::vector<TokenOut> outs_;               // per logits row: the sampled token
  Batch mtp_batch_;                          // run_mtp's rows, their states and logits
  std::vector<float> mtp_states_, mtp_logits_, mtp_out_;  // mtp_out_: per MTP logits row, the layer's own state
  std::vector<size_t> mtp_chain_rows_;
  std::vector<Seq*> mtp_rows_seq_;           // per MTP logits row: whose guess it is

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Seq>> waiting_;
  std::vector<uint64_t> cancels_;
  uint64_t next_id_ = 1;
  int reserved_tokens_ = 0;
  std::list<PrefixEntry> prefixes_;  // most recently used first
  int next_prefix_id_ = 0;
  size_t prefix_bytes_ = 0;
  EngineStats totals_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace dawn
