// A loaded model: hyper-parameters read from GGUF metadata and weights bound by
// name to views into the mapped file. One forward file per architecture family.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "models/batch.h"
#include "models/stage_link.h"
#include "kernels/thread_pool.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/moe.h"
#include "ops/moe_ffn.h"
#include "ops/rope.h"
#include "ops/weight.h"

namespace dawn {

enum class Arch { Llama, Qwen2, Qwen3, Deepseek2 };
const char* arch_name(Arch a);

struct Hparams {
  Arch arch = Arch::Llama;
  int n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0, n_vocab = 0;
  int head_dim_k = 0, head_dim_v = 0;  // per-head q/k and v sizes (after MLA decompression)
  int n_ctx_train = 0;
  float rms_eps = 1e-6f;
  RopeConfig rope;
  float kq_scale = 0;  // softmax scale, YaRN mscale included
  // deepseek2
  int q_lora_rank = 0, kv_lora_rank = 0, qk_nope = 0, qk_rope = 0;
  bool mla_split = true;  // attn_k_b/attn_v_b (false: legacy attn_kv_b)
  int n_dense_lead = 0, n_ff_exp = 0, n_expert_shared = 0;
  int n_nextn = 0;  // MTP layers after the n_layer trunk layers
  RouterConfig router;
};

struct Layer {
  Weight attn_norm, ffn_norm;
  // llama / qwen2 / qwen3
  Weight wq, wk, wv, wo, bq, bk, bv, q_norm, k_norm;
  // deepseek2 MLA (wq is the V2-Lite q projection)
  Weight wq_a, q_a_norm, wq_b, wkv_a, kv_a_norm, wk_b, wv_b;
  std::vector<float> k_b_legacy;  // [head][kv_lora][qk_nope], transposed from attn_kv_b
  std::vector<float> v_b_legacy;  // [head][v][kv_lora], attn_kv_b's V rows as floats
  // dense FFN
  Weight gate, up, down;
  // MoE: expert e of *_exps is rows [e*rows_per_expert, (e+1)*rows_per_expert)
  Weight gate_inp, exp_probs_b, gate_exps, up_exps, down_exps, gate_shexp, up_shexp, down_shexp;
  bool moe = false;
  int expert_begin = 0, expert_end = -1;  // the routed experts held here (an expert split: a range)
  // DeepSeek-V3 multi-token-prediction module (a `nextn` layer after the trunk)
  Weight nextn_eh_proj, nextn_enorm, nextn_hnorm, nextn_head_norm;
};

struct Model {
  std::unique_ptr<GgufFile> file;
  Hparams hp;
  Weight tok_embd, output_norm, output, rope_freqs;
  std::vector<Layer> layers;
  // MTP layers (deepseek2 `nextn_predict_layers`): the first drafts tokens for speculative
  // decoding (forward_mtp, engine/speculative.h).
  std::vector<Layer> mtp_layers;
  // The trunk layers this process runs, [layer_begin, layer_end) (all of them unless the model is
  // split into pipeline stages); the others are left unbound. `ends`: it also holds the token
  // embeddings, the output head and the MTP layers (a split's first stage, whose link runs the
  // rest: see forward).
  int layer_begin = 0, layer_end = -1;  // -1: through the last (a Model built by hand)
  int layers_end() const { return layer_end < 0 ? hp.n_layer : layer_end; }
  bool ends = true;
  bool head = true;                       // the output head and MTP layers (with ends)
  int expert_begin = 0, expert_end = -1;  // an expert split's share of each trunk MoE layer (-1: all)
  std::shared_ptr<StageLink> link;

