// dist over Open MPI: start-up checks (same model on every rank, each rank's part loaded), the
// pipeline's wire (rank 0 -> 1 -> ... -> N-1 -> 0, one message per forward pass) and the loop that
// the ranks after the first run. Every wait is polled with a deadline, so a rank that hangs is
// reported by name instead of hanging the others.
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "dist/dist.h"
#include "dist/plan.h"
#include "engine/kv_cache.h"
#include "util/error.h"
#include "util/sha256.h"

namespace dawn::dist {

namespace {

bool g_mpi = false;
bool g_abort_at_exit = false;  // the ring broke (a rank hung or failed mid-message): MPI_Finalize would wait forever
int g_rank = 0, g_size = 1;
char g_host[64] = "?";
// What this rank is waiting on, for the line a SIGTERM from mpirun prints (another rank died).
char g_activity[192] = "starting";

enum Tag : int { kRing = 1, kProgress = 2 };
enum Op : int32_t { kForward = 1, kOpenCache, kCloseCache, kRelease, kExit, kFailed };

// One message of the ring: this header, then for kForward the tokens' positions and sequences
// (n_tok int32 each) and their rows (n_tok x n_embd floats); for kFailed the error's text.
struct Header {
  int32_t op = 0, cache = -1, n_tok = 0, a = 0, b = 0, c = 0;
  int64_t serial = 0;
};

// A rank's report to rank 0 of where a message has got to: what the watchdog names.
struct Progress {
  int64_t serial;
  int32_t rank, phase;  // 1: received, 2: passed on
};

void set_activity(const std::string& s) {
  std::snprintf(g_activity, sizeof g_activity, "%s", s.c_str());
}

void on_sigterm(int) {
  char line[320];
  const int n = std::snprintf(line, sizeof line, "dawn: rank %d (%s): stopped by SIGTERM (mpirun: another rank exited?) while %s\n",
                              g_rank, g_host, g_activity);
  if (n > 0) (void)!write(2, line, size_t(std::min(n, int(sizeof line) - 1)));
  _exit(143);
}

std::string rank_name(int r) {
  return "rank " + std::to_string(r);
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("MPI: ") + what + ": " + std::string(text, size_t(len)));
}

// Polls for a message (tag, from source) until it arrives or timeout_s passes (< 0: forever).
// Short waits spin; longer ones sleep, so an idle rank leaves the cores to the ones computing.
// on_idle runs between polls (rank 0 drains progress reports there). Returns false on timeout.
template <typename F>
bool wait_message(int source, int tag, double timeout_s, MPI_Status& st, F&& on_idle) {
  const auto start = std::chrono::steady_clock::now();
  for (int spin = 0;; ++spin) {
    int flag = 0;
    check(MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &st), "probe");
    if (flag) return true;
    on_idle();
    if (spin < 200) {
      std::this_thread::yield();
      continue;
    }
    if (timeout_s >= 0 && (spin & 63) == 0) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (s > timeout_s) return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(spin < 2000 ? 50 : 200));
  }
}

