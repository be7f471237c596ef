// --split layers over MPI: rank 0 sends each forward pass's rows around the ring 0 -> 1 -> ... ->
// N-1 -> 0, each rank running its layers on them; cache operations travel the same way. Ranks
// report each message's progress to rank 0, so a silent one is named.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "dist/mpi_wire.h"
#include "engine/kv_cache.h"
#include "util/error.h"

namespace dawn::dist::wire {

namespace {

// A rank's report to rank 0 of where a message has got to: what the watchdog names.
struct Progress {
  int64_t serial;
  int32_t rank, phase;  // 1: received, 2: passed on
};

// kForward's payload: the tokens' positions and sequences (n_tok int32 each), then their rows
// (n_tok x n_embd values in the wire's form: F32, or Q8_0 blocks). kFailed's: the error's text.
class PipelineLink final : public Link {
 public:
  PipelineLink(RowWire w, double timeout_s, std::vector<std::string> hosts)
      : wire_(w), timeout_s_(timeout_s), hosts_(std::move(hosts)), phase_(size_t(size()), {0, 0}) {}
  ~PipelineLink() override { shutdown(); }

  int stages() const override { return size(); }

  // Pieces of at least 64 tokens (each still a fair GEMM), up to 4 per later stage.
  int pieces(int n_tok) const override { return std::max(1, std::min(n_tok / 64, 4 * (size() - 1))); }

  void send_piece(int cache, const Batch& b, const float* x, float* back, bool last) override {
    if (done_) throw Error("MPI: the other ranks have finished");
    const int n = b.size();
    Flight f;
    f.send = forward_message(cache, b, x);
    Header h = header_of(f.send);
    h.serial = ++serial_;
    std::memcpy(f.send.data(), &h, sizeof h);
    f.recv.resize(f.send.size() + 512);  // room for a failure's text instead
    f.back = back;
    f.n = n;
    f.serial = h.serial;
    f.pass = pass_;
    if (last) ++pass_;
    flights_.push_back(std::move(f));
    Flight& g = flights_.back();
    // The return is posted first, so the last rank's send never waits for this rank to listen.
    g.reqs.resize(2);
    check(MPI_Irecv(g.recv.data(), int(g.recv.size()), MPI_BYTE, size() - 1, kRing, MPI_COMM_WORLD, &g.reqs[0]),
          "receive");
    check(MPI_Isend(g.send.data(), int(g.send.size()), MPI_BYTE, 1, kRing, MPI_COMM_WORLD, &g.reqs[1]), "send");
    counters().bytes_sent += g.send.size();
  }

  void progress() override {
    for (Flight& f : flights_) {
      int done = 0;
      MPI_Testall(int(f.reqs.size()), f.reqs.data(), &done, MPI_STATUSES_IGNORE);
    }
  }

  void wait_pieces(int keep) override {
    // The oldest flights, all but those of the `keep` newest passes (the ring returns in order).
    size_t n_wait = 0;
    while (n_wait < flights_.size() && flights_[n_wait].pass < pass_ - keep) ++n_wait;
    if (n_wait == 0) return;
    const double t0 = now_s();
    std::vector<MPI_Request> reqs;
    for (size_t i = 0; i < n_wait; ++i) reqs.insert(reqs.end(), flights_[i].reqs.begin(), flights_[i].reqs.end());
    const Flight& first = flights_.front();
    set_activity("waiting for the ranks after it (message #" + std::to_string(first.serial) + ", " +
                 std::to_string(flights_.size()) + " in flight)");
    const auto pending = wait_requests(reqs, timeout_s_, [&] { drain_progress(); });
    counters().wait_s += now_s() - t0;
    counters().passes += n_wait;
    std::vector<Flight> done(std::make_move_iterator(flights_.begin()), std::make_move_iterator(flights_.begin() + long(n_wait)));
    flights_.erase(flights_.begin(), flights_.begin() + long(n_wait));
    if (!pending.empty()) {
      broken_ = true;
      const Flight& f = done[size_t(pending[0]) / 2];
      throw Error(blame(f.serial, "forward of " + std::to_string(f.n) + " token" + (f.n == 1 ? "" : "s")));
    }
    for (Flight& f : done) {
      const Header r = header_of(f.recv);
      if (r.op == kFailed) {
        const char* text = reinterpret_cast<const char*>(f.recv.data()) + sizeof r;
        throw Error(std::string(text, strnlen(text, f.recv.size() - sizeof r)));
      }
      if (r.serial != f.serial || r.op != kForward || r.n_tok != f.n) {
        broken_ = true;
        throw Error("MPI: message #" + std::to_string(r.serial) + " came back for #" + std::to_string(f.serial));
      }
      wire_.get(f.recv.data() + sizeof r + size_t(f.n) * 8, f.n, f.back);
    }
    set_activity("idle");
  }

