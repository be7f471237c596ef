// --split experts over MPI: every rank runs every layer on the same batch (attention, dense layers
// and shared experts replicated), each holding a contiguous share of every MoE layer's routed
// experts. Rank 0 sends each forward pass's tokens to the others; in each MoE layer every rank
// runs its experts for the tokens that chose them and the ranks swap those rows pairwise (one
// message per rank pair per layer), so each ends with the rows a single process computes and sums
// them in the same order: the same logits, bit for bit.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "dist/mpi_wire.h"
#include "engine/kv_cache.h"
#include "util/error.h"

namespace dawn::dist::wire {

namespace {

// kForward's payload: the tokens, their positions and their sequences (n_tok int32 each).
class ExpertLink final : public Link {
 public:
  ExpertLink(int n_expert, RowWire w, double timeout_s, std::vector<std::string> hosts)
      : wire_(w), timeout_s_(timeout_s), hosts_(std::move(hosts)) {
    for (int r = 0; r <= size(); ++r) bounds_.push_back(int(int64_t(n_expert) * r / size()));
  }
  ~ExpertLink() override { shutdown(); }

  void begin(int cache, const Batch& b) override {
    if (rank() != 0) return;
    const int n = b.size();
    Header h;
    h.op = kForward;
    h.cache = cache;
    h.n_tok = n;
    h.serial = ++serial_;
    auto buf = message(h, size_t(n) * 12);
    uint8_t* p = buf.data() + sizeof h;
    std::memcpy(p, b.token.data(), size_t(n) * 4);
    std::memcpy(p + size_t(n) * 4, b.pos.data(), size_t(n) * 4);
    std::memcpy(p + size_t(n) * 8, b.seq.data(), size_t(n) * 4);
    const double t0 = now_s();
    to_all(buf, "forward of " + std::to_string(n) + " token" + (n == 1 ? "" : "s"));
    counters().wait_s += now_s() - t0;
    counters().bytes_sent += uint64_t(size() - 1) * buf.size();
    ++counters().passes;
  }


  void exchange_experts(const ExpertRows& r) override {
    const int me = rank(), n = size();
    const auto start = [&](int q) { return bounds_[size_t(q)] > 0 ? int64_t(r.end[bounds_[size_t(q)] - 1]) : 0; };
    wire_.dim = r.dim;
    const size_t rb = wire_.row_bytes();
    reqs_.clear();
    peer_.clear();
    recv_.resize(size_t(n));
    rows_ = r.rows;
    const int64_t mine0 = start(me), mine1 = start(me + 1);
    for (int q = 0; q < n; ++q) {
      if (q == me) continue;
      const int64_t a = start(q), b = start(q + 1);
      Incoming& in = recv_[size_t(q)];
      in.row0 = a;
      in.n_rows = b - a;
      // F32 rows land in place; Q8_0 blocks in a buffer, expanded when the exchange finishes.
      uint8_t* dst = reinterpret_cast<uint8_t*>(r.rows + a * r.dim);
      if (wire_.q8) {
        in.bytes.resize(size_t(b - a) * rb);
        dst = in.bytes.data();
      }
      reqs_.emplace_back();
      check(MPI_Irecv(dst, int(size_t(b - a) * rb), MPI_BYTE, q, kExperts, MPI_COMM_WORLD, &reqs_.back()),
            "expert exchange");
      peer_.push_back(q);
    }
    // Under Q8_0 this rank's own rows are rounded as the others will read them, so every rank sums
    // the same values and the ranks stay in step.
    const uint8_t* src = reinterpret_cast<const uint8_t*>(r.rows + mine0 * r.dim);
    if (wire_.q8) {
      send_.resize(size_t(mine1 - mine0) * rb);
      wire_.put(r.rows + mine0 * r.dim, mine1 - mine0, send_.data());
      wire_.get(send_.data(), mine1 - mine0, r.rows + mine0 * r.dim);
      src = send_.data();
    }
    for (int q = 0; q < n; ++q) {
      if (q == me) continue;
      reqs_.emplace_back();
      check(MPI_Isend(src, int(size_t(mine1 - mine0) * rb), MPI_BYTE, q, kExperts, MPI_COMM_WORLD, &reqs_.back()),
            "expert exchange");
      peer_.push_back(q);
    }
    counters().bytes_sent += uint64_t(n - 1) * uint64_t(mine1 - mine0) * rb;
    layer_ = r.layer;
    // Let the sends start while the shared experts run.
    int done = 0;
    MPI_Testall(int(reqs_.size()), reqs_.data(), &done, MPI_STATUSES_IGNORE);
  }

