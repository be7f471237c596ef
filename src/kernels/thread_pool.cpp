#include "kernels/thread_pool.h"

#include <immintrin.h>

#include <climits>
#include <cstdint>
#include <stdexcept>

namespace dawn {

ThreadPool::ThreadPool(int n_threads) : shares_(new Share[size_t(std::max(1, n_threads))]) {
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

namespace {

// Pauses (~30-60 ns each) a waiting thread spins before it yields (idle workers) or sleeps (the
// caller): long enough to cover the gap between two back-to-back loops, short against a time slice.
constexpr int kPureSpins = 2000;
// An idle worker sleeps on the condition variable after this many.
constexpr int kIdleSpins = 20000;

uint64_t pack(int64_t front, int64_t back) { return uint64_t(front) << 32 | uint64_t(back); }
int64_t front_of(uint64_t r) { return int64_t(r >> 32); }
int64_t back_of(uint64_t r) { return int64_t(r & 0xFFFFFFFFu); }

}  // namespace

bool ThreadPool::take_front(int owner, int64_t* b, int64_t* e) {
  std::atomic<uint64_t>& a = shares_[size_t(owner)].range;
  uint64_t r = a.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t f = front_of(r), k = back_of(r);
    if (f >= k) return false;
    const int64_t to = f + std::min(grain_, std::max<int64_t>(1, (k - f) / 4));
    if (a.compare_exchange_weak(r, pack(to, k), std::memory_order_acq_rel)) {
      *b = f;
      *e = to;
      return true;
    }
  }
}

bool ThreadPool::take_back(int victim, int64_t* b, int64_t* e) {
  std::atomic<uint64_t>& a = shares_[size_t(victim)].range;
  uint64_t r = a.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t f = front_of(r), k = back_of(r);
    if (f >= k) return false;
    const int64_t from = k - std::min(grain_, std::max<int64_t>(1, (k - f) / 2));
    if (a.compare_exchange_weak(r, pack(f, from), std::memory_order_acq_rel)) {
      *b = from;
      *e = k;
      return true;
    }
  }
}

void ThreadPool::run_chunks(int id) {
  int64_t b, e;
  while (take_front(id, &b, &e)) (*fn_)(b, e);
  const int n = size();
  for (int k = 1; k < n; ++k) {
    const int victim = (id + k) % n;
    while (take_back(victim, &b, &e)) (*fn_)(b, e);
  }
}

void ThreadPool::worker_loop(int id) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kIdleSpins; ++spin) {
      // Past the first stretch the spin yields now and then: when the machine is oversubscribed
      // (two dawn processes, ranks or test jobs on the same cores) a spinning idle worker would
      // otherwise hold a core the other process's threads are waiting for.
      if (spin >= kPureSpins && spin % 64 == 0) std::this_thread::yield();
      _mm_pause();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
      gen = generation_.load();
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    run_chunks(id);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (n > int64_t(INT32_MAX)) throw std::length_error("ThreadPool::parallel_for: loop too long");
  grain = std::max<int64_t>(1, grain);
  if (workers_.empty() || n <= grain) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    grain_ = grain;
    const int64_t t = size();
    for (int64_t i = 0; i < t; ++i) shares_[size_t(i)].range.store(pack(n * i / t, n * (i + 1) / t));
    pending_.store(int(workers_.size()));
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
  run_chunks(0);
  // The caller has taken whatever was left of the workers' shares; it waits only for workers to
  // check in. A worker that is not on a core right now (another process holds it) may take a
  // whole time slice to do that, so after a short spin the caller sleeps on the counter (futex)
  // and gives its core away instead of spinning through that slice.
  for (int spin = 0;; ++spin) {
    const int left = pending_.load(std::memory_order_acquire);
    if (left == 0) break;
    if (spin < kPureSpins) {
      _mm_pause();
    } else {
      pending_.wait(left, std::memory_order_acquire);
    }
  }
}

}  // namespace dawn
