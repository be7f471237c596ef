#include "ops/moe_ffn.h"

#include <algorithm>

#include "ops/activation.h"

namespace dawn {

namespace {

template <typename T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// Orders tasks[first, last) by weight type and width (stably; no allocation) and appends one group
// per run of equal ones, all reading x.
void group_by_type(std::vector<GatherTask>& tasks, size_t first, size_t last, const float* x, int64_t n_x,
                   std::vector<GatherGroup>& groups) {
  const auto before = [](const GatherTask& a, const GatherTask& b) {
    return a.w.type != b.w.type ? a.w.type < b.w.type : a.w.cols < b.w.cols;
  };
  for (size_t i = first + 1; i < last; ++i) {
    for (size_t j = i; j > first && before(tasks[j], tasks[j - 1]); --j) std::swap(tasks[j], tasks[j - 1]);
  }
  for (size_t i = first, j; i < last; i = j) {
    for (j = i + 1; j < last && !before(tasks[i], tasks[j]); ++j) {
    }
    groups.push_back({tasks.data() + i, int(j - i), x, n_x});
  }
}

}  // namespace

void moe_ffn(const RouterConfig& rc, const MoeWeights& w, int layer, const float* h, int n_tok, int64_t D,
             float* routed, float* shared_out, ThreadPool& pool, MoeScratch& s, ActBuffer& act,
             const ExpertExchange& exchange) {
  const int64_t E = rc.n_expert, fe = w.n_ff_exp;
  const int64_t e0 = w.expert_begin, e1 = w.expert_end < 0 ? E : w.expert_end;
  const int k = rc.n_used;
  const size_t nk = size_t(n_tok) * size_t(k);
  const bool shared = !w.gate_shexp.empty();
  const int64_t fs = shared ? w.gate_shexp.rows : 0;
  grow(s.router, size_t(n_tok * E + 2 * E));
  grow(s.ids, nk);
  grow(s.w, nk);
  grow(s.count, size_t(E + 1));
  grow(s.order, nk);
  grow(s.tok, nk);
  grow(s.x, nk * size_t(D + 2 * fe));
  grow(s.y, nk * size_t(D));
  grow(s.g_shared, size_t(n_tok * fs));
  grow(s.u_shared, size_t(n_tok * fs));
  for (size_t i = s.iota.size(); i < std::max(nk, size_t(n_tok)); ++i) s.iota.push_back(int32_t(i));
  const int32_t* seq = s.iota.data();

  // Route.
  matmul(w.gate_inp, h, n_tok, s.router.data(), pool, act);
  float* scratch = s.router.data() + n_tok * E;
  const float* bias = w.exp_probs_b.empty() ? nullptr : w.exp_probs_b.f32();
  for (int t = 0; t < n_tok; ++t) {
    route_experts(rc, s.router.data() + t * E, bias, scratch, s.ids.data() + t * k, s.w.data() + t * k);
  }
  // Dispatch: a counting sort of the (token, slot) pairs by expert. count[e] ends as the end of
  // expert e's run; sorted pair r reads token tok[r] and writes its rows at r * fe in g and u, then
  // r * D in xs.
  std::fill(s.count.begin(), s.count.begin() + E + 1, 0);
  for (size_t i = 0; i < nk; ++i) ++s.count[size_t(s.ids[i]) + 1];
  for (int64_t e = 0; e < E; ++e) s.count[size_t(e + 1)] += s.count[size_t(e)];
  for (size_t i = 0; i < nk; ++i) s.order[size_t(s.count[size_t(s.ids[i])]++)] = int32_t(i);
  for (size_t r = 0; r < nk; ++r) s.tok[r] = s.order[r] / k;
  for (int64_t e = e0; e < e1; ++e) s.experts_run += s.count[size_t(e)] > (e > 0 ? s.count[size_t(e - 1)] : 0);
  float* xs = s.x.data();
  float* g = xs + nk * size_t(D);
  float* u = g + nk * size_t(fe);
  // Run: the experts held here, gate and up products in one parallel region (with the shared
  // experts'), then the down products in another. Under an expert split the shared experts run
  // after the routed ones instead, while their rows are exchanged: that hides the wire's latency
  // and up to their time of the ranks' imbalance (the order changes no sum).
  const bool exchanging = e0 > 0 || e1 < E;
  const bool fuse_shared = shared && !exchanging;
  s.gather.clear();
  for (int64_t e = 0, begin = 0; e < E; ++e) {
    const int64_t end = s.count[size_t(e)];
    if (end > begin && e >= e0 && e < e1) {
      const int32_t* toks = s.tok.data() + begin;
      s.gather.push_back({w.gate_exps.slice(e * fe, fe), toks, end - begin, g + begin * fe});
      s.gather.push_back({w.up_exps.slice(e * fe, fe), toks, end - begin, u + begin * fe});
    }
    begin = end;
  }
  const auto shared_gate_up = [&] {
    s.gather.push_back({w.gate_shexp, seq, n_tok, s.g_shared.data()});
    s.gather.push_back({w.up_shexp, seq, n_tok, s.u_shared.data()});
  };
  if (fuse_shared) shared_gate_up();
  s.groups.clear();
  group_by_type(s.gather, 0, s.gather.size(), h, n_tok, s.groups);
  matmul_gather_groups(s.groups.data(), int(s.groups.size()), pool, act);
  {
    // Only the pairs of the experts held here have g and u rows.
    const int64_t r0 = e0 > 0 ? s.count[size_t(e0 - 1)] : 0, r1 = e1 > 0 ? s.count[size_t(e1 - 1)] : 0;
    swiglu(g + r0 * fe, u + r0 * fe, (r1 - r0) * fe);
  }
  if (fuse_shared) swiglu(s.g_shared.data(), s.u_shared.data(), n_tok * fs);
  s.gather.clear();
  for (int64_t e = 0, begin = 0; e < E; ++e) {
    const int64_t end = s.count[size_t(e)];
    if (end > begin && e >= e0 && e < e1) {
      s.gather.push_back({w.down_exps.slice(e * D, D), seq + begin, end - begin, xs + begin * D});
    }
    begin = end;
  }
  const size_t n_routed = s.gather.size();
  if (fuse_shared) s.gather.push_back({w.down_shexp, seq, n_tok, shared_out});
  s.groups.clear();
  group_by_type(s.gather, 0, n_routed, g, int64_t(nk), s.groups);
  group_by_type(s.gather, n_routed, s.gather.size(), s.g_shared.data(), n_tok, s.groups);
  matmul_gather_groups(s.groups.data(), int(s.groups.size()), pool, act);
  if (exchanging) {
    exchange.start(exchange.ctx, ExpertRows{xs, s.count.data(), E, D, layer});
    if (shared) {
      s.gather.clear();
      shared_gate_up();
      s.groups.clear();
      group_by_type(s.gather, 0, s.gather.size(), h, n_tok, s.groups);
      matmul_gather_groups(s.groups.data(), int(s.groups.size()), pool, act);
      swiglu(s.g_shared.data(), s.u_shared.data(), n_tok * fs);
      s.gather.clear();
      s.gather.push_back({w.down_shexp, seq, n_tok, shared_out});
      s.groups.clear();
      group_by_type(s.gather, 0, 1, s.g_shared.data(), n_tok, s.groups);
      matmul_gather_groups(s.groups.data(), int(s.groups.size()), pool, act);
    }
    if (exchange.finish) exchange.finish(exchange.ctx);
  }
  // Combine.
  for (size_t r = 0; r < nk; ++r) std::copy(xs + r * D, xs + (r + 1) * D, s.y.data() + size_t(s.order[r]) * D);
  for (int t = 0; t < n_tok; ++t) {
    float* out = routed + t * D;
    for (int j = 0; j < k; ++j) {
      const float* y = s.y.data() + (size_t(t) * k + size_t(j)) * D;
      const float wt = s.w[size_t(t) * k + size_t(j)];
      for (int64_t i = 0; i < D; ++i) out[i] = j == 0 ? y[i] * wt : out[i] + y[i] * wt;
    }
  }
}

}  // namespace dawn
