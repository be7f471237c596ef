#include "dist/mpi_wire.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dist/dist.h"
#include "kernels/types.h"
#include "util/error.h"

namespace dawn::dist {

namespace {

bool g_mpi = false;
bool g_abort = false;
int g_rank = 0, g_size = 1;
char g_host[64] = "?";
char g_activity[192] = "starting";
std::vector<std::weak_ptr<wire::Link>> g_links;

void on_sigterm(int) {
  char line[320];
  const int n = std::snprintf(line, sizeof line,
                              "dawn: rank %d (%s): stopped by SIGTERM (mpirun: another rank exited?) while %s\n", g_rank,
                              g_host, g_activity);
  if (n > 0) (void)!write(2, line, size_t(std::min(n, int(sizeof line) - 1)));
  _exit(143);
}

void finalize() {
  if (!g_mpi) return;
  for (auto& w : g_links) {
    if (auto link = w.lock()) link->shutdown();
  }
  if (g_abort) MPI_Abort(MPI_COMM_WORLD, 1);  // stops the ranks that cannot be told to
  MPI_Finalize();
  g_mpi = false;
}

}  // namespace

namespace wire {

int rank() { return g_rank; }
int size() { return g_size; }
const char* host() { return g_host; }
std::string rank_name(int r) { return "rank " + std::to_string(r); }

void set_activity(const std::string& s) { std::snprintf(g_activity, sizeof g_activity, "%s", s.c_str()); }

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("MPI: ") + what + ": " + std::string(text, size_t(len)));
}

namespace {
double g_spin_s = 2e-4;
}  // namespace

double spin_s() { return g_spin_s; }
void set_spin_s(double s) { g_spin_s = s; }

std::vector<uint8_t> prefix_message(Op op, int cache, int seq, int n, int id, int64_t serial) {
  Header h;
  h.op = op;
  h.cache = cache;
  h.a = seq;
  h.b = n;
  h.c = id;
  h.serial = serial;
  return message(h, 0);
}

const char* prefix_what(Op op) {
  return op == kSavePrefix ? "saving a prefix" : op == kLoadPrefix ? "restoring a prefix" : "dropping a prefix";
}

size_t RowWire::row_bytes() const { return q8 ? dawn::row_bytes(DType::Q8_0, dim) : size_t(dim) * 4; }

void RowWire::put(const float* x, int64_t n_rows, uint8_t* out) const {
  if (q8) {
    traits(DType::Q8_0).from_float(x, out, n_rows * dim);
  } else {
    std::memcpy(out, x, size_t(n_rows * dim) * 4);
  }
}

void RowWire::get(const uint8_t* in, int64_t n_rows, float* x) const {
  if (q8) {
    traits(DType::Q8_0).to_float(in, x, n_rows * dim);
  } else {
    std::memcpy(x, in, size_t(n_rows * dim) * 4);
  }
}

void RowWire::round(float* x, int64_t n_rows, std::vector<uint8_t>& buf) const {
  if (!q8) return;
  buf.resize(size_t(n_rows) * row_bytes());
  put(x, n_rows, buf.data());
  get(buf.data(), n_rows, x);
}

RowWire row_wire(const std::string& name, int64_t dim) {
  RowWire w;
  w.dim = dim;
  w.q8 = name == "q8_0";
  if (w.q8 && dim % 32 != 0) {
    throw Error("--wire q8_0: rows of " + std::to_string(dim) + " values are not whole blocks of 32; use --wire f32");
  }
  return w;
}

