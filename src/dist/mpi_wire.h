// What the MPI parts of dist share: this rank's identity, the message format, polled waits with a
// deadline (an idle rank sleeps instead of spinning; a silent one is named), and the links'
// registry that the exit handler shuts down. Private to src/dist.
#pragma once
#include <mpi.h>

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <map>

#include "engine/kv_cache.h"
#include "models/model.h"

namespace dawn::dist::wire {

int rank();
int size();
const char* host();
std::string rank_name(int r);  // "rank 2"

// What this rank is waiting on: the line a SIGTERM from mpirun prints (another rank died).
void set_activity(const std::string& s);

enum Tag : int { kRing = 1, kProgress = 2, kAck = 3, kExperts = 16 };
// The prefix ops' header: cache, a = the sequence, b = positions, c = the entry's id.
enum Op : int32_t { kForward = 1, kOpenCache, kCloseCache, kRelease, kExit, kFailed, kStats, kSavePrefix, kLoadPrefix,
                    kDropPrefix };

// This process's running account (RankStats): send() counts the bytes; the links time the rest.
struct Counters {
  double compute_s = 0, wait_s = 0;
  uint64_t bytes_sent = 0, passes = 0;
};
Counters& counters();
// The counters as a RankStats (compute_s -1 on rank 0), zeroed after when reset.
RankStats take_stats(bool reset);
double now_s();

// One message: this header, then the op's payload (see each link).
struct Header {
  int32_t op = 0, cache = -1, n_tok = 0, a = 0, b = 0, c = 0;
  int64_t serial = 0;
};

// How rows of `dim` floats cross the network: as they are, or as Q8_0 blocks (--wire q8_0).
struct RowWire {
  int64_t dim = 0;
  bool q8 = false;
  size_t row_bytes() const;
  void put(const float* x, int64_t n_rows, uint8_t* out) const;
  void get(const uint8_t* in, int64_t n_rows, float* x) const;
  // x's rows as the other end will read them (Q8_0 rounds them; F32 leaves them).
  void round(float* x, int64_t n_rows, std::vector<uint8_t>& buf) const;
};
// The wire named by --wire for rows of dim floats; throws Error when Q8_0 cannot carry them.
RowWire row_wire(const std::string& name, int64_t dim);

// Throws Error naming the MPI call and the library's reason.
void check(int rc, const char* what);

// Polls for a message (tag, from source) until it arrives or timeout_s passes (< 0: forever).
// For the first spin_s() it spins, yielding the core to anything else runnable, so a message that
// comes within a layer's time is seen at once (a 20 us sleep costs 60-80 us on a VM, and an expert
// split waits 26 times a token); after that it sleeps, so an idle rank leaves the cores to those
// computing. on_idle runs between polls. Returns false on timeout.
double spin_s();
// 20 ms when this host's ranks' threads fit its cores (start-up sets it), else 0.2 ms: ranks that
// share a core must not spin against each other.
void set_spin_s(double s);
template <typename F>
bool wait_message(int source, int tag, double timeout_s, MPI_Status& st, F&& on_idle) {
  const auto start = std::chrono::steady_clock::now();
  bool sleeping = false;
  for (int spin = 0;; ++spin) {
    int flag = 0;
    check(MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &st), "probe");
    if (flag) return true;
    on_idle();
    if (!sleeping || (timeout_s >= 0 && (spin & 63) == 0)) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (timeout_s >= 0 && s > timeout_s) return false;
      sleeping = s > spin_s();
    }
    if (sleeping) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    } else {
      std::this_thread::yield();
    }
  }
}

// Waits for requests the same way; returns the indices still pending at the deadline (none: done).
std::vector<int> wait_requests(std::vector<MPI_Request>& reqs, double timeout_s,
                               const std::function<void()>& on_idle = {});

std::vector<uint8_t> receive(const MPI_Status& st);
Header header_of(const std::vector<uint8_t>& buf);
std::vector<uint8_t> message(const Header& h, size_t payload);
std::vector<uint8_t> failure(int64_t serial, const std::string& what);
// A prefix op's message (kSavePrefix, kLoadPrefix, kDropPrefix) and what the wait for it is called.
std::vector<uint8_t> prefix_message(Op op, int cache, int seq, int n, int id, int64_t serial = 0);
const char* prefix_what(Op op);
void send(const std::vector<uint8_t>& buf, int dest, int tag = kRing);

// The KV caches a rank after the first keeps for rank 0's (each of its own part of the model).
class StageCaches {
 public:
  struct Cache {
    std::unique_ptr<KvCache> kv;
    SeqKv rows;
  };
  explicit StageCaches(const Model& m) : m_(m) {}
  // kOpenCache, kCloseCache, kRelease and the prefix ops: carries it out and returns true; any
  // other op: false. Throws Error for a sequence, length or entry it does not have.
  bool apply(const Header& h);
  // Throws Error when rank 0 opened no cache `id`.
  const Cache& at(int id) const;

 private:
  const Model& m_;
  std::map<int, Cache> caches_;
  struct Saved {
    int n = 0;
    std::vector<uint8_t> rows;
  };
  std::map<int, Saved> saved_;  // rank 0's prefix entries: this rank's rows of them
};

// Appends this rank's RankStats to a message (zeroed after when reset): the answer to kStats.
void append_stats(std::vector<uint8_t>& buf, bool reset);

// A split's link on rank 0: told to finish at exit (once) if the command has not already.
class Link : public StageLink {
 public:
  virtual void shutdown() noexcept = 0;
};
void register_link(const std::shared_ptr<Link>& link);
// The job cannot end cleanly (a rank hung or failed mid-message): exit aborts it instead.
void abort_at_exit();

// Rank 0's link of each split, and the loop the other ranks run until rank 0 is done.
std::shared_ptr<Link> pipeline_link(RowWire w, double timeout_s, std::vector<std::string> hosts);
[[noreturn]] void serve_pipeline_stage(const Model& m, int n_threads, RowWire w);
std::shared_ptr<Link> expert_link(const Model& m, RowWire w, double timeout_s, std::vector<std::string> hosts);
[[noreturn]] void serve_expert_rank(Model& m, int n_threads, RowWire w, double timeout_s,
                                    std::vector<std::string> hosts);

// Ends this worker rank's process after rank 0 said so (MPI finalised).
[[noreturn]] void finish(int code);

}  // namespace dawn::dist::wire