std::vector<uint8_t> receive(const MPI_Status& st) {
  int n = 0;
  check(MPI_Get_count(&st, MPI_BYTE, &n), "message size");
  std::vector<uint8_t> buf(size_t(std::max(n, 0)));
  check(MPI_Recv(buf.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receive");
  return buf;
}

Header header_of(const std::vector<uint8_t>& buf) {
  Header h;
  if (buf.size() < sizeof h) throw Error("MPI: a message of " + std::to_string(buf.size()) + " bytes is too short");
  std::memcpy(&h, buf.data(), sizeof h);
  return h;
}

std::vector<uint8_t> message(const Header& h, size_t payload) {
  std::vector<uint8_t> buf(sizeof h + payload);
  std::memcpy(buf.data(), &h, sizeof h);
  return buf;
}

std::vector<uint8_t> failure(int64_t serial, const std::string& what) {
  Header h;
  h.op = kFailed;
  h.serial = serial;
  auto buf = message(h, what.size());
  std::memcpy(buf.data() + sizeof h, what.data(), what.size());
  return buf;
}

void send(const std::vector<uint8_t>& buf, int dest) {
  check(MPI_Send(buf.data(), int(buf.size()), MPI_BYTE, dest, kRing, MPI_COMM_WORLD), "send");
}

// Every rank's outcome of a step of the start-up, gathered on all ranks: rank 0 reports the first
// failure (with the rank's name) and the others leave quietly, so the user sees one line.
struct Record {
  int32_t ok;
  uint64_t size;
  char host[64];
  char digest[65];
  char text[400];
};

std::vector<Record> gather(const Record& mine) {
  std::vector<Record> all(static_cast<size_t>(g_size));
  check(MPI_Allgather(&mine, int(sizeof mine), MPI_BYTE, all.data(), int(sizeof mine), MPI_BYTE, MPI_COMM_WORLD),
        "start-up exchange");
  return all;
}

Record record(bool ok, const std::string& text) {
  Record r{};
  r.ok = ok;
  std::snprintf(r.host, sizeof r.host, "%s", g_host);
  std::snprintf(r.text, sizeof r.text, "%s", text.c_str());
  return r;
}

[[noreturn]] void leave_quietly() {
  // Rank 0 reports the failure; this rank's part is done.
  MPI_Finalize();
  g_mpi = false;
  std::exit(1);
}

void fail_together(const std::vector<Record>& all) {
  for (int r = 0; r < g_size; ++r) {
    if (all[size_t(r)].ok) continue;
    if (g_rank != 0) leave_quietly();
    throw Error(rank_name(r) + " (" + all[size_t(r)].host + "): " + all[size_t(r)].text);
  }
}

// Rank 0's side of the pipeline: sends each pass around the ring and waits for it to come back.
class PipelineLink final : public StageLink {
 public:
  PipelineLink(int64_t n_embd, double timeout_s, std::vector<std::string> hosts)
      : n_embd_(n_embd), timeout_s_(timeout_s), hosts_(std::move(hosts)), phase_(size_t(g_size), {0, 0}) {}
  ~PipelineLink() override { shutdown(); }

  void pass(int cache, const Batch& b, float* x) override {
    const int n = b.size();
    Header h;
    h.op = kForward;
    h.cache = cache;
    h.n_tok = n;
    auto buf = message(h, size_t(n) * 8 + size_t(n) * size_t(n_embd_) * 4);
    uint8_t* p = buf.data() + sizeof h;
    std::memcpy(p, b.pos.data(), size_t(n) * 4);
    std::memcpy(p + size_t(n) * 4, b.seq.data(), size_t(n) * 4);
    std::memcpy(p + size_t(n) * 8, x, size_t(n) * size_t(n_embd_) * 4);
    const auto back = round_trip(std::move(buf), "forward of " + std::to_string(n) + " token" + (n == 1 ? "" : "s"));
    if (back.size() != sizeof h + size_t(n) * 8 + size_t(n) * size_t(n_embd_) * 4) {
      broken_ = true;
      throw Error(rank_name(g_size - 1) + ": returned " + std::to_string(back.size()) + " bytes for a forward of " +
                  std::to_string(n) + " tokens");
    }
    std::memcpy(x, back.data() + sizeof h + size_t(n) * 8, size_t(n) * size_t(n_embd_) * 4);
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

  void release(int cache, int seq) override {
    Header h;
    h.op = kRelease;
    h.cache = cache;
    h.a = seq;
    round_trip(message(h, 0), "releasing a sequence");
  }

  // Tells the other ranks to finish (once); after a failure that left the ring broken, aborts the
  // job instead, since they cannot be reached.
  void shutdown() noexcept {
    if (done_) return;
    done_ = true;
    if (broken_) {
      g_abort_at_exit = true;
      return;
    }
    Header h;
    h.op = kExit;
    try {
      send_ring(message(h, 0), "finishing");
    } catch (const Error& e) {
      std::fprintf(stderr, "dawn: %s\n", e.what());
      broken_ = true;
      g_abort_at_exit = true;
    }
  }

 private:
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
    const bool got = wait_message(g_size - 1, kRing, timeout_s_, st, [&] { drain_progress(); });
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
      if (p.rank > 0 && p.rank < g_size) phase_[size_t(p.rank)] = {p.serial, p.phase};
    }
  }

  // Names the first rank that has not passed message `serial` on.
  std::string blame(int64_t serial, const std::string& what) {
    drain_progress();
    const std::string waited = std::to_string(int(timeout_s_)) + " s";
    for (int r = 1; r < g_size; ++r) {
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
           rank_name(g_size - 1) + " in " + waited;
  }

  int64_t n_embd_;
  double timeout_s_;
  std::vector<std::string> hosts_;
  std::vector<std::pair<int64_t, int32_t>> phase_;  // per rank: the last message reported, and how far
  int64_t serial_ = 0;
  int next_cache_ = 0;
  bool broken_ = false, done_ = false;
};

std::weak_ptr<PipelineLink> g_link;
bool g_opened = false;

void finalize() {
  if (!g_mpi) return;
  if (auto link = g_link.lock()) link->shutdown();
  if (g_abort_at_exit) MPI_Abort(MPI_COMM_WORLD, 1);  // stops the ranks that cannot be told to
  MPI_Finalize();
  g_mpi = false;
}

// The loop of every rank after the first: receive from the previous rank, run this rank's layers
// (or cache operation), pass on to the next (the last rank's go back to rank 0).
[[noreturn]] void serve_stage(const Model& m, int n_threads) {
  ThreadPool pool(n_threads);
  Scratch s;
  Batch b;
  struct Cache {
    std::unique_ptr<KvCache> kv;
    SeqKv rows;
  };
  std::map<int, Cache> caches;
  const int prev = g_rank - 1, next = (g_rank + 1) % g_size;
  const int64_t D = m.hp.n_embd;
  for (;;) {
    set_activity("waiting for " + rank_name(prev));
    MPI_Status st;
    wait_message(prev, kRing, -1, st, [] {});
    auto buf = receive(st);
    Header h = header_of(buf);
    const Progress got{h.serial, g_rank, 1};
    MPI_Send(&got, int(sizeof got), MPI_BYTE, 0, kProgress, MPI_COMM_WORLD);
    set_activity("running message #" + std::to_string(h.serial));
    try {
      switch (h.op) {
        case kForward: {
          const size_t n = size_t(std::max(h.n_tok, 0));
          if (buf.size() != sizeof h + n * 8 + n * size_t(D) * 4) throw Error("a forward message of the wrong size");
          auto c = caches.find(h.cache);
          if (c == caches.end()) throw Error("no KV cache " + std::to_string(h.cache));
          const uint8_t* p = buf.data() + sizeof h;
          b.clear();
          for (size_t t = 0; t < n; ++t) {
            int32_t pos, seq;
            std::memcpy(&pos, p + t * 4, 4);
            std::memcpy(&seq, p + n * 4 + t * 4, 4);
            if (seq < 0 || seq >= c->second.kv->n_seq() || pos < 0 || pos >= c->second.kv->n_ctx()) {
              throw Error("position " + std::to_string(pos) + " of sequence " + std::to_string(seq) +
                          " is outside the KV cache");
            }
            b.add(0, pos, seq, false);
          }
          grow(s.x, n * size_t(D));
          std::memcpy(s.x.data(), p + n * 8, n * size_t(D) * 4);
          forward_layers(m, c->second.rows, b, pool, s);
          std::memcpy(buf.data() + sizeof h + n * 8, s.x.data(), n * size_t(D) * 4);
          break;
        }
        case kOpenCache: {
          Cache c;
          c.kv = std::make_unique<KvCache>(m, h.a, h.b, KvType(h.c));
          for (int i = 0; i < h.b; ++i) c.rows.seqs.push_back(c.kv->view(i));
          caches[h.cache] = std::move(c);
          break;
        }
        case kCloseCache: caches.erase(h.cache); break;
        case kRelease: {
          auto c = caches.find(h.cache);
          if (c != caches.end() && h.a >= 0 && h.a < c->second.kv->n_seq()) c->second.kv->release(h.a);
          break;
        }
        case kFailed: break;  // someone earlier failed: pass it on for rank 0 to report
        case kExit: {
          send(buf, next);  // the last rank's goes back to rank 0: everyone has it
          MPI_Finalize();
          g_mpi = false;
          std::exit(0);
        }
        default: throw Error("unknown message " + std::to_string(h.op));
      }
    } catch (const std::exception& e) {
      buf = failure(h.serial, rank_name(g_rank) + " (" + g_host + "): " + e.what());
    }
    send(buf, next);
    const Progress sent{h.serial, g_rank, 2};
    MPI_Send(&sent, int(sizeof sent), MPI_BYTE, 0, kProgress, MPI_COMM_WORLD);
    set_activity("idle");
  }
}

// What the ranks compare: the header (metadata and tensor infos) and the first and last 4 KiB of
// every tensor, so that two files of one shape with other weights differ too (a few MiB read even
// for a 671B file).
std::string model_digest(const GgufFile& f) {
  const std::string_view h = f.header();
  std::string bytes(h);
  for (const GgufTensor& t : f.tensors()) {
    const size_t n = std::min<size_t>(t.nbytes, 4096);
    bytes.append(reinterpret_cast<const char*>(t.data), n);
    bytes.append(reinterpret_cast<const char*>(t.data + t.nbytes - n), n);
  }
  return sha256_bytes(bytes.data(), bytes.size());
}

std::string mib(size_t bytes) {
  char t[32];
  std::snprintf(t, sizeof t, "%.1f MiB", double(bytes) / double(1 << 20));
  return t;
}

}  // namespace

void init(int* argc, char*** argv) {
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK");
  if (!launched) return;
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    std::fprintf(stderr, "dawn: error: MPI_Init failed\n");
    std::exit(1);
  }
  g_mpi = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  gethostname(g_host, sizeof g_host - 1);
  std::atexit(finalize);
  signal(SIGTERM, on_sigterm);
}

