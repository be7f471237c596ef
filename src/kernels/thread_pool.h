// A fixed pool of workers for data-parallel loops. The caller takes part in the
// work; workers spin briefly before sleeping so back-to-back matmuls stay cheap.
// Each thread owns one contiguous share of a loop and walks it front to back (a long
// sequential stream, which is what memory-bound decode needs); a thread that finishes
// early takes grains from the back of the others' shares, so a stalled thread costs
// little. Pieces shrink below the grain as a share runs out, so the threads finish
// within about one loop index of each other.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace dawn {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Calls fn(begin, end) over [0, n) in pieces of at most `grain` on all threads (one call for all
  // of it when the pool has one thread or n <= grain); returns when done.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop(int id);
  void run_chunks(int id);
  bool take_front(int owner, int64_t* b, int64_t* e);
  bool take_back(int victim, int64_t* b, int64_t* e);

  // A thread's share [front, back) packed in one word so owner and thieves agree by CAS.
  struct alignas(64) Share {
    std::atomic<uint64_t> range{0};
  };

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t grain_ = 1;
  std::unique_ptr<Share[]> shares_;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace dawn