  // Floats cached per position per layer for one sequence.
  int64_t kv_k_dim() const;
  int64_t kv_v_dim() const;  // 0 when V is a view of K (MLA latent)
  int kv_heads() const;       // KV heads the rows split into (1 for MLA's latent)
  // The largest count that every slice of a cache row the forward pass reads (a head; MLA's
  // latent part) starts at and spans a multiple of.
  int64_t kv_slice_align() const;
};

// True for tensors of the MTP (nextn) layers that follow the trunk.
bool is_mtp_tensor(const Hparams& hp, const std::string& name);

// Loads and validates; throws Error naming the file, key or tensor at fault.
enum class WeightLoad {
  Auto,  // Copy when the file fits in available memory and the kernel offers huge pages, else Map
  Map,   // read in place from the page cache: instant start, any file size
  Copy,  // a private copy in huge pages: slower start, faster decode (fewer TLB misses)
};
struct LoadOptions {
  bool mlock = false;                 // pin the weights in memory (throws Error when the limit refuses)
  WeightLoad load = WeightLoad::Map;  // the generating commands default to Auto
  // A pipeline stage: only trunk layers [layer_begin, layer_end) (-1: through the last) are read,
  // and the embeddings, output head and MTP layers only when `ends` (Model::ends).
  int layer_begin = 0, layer_end = -1;
  bool ends = true;
  // An expert split: only routed experts [expert_begin, expert_end) of every trunk MoE layer are
  // read (-1: all), and with head = false no output head or MTP layers (the token embeddings
  // still, as every rank embeds the batch).
  int expert_begin = 0, expert_end = -1;
  bool head = true;
  // What the command line asked of a run under mpirun (--split, --layers-per-rank,
  // --dist-timeout); dist::open_model turns it into the fields above for each rank.
  struct Split {
    std::string kind;                  // "" (one process), "layers" or "experts"
    std::vector<int> layers_per_rank;  // empty: balanced by bytes
    bool by_memory = false;            // balanced in proportion to each rank's available memory
    double timeout_s = 30;             // a stage silent this long is reported as hung
    std::string wire = "f32";          // rows on the network: "f32" (exact) or "q8_0" (34 bytes per 32)
  } split;
};
// Parses "auto", "map" or "copy"; throws Error naming `what` otherwise.
WeightLoad parse_weight_load(const std::string& s, const std::string& what);
// True for tensors a process holding `opts`' part of the model reads (the whole model by default):
// n_trunk is the file's trunk layer count (block_count less the MTP layers).
bool tensor_in_part(const std::string& name, int n_trunk, const LoadOptions& opts);
// The bytes [first, second) of tensor t that such a process reads: all of them, none ({0, 0}), or
// for a routed-expert tensor of an expert split its experts' share.
std::pair<size_t, size_t> tensor_part(const GgufTensor& t, int n_trunk, const LoadOptions& opts);
std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& opts = {});

// Key/value rows for one sequence in one layer, head-major: each of the `heads` KV heads holds its
// own run of rows (position p of head g at k_head(g).row(p)), so the thread that attends over one
// head streams contiguous memory. (With the heads of a position side by side, two threads each
// reading their head's half of every row ran at ~60 % of this rate: each core's streaming
// prefetcher pulled in the other head's half too.) MLA's latent cache has one head.
struct LayerKv {
  KvRows k, v;  // head 0's rows (stride: one head's values)
  int heads = 1;
  size_t k_head_bytes = 0, v_head_bytes = 0;  // from one head's first row to the next's
  KvRows k_head(int g) const { return {k.row(0) + size_t(g) * k_head_bytes, k.stride, k.type}; }
  KvRows v_head(int g) const { return {v.row(0) + size_t(g) * v_head_bytes, v.stride, v.type}; }
};

// Buffers for one forward call, grown on demand and reused across calls.
struct Scratch {
  std::vector<float> x, h, q, k, v, att, o, tmp, tmp2, ffn_g, ffn_u, cs;
  MoeScratch moe;  // per-token choices, then the tokens grouped by expert
  std::vector<GatherTask> head_tasks;  // the per-head products of MLA
  std::vector<int32_t> seq;            // 0, 1, 2, ...: see row_indices
  // MLA per chunk of tokens: q_nope per head, latent queries per token, latent results and
  // values per head
  std::vector<float> mla_q, mla_lat, mla_o, mla_v;
  std::vector<int32_t> mla_rows;  // head h's latent results: rows t H + h of mla_o, t = 0 .. T-1
  // Tiled attention: the blocks of query rows, each row's cache length, (GQA) the query rows by
  // KV head and their results, and attend_tiled's own buffers
  std::vector<AttnQueries> attn_blocks;
  std::vector<int32_t> attn_len;
  std::vector<float> attn_q, attn_out;
  AttnScratch attn;
  std::vector<uint8_t> lat_act;  // a legacy file's latent in attn_kv_b's activation type
  std::vector<float> mtp_in;     // the MTP projection's input: [enorm(embedding); hnorm(state)] per token
  std::vector<float> stage_x;    // a pipeline's rows by piece (StageLink::pieces)
  Batch piece;
  bool in_flight = false;  // forward_start sent the rows on; forward_finish takes them back
  ActBuffer act;
};