void abandon() {
  if (g_mpi && g_size > 1 && !g_opened) MPI_Abort(MPI_COMM_WORLD, 1);
}

int rank() { return g_rank; }
int size() { return g_size; }
bool available() { return true; }

std::unique_ptr<Model> open_model(const std::string& path, const LoadOptions& opts, int n_threads) {
  if (!g_mpi || g_size == 1) {
    if (!opts.split.kind.empty() && opts.split.kind != "layers" && opts.split.kind != "experts") {
      throw Error("--split: unknown split '" + opts.split.kind + "' (layers or experts)");
    }
    return load_model(path, opts);  // one process: the whole model, whatever --split says
  }
  if (g_opened) throw Error("--split: a command under mpirun opens one model");
  g_opened = true;
  // 1. Every rank can read the file, and it is the same model (size and header hash).
  Record mine = record(true, "");
  std::unique_ptr<GgufFile> header;
  try {
    if (opts.split.kind.empty()) {
      throw Error(std::to_string(g_size) + " ranks but no --split: pass --split layers (or run one process)");
    }
    if (opts.split.kind == "experts") {
      throw Error("--split experts: not available yet; use --split layers");
    }
    if (opts.split.kind != "layers") throw Error("--split: unknown split '" + opts.split.kind + "' (layers or experts)");
    header = GgufFile::open(path, GgufFile::Residency::Map);
    mine.size = header->file_size();
    std::snprintf(mine.digest, sizeof mine.digest, "%s", model_digest(*header).c_str());
  } catch (const std::exception& e) {
    mine = record(false, e.what());
  }
  auto all = gather(mine);
  fail_together(all);
  for (int r = 1; r < g_size; ++r) {
    const Record& o = all[size_t(r)];
    if (o.size != all[0].size || std::strcmp(o.digest, all[0].digest) != 0) {
      if (g_rank != 0) leave_quietly();
      throw Error(rank_name(r) + " (" + o.host + ") opened a different model at " + path + ": " +
                  std::to_string(o.size) + " bytes, sha256 of header and samples " + std::string(o.digest).substr(0, 12) +
                  "..., where rank 0 has " + std::to_string(all[0].size) + " bytes, " +
                  std::string(all[0].digest).substr(0, 12) + "... (every rank needs its own copy of the same file)");
    }
  }
  std::vector<std::string> hosts;
  for (const Record& r : all) hosts.push_back(r.host);
  // 2. Each rank loads its layers (rank 0 also the embeddings, the head and the MTP layers).
  std::unique_ptr<Model> m;
  std::vector<Stage> plan;
  mine = record(true, "");
  try {
    plan = plan_layers(*header, g_size, opts.split.layers_per_rank);
    header.reset();
    LoadOptions part = opts;
    part.layer_begin = plan[size_t(g_rank)].begin;
    part.layer_end = plan[size_t(g_rank)].end;
    part.ends = g_rank == 0;
    m = load_model(path, part);
  } catch (const std::exception& e) {
    mine = record(false, e.what());
  }
  all = gather(mine);
  fail_together(all);
  if (g_rank != 0) serve_stage(*m, std::max(1, n_threads));
  std::string line = "dawn: --split layers over " + std::to_string(g_size) + " ranks:";
  for (int r = 0; r < g_size; ++r) {
    const Stage& s = plan[size_t(r)];
    line += std::string(r ? ";" : "") + " " + rank_name(r) + " (" + hosts[size_t(r)] + ") layers " +
            std::to_string(s.begin) + "-" + std::to_string(s.end - 1) + (r == 0 ? " + embeddings and head" : "") +
            ", " + mib(s.bytes);
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  auto link = std::make_shared<PipelineLink>(m->hp.n_embd, opts.split.timeout_s, hosts);
  g_link = link;
  m->link = link;
  return m;
}

}  // namespace dawn::dist