  void finish_exchange() override {
    const int n = size();
    set_activity("exchanging layer " + std::to_string(layer_) + "'s expert rows");
    const double t0 = now_s();
    const auto pending = wait_requests(reqs_, timeout_s_);
    counters().wait_s += now_s() - t0;
    if (pending.empty()) {
      if (wire_.q8) {
        for (int q = 0; q < n; ++q) {
          const Incoming& in = recv_[size_t(q)];
          if (q != rank() && in.n_rows > 0) wire_.get(in.bytes.data(), in.n_rows, rows_ + in.row0 * wire_.dim);
        }
      }
      return;
    }
    broken_ = true;
    const int q = peer_[size_t(pending[0])];
    const bool recv = size_t(pending[0]) < size_t(n - 1);
    throw Error(rank_name(q) + " (" + hosts_[size_t(q)] + ") " +
                (recv ? "sent nothing" : "took nothing") + " in layer " + std::to_string(layer_) +
                "'s expert exchange for " + std::to_string(int(timeout_s_)) +
                " s: it (or the link to it) is down or hung (raise --dist-timeout if it is only slow)");
  }

  int open_cache(int n_ctx, int n_seq, KvType type) override {
    if (rank() != 0) return -1;
    Header h;
    h.op = kOpenCache;
    h.cache = next_cache_++;
    h.a = n_ctx;
    h.b = n_seq;
    h.c = int32_t(type);
    h.serial = ++serial_;
    to_all(message(h, 0), "opening a KV cache", true);
    return h.cache;
  }

  void close_cache(int cache) noexcept override {
    if (rank() != 0 || broken_ || done_) return;
    Header h;
    h.op = kCloseCache;
    h.cache = cache;
    h.serial = ++serial_;
    try {
      to_all(message(h, 0), "closing a KV cache", true);
    } catch (const Error& e) {
      std::fprintf(stderr, "dawn: %s\n", e.what());
    }
  }

  std::vector<RankStats> rank_stats(bool reset) override {
    std::vector<RankStats> out{take_stats(reset)};
    if (rank() != 0) return out;
    Header h;
    h.op = kStats;
    h.a = reset;
    h.serial = ++serial_;
    to_all(message(h, 0), "collecting statistics", true, &out);
    return out;
  }

  void release(int cache, int seq) override {
    if (rank() != 0) return;
    Header h;
    h.op = kRelease;
    h.cache = cache;
    h.a = seq;
    h.serial = ++serial_;
    to_all(message(h, 0), "releasing a sequence", true);
  }

  void save_prefix(int cache, int seq, int n, int id) override { prefix_op(kSavePrefix, cache, seq, n, id); }
  void load_prefix(int cache, int seq, int n, int id) override { prefix_op(kLoadPrefix, cache, seq, n, id); }
  void drop_prefix(int id) override { prefix_op(kDropPrefix, -1, 0, 0, id); }

  void shutdown() noexcept override {
    if (rank() != 0 || done_) return;
    done_ = true;
    if (broken_) {
      abort_at_exit();
      return;
    }
    Header h;
    h.op = kExit;
    h.serial = ++serial_;
    try {
      to_all(message(h, 0), "finishing");
    } catch (const Error& e) {
      std::fprintf(stderr, "dawn: %s\n", e.what());
      abort_at_exit();
    }
  }

 private:
  // Sends buf to every other rank; with ack, waits for each one's answer (a failure's text is
  // thrown as it came, naming the rank).
  void to_all(const std::vector<uint8_t>& buf, const std::string& what, bool ack = false,
              std::vector<RankStats>* stats = nullptr) {
    if (done_ && header_of(buf).op != kExit) throw Error("MPI: the other ranks have finished");
    set_activity("sending " + what + " (message #" + std::to_string(serial_) + ") to the other ranks");
    std::vector<MPI_Request> reqs(size_t(size() - 1));
    for (int q = 1; q < size(); ++q) {
      check(MPI_Isend(buf.data(), int(buf.size()), MPI_BYTE, q, kRing, MPI_COMM_WORLD, &reqs[size_t(q - 1)]),
            "send");
    }
    const auto pending = wait_requests(reqs, timeout_s_);
    if (!pending.empty()) {
      broken_ = true;
      const int q = pending[0] + 1;
      throw Error(rank_name(q) + " (" + hosts_[size_t(q)] + ") took no " + what + " in " +
                  std::to_string(int(timeout_s_)) + " s: it (or the link to it) is down or hung");
    }
    if (!ack) return;
    for (int q = 1; q < size(); ++q) {
      MPI_Status st;
      if (!wait_message(q, kAck, timeout_s_, st, [] {})) {
        broken_ = true;
        throw Error(rank_name(q) + " (" + hosts_[size_t(q)] + ") did not answer " + what + " in " +
                    std::to_string(int(timeout_s_)) + " s: it is down or hung");
      }
      const auto back = receive(st);
      const Header r = header_of(back);
      if (r.op == kFailed) {
        throw Error(std::string(reinterpret_cast<const char*>(back.data()) + sizeof r, back.size() - sizeof r));
      }
      if (stats && back.size() >= sizeof r + sizeof(RankStats)) {
        RankStats one;
        std::memcpy(&one, back.data() + sizeof r, sizeof one);
        stats->push_back(one);
      }
    }
    set_activity("idle");
  }