  int open_cache(int n_ctx, int n_seq, KvType type) override {
    Header h;
    h.op = kOpenCache;
    h.cache = next_cache_++;
    h.a = n_ctx;
    h.b = n_seq;
    h.c = int32_t(type);
    round_trip(message(h, 0), "opening a KV cache");
    return h.cache;
  }

  void close_cache(int cache) noexcept override {
    if (broken_ || done_) return;
    Header h;
    h.op = kCloseCache;
    h.cache = cache;
    try {
      round_trip(message(h, 0), "closing a KV cache");
    } catch (const Error& e) {
      std::fprintf(stderr, "dawn: %s\n", e.what());
    }
  }

  std::vector<RankStats> rank_stats(bool reset) override {
    Header h;
    h.op = kStats;
    h.a = reset;
    std::vector<RankStats> out{take_stats(reset)};
    const auto back = round_trip(message(h, 0), "collecting statistics");
    for (size_t at = sizeof h; at + sizeof(RankStats) <= back.size(); at += sizeof(RankStats)) {
      RankStats r;
      std::memcpy(&r, back.data() + at, sizeof r);
      out.push_back(r);
    }
    return out;
  }

  void release(int cache, int seq) override {
    Header h;
    h.op = kRelease;
    h.cache = cache;
    h.a = seq;
    round_trip(message(h, 0), "releasing a sequence");
  }

  void save_prefix(int cache, int seq, int n, int id) override { prefix_op(kSavePrefix, cache, seq, n, id); }
  void load_prefix(int cache, int seq, int n, int id) override { prefix_op(kLoadPrefix, cache, seq, n, id); }
  void drop_prefix(int id) override { prefix_op(kDropPrefix, -1, 0, 0, id); }

  // Tells the other ranks to finish (once); after a failure that left the ring broken, aborts the
  // job instead, since they cannot be reached.
  void shutdown() noexcept override {
    if (done_) return;
    done_ = true;
    if (broken_) {
      abort_at_exit();
      return;
    }
    Header h;
    h.op = kExit;
    try {
      send_ring(message(h, 0), "finishing");
    } catch (const Error& e) {
      std::fprintf(stderr, "dawn: %s\n", e.what());
      broken_ = true;
      abort_at_exit();
    }
  }

 private:
  // kForward's message for the batch's rows x (the serial is set when it is sent).
  std::vector<uint8_t> forward_message(int cache, const Batch& b, const float* x) const {
    const size_t n = size_t(b.size());
    Header h;
    h.op = kForward;
    h.cache = cache;
    h.n_tok = int32_t(n);
    auto buf = message(h, n * 8 + n * wire_.row_bytes());
    uint8_t* p = buf.data() + sizeof h;
    std::memcpy(p, b.pos.data(), n * 4);
    std::memcpy(p + n * 4, b.seq.data(), n * 4);
    wire_.put(x, int64_t(n), p + n * 8);
    return buf;
  }

  void prefix_op(Op op, int cache, int seq, int n, int id) {
    round_trip(prefix_message(op, cache, seq, n, id), prefix_what(op));
  }

  std::vector<uint8_t> send_ring(std::vector<uint8_t> buf, const std::string& what) {
    Header h = header_of(buf);
    h.serial = ++serial_;
    std::memcpy(buf.data(), &h, sizeof h);
    set_activity("waiting for the ranks after it (" + what + ", message #" + std::to_string(h.serial) + ")");
    try {
      send(buf, 1);
    } catch (const Error&) {
      broken_ = true;
      throw;
    }
    MPI_Status st;
    const bool got = wait_message(size() - 1, kRing, timeout_s_, st, [&] { drain_progress(); });
    if (!got) {
      broken_ = true;
      throw Error(blame(h.serial, what));
    }
    auto back = receive(st);
    const Header r = header_of(back);
    if (r.op == kFailed) {
      throw Error(std::string(reinterpret_cast<const char*>(back.data()) + sizeof r, back.size() - sizeof r));
    }
    if (r.serial != h.serial) {
      broken_ = true;
      throw Error("MPI: message #" + std::to_string(r.serial) + " came back for #" + std::to_string(h.serial));
    }
    set_activity("idle");
    return back;
  }

  std::vector<uint8_t> round_trip(std::vector<uint8_t> buf, const std::string& what) {
    if (done_) throw Error("MPI: the other ranks have finished");
    return send_ring(std::move(buf), what);
  }

  void drain_progress() {
    for (;;) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, kProgress, MPI_COMM_WORLD, &flag, &st);
      if (!flag) return;
      Progress p{};
      MPI_Recv(&p, int(sizeof p), MPI_BYTE, st.MPI_SOURCE, kProgress, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (p.rank > 0 && p.rank < size()) phase_[size_t(p.rank)] = {p.serial, p.phase};
    }
  }

