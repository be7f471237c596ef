#include "kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "ops/matmul.h"

namespace dawn {
namespace {

// Every index is visited exactly once, in pieces no longer than the grain, for loop lengths
// that do and do not divide evenly among threads and grains.
TEST(ThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 7, 64, 100, 1000, 4099}) {
      for (int64_t grain : {1, 3, 16, 64, 5000}) {
        std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
        std::atomic<bool> too_long{false};
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
          if ((threads > 1 && n > grain && e - b > grain) || b >= e) too_long = true;
          for (int64_t i = b; i < e; ++i) seen[size_t(i)].fetch_add(1);
        });
        EXPECT_FALSE(too_long) << threads << " " << n << " " << grain;
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[size_t(i)].load(), 1) << threads << " " << n << " " << grain;
      }
    }
  }
}

// A thread that stalls on its share does not leave the rest undone: the others take pieces
// from the back of it (the work still completes, each index once).
TEST(ThreadPool, OthersTakeOverAStalledShare) {
  ThreadPool pool(3);
  const int64_t n = 3000;
  std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
  std::atomic<int64_t> done_by_others{0};
  const auto main_id = std::this_thread::get_id();
  pool.parallel_for(n, 10, [&](int64_t b, int64_t e) {
    // The caller owns the first third; it sleeps on its first piece.
    if (std::this_thread::get_id() == main_id && b == 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::this_thread::get_id() != main_id && b < n / 3) done_by_others += e - b;
    for (int64_t i = b; i < e; ++i) seen[size_t(i)].fetch_add(1);
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[size_t(i)].load(), 1) << i;
  EXPECT_GT(done_by_others.load(), 0);
}

// Pools on more threads than the machine has cores, all at once (two dawn processes or MPI ranks
// on one host): the caller, that sleeps on the counter once its spin runs out, and the idle
// workers, that yield, must still see every loop through; a lost wake-up would hang here.
// Every fifth loop a worker's piece sleeps, so the caller reaches its sleeping wait for sure.
TEST(ThreadPool, OversubscribedPoolsFinishEveryLoop) {
  const int n_pools = 4, loops = 400;
  std::vector<std::thread> users;
  std::atomic<int64_t> wrong{0};
  for (int u = 0; u < n_pools; ++u) {
    users.emplace_back([&, u] {
      ThreadPool pool(3);
      const auto caller = std::this_thread::get_id();
      for (int l = 0; l < loops; ++l) {
        std::atomic<int64_t> sum{0};
        const int64_t n = 64 + (l * 7 + u) % 200;
        pool.parallel_for(n, 4, [&](int64_t b, int64_t e) {
          if (l % 5 == 0 && b == n - 1 && std::this_thread::get_id() != caller)
            std::this_thread::sleep_for(std::chrono::microseconds(300));
          for (int64_t i = b; i < e; ++i) sum += i;
        });
        if (sum.load() != n * (n - 1) / 2) ++wrong;
      }
    });
  }
  for (std::thread& t : users) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// matmul_batch equals one matmul per task, with shared and distinct inputs and a task that
// spans the boundary between thread shares.
TEST(ThreadPool, BatchedMatmulEqualsSeparateOnes) {
  const int64_t cols = 64;
  std::vector<float> wdata(size_t(cols) * 300), x1(size_t(cols) * 2), x2(size_t(cols) * 2);
  for (size_t i = 0; i < wdata.size(); ++i) wdata[i] = float((i * 7919) % 97) / 97.0f - 0.5f;
  for (size_t i = 0; i < x1.size(); ++i) x1[i] = float((i * 31) % 13) / 13.0f - 0.4f;
  for (size_t i = 0; i < x2.size(); ++i) x2[i] = float((i * 17) % 11) / 11.0f - 0.6f;
  auto view = [&](int64_t row0, int64_t rows) {
    Weight w;
    w.type = DType::F32;
    w.cols = cols;
    w.rows = rows;
    w.row_stride = size_t(cols) * 4;
    w.data = reinterpret_cast<const uint8_t*>(wdata.data() + row0 * cols);
    return w;
  };
  const Weight a = view(0, 100), b = view(100, 37), c = view(137, 163);
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    ActBuffer buf;
    for (int64_t n_tok : {1, 2}) {
      std::vector<float> ya(size_t(100 * n_tok)), yb(size_t(37 * n_tok)), yc(size_t(163 * n_tok));
      const MatmulTask tasks[3] = {
          {a, x1.data(), n_tok, ya.data()}, {b, x1.data(), n_tok, yb.data()}, {c, x2.data(), n_tok, yc.data()}};
      matmul_batch(tasks, 3, pool, buf);
      std::vector<float> ra(ya.size()), rb(yb.size()), rc(yc.size());
      matmul(a, x1.data(), n_tok, ra.data(), pool, buf);
      matmul(b, x1.data(), n_tok, rb.data(), pool, buf);
      matmul(c, x2.data(), n_tok, rc.data(), pool, buf);
      EXPECT_EQ(ya, ra);
      EXPECT_EQ(yb, rb);
      EXPECT_EQ(yc, rc);
      // And against a plain loop.
      for (int64_t t = 0; t < n_tok; ++t) {
        for (int64_t r = 0; r < 163; ++r) {
          double s = 0;
          for (int64_t i = 0; i < cols; ++i)
            s += double(wdata[size_t((137 + r) * cols + i)]) * x2[size_t(t * cols + i)];
          EXPECT_NEAR(yc[size_t(t * 163 + r)], s, 1e-4);
        }
      }
    }
  }
}

}  // namespace
}  // namespace dawn