std::vector<int> wait_requests(std::vector<MPI_Request>& reqs, double timeout_s, const std::function<void()>& on_idle) {
  const auto start = std::chrono::steady_clock::now();
  bool sleeping = false;
  for (int spin = 0;; ++spin) {
    int done = 0;
    check(MPI_Testall(int(reqs.size()), reqs.data(), &done, MPI_STATUSES_IGNORE), "exchange");
    if (done) return {};
    if (on_idle) on_idle();
    if (!sleeping || (spin & 63) == 0) {  // as wait_message: spin for kSpinS, then sleep
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      sleeping = s > spin_s();
      if (timeout_s >= 0 && s > timeout_s) {
        std::vector<int> pending;
        for (size_t i = 0; i < reqs.size(); ++i) {
          int flag = 0;
          if (reqs[i] == MPI_REQUEST_NULL) continue;
          MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE);
          if (!flag) pending.push_back(int(i));
        }
        if (!pending.empty()) return pending;
      }
    }
    if (sleeping) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    } else {
      std::this_thread::yield();
    }
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

void send(const std::vector<uint8_t>& buf, int dest, int tag) {
  check(MPI_Send(buf.data(), int(buf.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD), "send");
  counters().bytes_sent += buf.size();
}

Counters& counters() {
  static Counters c;
  return c;
}

RankStats take_stats(bool reset) {
  RankStats r;
  r.rank = g_rank;
  std::snprintf(r.host, sizeof r.host, "%s", g_host);
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  r.peak_rss_bytes = double(u.ru_maxrss) * 1024.0;
  const Counters& c = counters();
  r.compute_s = g_rank == 0 ? -1 : c.compute_s;
  r.wait_s = c.wait_s;
  r.bytes_sent = c.bytes_sent;
  r.passes = c.passes;
  if (reset) counters() = Counters{};
  return r;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool StageCaches::apply(const Header& h) {
  switch (h.op) {
    case kOpenCache: {
      Cache c;
      c.kv = std::make_unique<KvCache>(m_, h.a, h.b, KvType(h.c));
      for (int i = 0; i < h.b; ++i) c.rows.seqs.push_back(c.kv->view(i));
      caches_[h.cache] = std::move(c);
      return true;
    }
    case kCloseCache: caches_.erase(h.cache); return true;
    case kRelease: {
      auto c = caches_.find(h.cache);
      if (c != caches_.end() && h.a >= 0 && h.a < c->second.kv->n_seq()) c->second.kv->release(h.a);
      return true;
    }
    case kSavePrefix:
    case kLoadPrefix: {
      KvCache& kv = *at(h.cache).kv;
      if (h.a < 0 || h.a >= kv.n_seq() || h.b < 0 || h.b > kv.n_ctx()) {
        throw Error("prefix of " + std::to_string(h.b) + " positions of sequence " + std::to_string(h.a) +
                    " is outside the KV cache");
      }
      if (h.op == kSavePrefix) {
        Saved& e = saved_[h.c];
        e.n = h.b;
        e.rows.resize(size_t(h.b) * kv.bytes_per_token());
        kv.save(h.a, h.b, e.rows.data());
        return true;
      }
      auto e = saved_.find(h.c);
      if (e == saved_.end() || h.b > e->second.n) {
        throw Error("no saved prefix #" + std::to_string(h.c) + " of " + std::to_string(h.b) + " positions");
      }
      kv.load(h.a, h.b, e->second.rows.data(), e->second.n);
      return true;
    }
    case kDropPrefix: saved_.erase(h.c); return true;
    default: return false;
  }
}

const StageCaches::Cache& StageCaches::at(int id) const {
  auto c = caches_.find(id);
  if (c == caches_.end()) throw Error("no KV cache " + std::to_string(id));
  return c->second;
}

void append_stats(std::vector<uint8_t>& buf, bool reset) {
  const RankStats mine = take_stats(reset);
  const size_t at = buf.size();
  buf.resize(at + sizeof mine);
  std::memcpy(buf.data() + at, &mine, sizeof mine);
}

void register_link(const std::shared_ptr<Link>& link) { g_links.push_back(link); }
void abort_at_exit() { g_abort = true; }

void finish(int code) {
  MPI_Finalize();
  g_mpi = false;
  std::exit(code);
}

}  // namespace wire

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

int rank() { return g_rank; }
int size() { return g_size; }
bool available() { return true; }

}  // namespace dawn::dist