  void prefix_op(Op op, int cache, int seq, int n, int id) {
    if (rank() != 0) return;
    to_all(prefix_message(op, cache, seq, n, id, ++serial_), prefix_what(op), true);
  }

  // The exchange in flight: each request's peer, where each peer's rows go (and, under Q8_0, the
  // blocks as they come), this rank's blocks as sent.
  struct Incoming {
    int64_t row0 = 0, n_rows = 0;
    std::vector<uint8_t> bytes;
  };
  RowWire wire_;
  std::vector<MPI_Request> reqs_;
  std::vector<int> peer_;
  std::vector<Incoming> recv_;
  std::vector<uint8_t> send_;
  float* rows_ = nullptr;
  int layer_ = -1;
  double timeout_s_;
  std::vector<std::string> hosts_;
  std::vector<int> bounds_;  // rank r holds experts [bounds_[r], bounds_[r + 1])
  int64_t serial_ = 0;
  int next_cache_ = 0;
  bool broken_ = false, done_ = false;
};

int n_expert(const Model& m) { return m.hp.router.n_expert; }

}  // namespace

std::shared_ptr<Link> expert_link(const Model& m, RowWire w, double timeout_s, std::vector<std::string> hosts) {
  return std::make_shared<ExpertLink>(n_expert(m), w, timeout_s, std::move(hosts));
}

void serve_expert_rank(Model& m, int n_threads, RowWire w, double timeout_s, std::vector<std::string> hosts) {
  m.link = std::make_shared<ExpertLink>(n_expert(m), w, timeout_s, std::move(hosts));
  ThreadPool pool(n_threads);
  Scratch s;
  Batch b;
  StageCaches caches(m);
  for (;;) {
    set_activity("waiting for rank 0");
    MPI_Status st;
    wait_message(0, kRing, -1, st, [] {});
    const auto buf = receive(st);
    const Header h = header_of(buf);
    set_activity("running message #" + std::to_string(h.serial));
    if (h.op == kExit) finish(0);
    if (h.op == kForward) {
      try {
        const size_t n = size_t(std::max(h.n_tok, 0));
        if (buf.size() != sizeof h + n * 12) throw Error("a forward message of the wrong size");
        const StageCaches::Cache& c = caches.at(h.cache);
        const uint8_t* p = buf.data() + sizeof h;
        b.clear();
        for (size_t t = 0; t < n; ++t) {
          int32_t tok, pos, seq;
          std::memcpy(&tok, p + t * 4, 4);
          std::memcpy(&pos, p + n * 4 + t * 4, 4);
          std::memcpy(&seq, p + n * 8 + t * 4, 4);
          if (tok < 0 || tok >= m.hp.n_vocab || seq < 0 || seq >= c.kv->n_seq() || pos < 0 || pos >= c.kv->n_ctx()) {
            throw Error("token " + std::to_string(tok) + " at position " + std::to_string(pos) + " of sequence " +
                        std::to_string(seq) + " is outside the model or the KV cache");
          }
          b.add(tok, pos, seq, false);
        }
        const double t0 = now_s(), w0 = counters().wait_s;
        forward(m, c.rows, b, nullptr, pool, s);
        counters().compute_s += now_s() - t0 - (counters().wait_s - w0);
        ++counters().passes;
      } catch (const std::exception& e) {
        // The others are in the same pass's exchanges: this rank cannot leave it alone.
        std::fprintf(stderr, "dawn: error: %s (%s): %s\n", rank_name(rank()).c_str(), host(), e.what());
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
      continue;
    }
    Header r;
    r.serial = h.serial;
    std::vector<uint8_t> reply = message(r, 0);
    try {
      if (h.op == kStats) {
        append_stats(reply, h.a != 0);
      } else if (!caches.apply(h)) {
        throw Error("unknown message " + std::to_string(h.op));
      }
    } catch (const std::exception& e) {
      reply = failure(h.serial, rank_name(rank()) + " (" + host() + "): " + e.what());
    }
    send(reply, 0, kAck);
    set_activity("idle");
  }
}

}  // namespace dawn::dist::wire