  // Names the first rank that has not passed message `serial` on.
  std::string blame(int64_t serial, const std::string& what) {
    drain_progress();
    const std::string waited = std::to_string(int(timeout_s_)) + " s";
    for (int r = 1; r < size(); ++r) {
      const auto [s, phase] = phase_[size_t(r)];
      const std::string who = rank_name(r) + " (" + hosts_[size_t(r)] + ")";
      if (s < serial) {
        return who + " has not received message #" + std::to_string(serial) + " (" + what + ") in " + waited +
               ": it (or the link to it) is down or hung";
      }
      if (phase < 2) {
        return who + " has run message #" + std::to_string(serial) + " (" + what + ") for " + waited +
               " without passing it on: it is hung or far too slow (raise --dist-timeout)";
      }
    }
    return "the result of message #" + std::to_string(serial) + " (" + what + ") did not reach rank 0 from " +
           rank_name(size() - 1) + " in " + waited;
  }

  // A piece in flight: its message, the buffer its return lands in, and where its rows go.
  struct Flight {
    std::vector<uint8_t> send, recv;
    std::vector<MPI_Request> reqs;
    float* back = nullptr;
    int n = 0;
    int64_t serial = 0, pass = 0;  // pass: forward passes sent before this piece's
  };
  std::vector<Flight> flights_;
  RowWire wire_;
  double timeout_s_;
  std::vector<std::string> hosts_;
  std::vector<std::pair<int64_t, int32_t>> phase_;  // per rank: the last message reported, and how far
  int64_t serial_ = 0, pass_ = 0;
  int next_cache_ = 0;
  bool broken_ = false, done_ = false;
};

}  // namespace

std::shared_ptr<Link> pipeline_link(RowWire w, double timeout_s, std::vector<std::string> hosts) {
  return std::make_shared<PipelineLink>(w, timeout_s, std::move(hosts));
}

// The loop of every rank after the first: receive from the previous rank, run this rank's layers
// (or cache operation), pass on to the next (the last rank's go back to rank 0).
[[noreturn]] void serve_pipeline_stage(const Model& m, int n_threads, RowWire w) {
  ThreadPool pool(n_threads);
  Scratch s;
  Batch b;
  StageCaches caches(m);
  const int prev = rank() - 1, next = (rank() + 1) % size();
  const int64_t D = m.hp.n_embd;
  for (;;) {
    set_activity("waiting for " + rank_name(prev));
    MPI_Status st;
    wait_message(prev, kRing, -1, st, [] {});
    auto buf = receive(st);
    Header h = header_of(buf);
    const Progress got{h.serial, rank(), 1};
    MPI_Send(&got, int(sizeof got), MPI_BYTE, 0, kProgress, MPI_COMM_WORLD);
    set_activity("running message #" + std::to_string(h.serial));
    try {
      switch (h.op) {
        case kForward: {
          const size_t n = size_t(std::max(h.n_tok, 0));
          if (buf.size() != sizeof h + n * 8 + n * w.row_bytes()) throw Error("a forward message of the wrong size");
          const StageCaches::Cache& c = caches.at(h.cache);
          const uint8_t* p = buf.data() + sizeof h;
          b.clear();
          for (size_t t = 0; t < n; ++t) {
            int32_t pos, seq;
            std::memcpy(&pos, p + t * 4, 4);
            std::memcpy(&seq, p + n * 4 + t * 4, 4);
            if (seq < 0 || seq >= c.kv->n_seq() || pos < 0 || pos >= c.kv->n_ctx()) {
              throw Error("position " + std::to_string(pos) + " of sequence " + std::to_string(seq) +
                          " is outside the KV cache");
            }
            b.add(0, pos, seq, false);
          }
          grow(s.x, n * size_t(D));
          w.get(p + n * 8, int64_t(n), s.x.data());
          const double t0 = now_s();
          forward_layers(m, c.rows, b, pool, s);
          counters().compute_s += now_s() - t0;
          ++counters().passes;
          w.put(s.x.data(), int64_t(n), buf.data() + sizeof h + n * 8);
          break;
        }
        case kFailed: break;  // someone earlier failed: pass it on for rank 0 to report
        case kStats: append_stats(buf, h.a != 0); break;
        case kExit: {
          send(buf, next);  // the last rank's goes back to rank 0: everyone has it
          finish(0);
        }
        default:
          if (!caches.apply(h)) throw Error("unknown message " + std::to_string(h.op));
      }
    } catch (const std::exception& e) {
      buf = failure(h.serial, rank_name(rank()) + " (" + host() + "): " + e.what());
    }
    const double t_send = now_s();
    send(buf, next);
    if (h.op == kForward) counters().wait_s += now_s() - t_send;
    const Progress sent{h.serial, rank(), 2};
    MPI_Send(&sent, int(sizeof sent), MPI_BYTE, 0, kProgress, MPI_COMM_WORLD);
    set_activity("idle");
  }
}

}  // namespace dawn::dist::wire