// The cache rows of every sequence slot: kv[seq][layer]; `cache` names the same cache on the
// later pipeline stages (StageLink::open_cache; -1 when the model is not split).
struct SeqKv {
  std::vector<std::vector<LayerKv>> seqs;
  int cache = -1;
  const std::vector<LayerKv>& operator[](size_t seq) const { return seqs[seq]; }
};

// Runs a batch: each token at its position in its sequence, whose cache rows are kv[seq]. A
// token attends to the positions of its own sequence up to its own (those earlier in the batch
// included). Writes n_vocab logits for each token whose `logits` flag is set, in batch order.
// The batch must be valid (tokens in the vocabulary, positions within the cache, each
// sequence's positions consecutive after what its cache holds): the caller checks.
// A split model's first stage runs its layers, then the link runs the later stages' before the
// head. When `hidden` is set, every token's final state after output_norm (n_tok x n_embd, batch order)
// is written there as well: what DeepSeek-V3's MTP module reads (forward_mtp).
void forward(const Model& m, const SeqKv& kv, const Batch& b, float* logits, ThreadPool& pool, Scratch& s,
             float* hidden = nullptr);
// forward in two halves, for passes of other sequences in flight meanwhile (Engine's lanes over
// a pipeline split): forward_start runs this process's layers on b and sends the rows on to the
// later stages without waiting for them; forward_finish waits for them (while the `keep` passes
// started after this one stay in flight) and runs the head. Without later stages forward_start
// does all but the head. Each pass in flight needs its own Scratch.
void forward_start(const Model& m, const SeqKv& kv, const Batch& b, ThreadPool& pool, Scratch& s);
void forward_finish(const Model& m, const Batch& b, float* logits, ThreadPool& pool, Scratch& s,
                    float* hidden = nullptr, int keep = 0);

// DeepSeek-V3's multi-token-prediction module (the first MTP layer) over a batch: token t is the
// token that follows position b.pos[t] of its sequence and hidden + t * n_embd the trunk's state
// there (forward's `hidden`); the MTP layer's cache rows are kv[seq][n_layer]. Writes, for each
// flagged token, the logits of the token after it: a guess two positions past the trunk's state.
// With `states`, each flagged token's final state (after the module's head norm, n_flagged x n_embd)
// goes there too: what a chained guess one position further takes in place of the trunk's. states
// may be `hidden` itself (it is read before states are written).
// The model must have mtp_layers (callers check).
void forward_mtp(const Model& m, const SeqKv& kv, const Batch& b, const float* hidden, float* logits,
                 ThreadPool& pool, Scratch& s, float* states = nullptr);

// The trunk layers this process holds (Model::layer_begin..layer_end) on the rows in s.x: what a
// later pipeline stage runs on the rows it receives.
void forward_layers(const Model& m, const SeqKv& kv, const Batch& b, ThreadPool& pool, Scratch& s);
void forward_llama(const Model& m, const SeqKv& kv, const Batch& b, ThreadPool& pool, Scratch& s);
void forward_deepseek2(const Model& m, const SeqKv& kv, const Batch& b, ThreadPool& pool, Scratch& s);
// One deepseek2 decoder layer (MLA, then the dense FFN or the MoE) on s.x, its cache rows kv[seq][l];
// s.cs must hold the batch's rope tables (rope_tables).
void deepseek2_layer(const Model& m, const Layer& L, int l, const SeqKv& kv, const Batch& b, ThreadPool& pool,
                     Scratch& s);

// Shared pieces of the per-family forward passes.
void embed_tokens(const Model& m, const int32_t* tokens, int n_tok, float* x);
void swiglu_ffn(const Weight& gate, const Weight& up, const Weight& down, const float* h, int n_tok, float* out,
                ThreadPool& pool, Scratch& s);

// Fills s.cs with cos (first n_rot/2) then sin tables for each token's position.
void rope_tables(const Hparams& hp, const Batch& b, Scratch& s);
// The largest position in the batch, plus one: how many cache rows any token attends over at most.
int64_t max_kv_len(const Batch& b);
// RMS-normalises n_tok rows of n floats (out may alias x).
void norm_rows(const float* x, const Weight& w, int n_tok, int64_t n, float eps, float* out);

template <typename T>
inline void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// 0, 1, ..., n - 1 (at least): the rows of a gathered product that reads every row. A later call
// for more rows may move them.
inline const int32_t* row_indices(Scratch& s, int64_t n) {
  for (int64_t i = int64_t(s.seq.size()); i < n; ++i) s.seq.push_back(int32_t(i));
  return s.seq.data();
}

}  // namespace dawn
