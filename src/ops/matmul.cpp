#include "ops/matmul.h"

#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/x16.h"

namespace dawn {

namespace {

const MatmulObserver* g_observer = nullptr;
thread_local int g_depth = 0;  // the public entry points call each other: observe the outermost only

// Holds the depth for the duration of one public call; observing() is true in the outermost.
struct Observe {
  Observe() { ++g_depth; }
  ~Observe() { --g_depth; }
  bool observing() const { return g_observer && g_depth == 1; }
};

const uint8_t* convert(const Weight& w, const float* x, int64_t n_tok, ActBuffer& buf, size_t* stride) {
  const TypeTraits& tt = traits(w.type);
  const TypeTraits& at = traits(tt.dot_type);
  *stride = row_bytes(tt.dot_type, w.cols);
  if (buf.bytes.size() < *stride * size_t(n_tok)) buf.bytes.resize(*stride * size_t(n_tok));
  for (int64_t t = 0; t < n_tok; ++t) at.from_float(x + t * w.cols, buf.bytes.data() + *stride * size_t(t), w.cols);
  return buf.bytes.data();
}

DType at_type(const MatmulTask& t) { return traits(t.w.type).dot_type; }

// Below this many tokens unpacking a tile costs more than the 4-token kernels lose.
constexpr int64_t kLevelMinTokens = 8;
// matmul_gather takes the level GEMM when its tasks average this many rows.
constexpr int64_t kGatherMinRows = 4;

// True when a gather's tasks (one type) take the level GEMM: x16 weights always (the row path
// cannot read them), others when the tasks average enough rows to pay for unpacking tiles.
bool gather_levels(const GatherTask* tasks, int n_tasks) {
  int64_t total = 0;
  bool x16 = false;
  for (int i = 0; i < n_tasks; ++i) {
    total += tasks[i].n;
    x16 = x16 || tasks[i].w.x16;
  }
  return level_gemm_available(tasks[0].w.type) && (x16 || total >= kGatherMinRows * n_tasks);
}

const int32_t* iota(ActBuffer& buf, int64_t n) {
  for (int64_t i = int64_t(buf.iota.size()); i < n; ++i) buf.iota.push_back(int32_t(i));
  return buf.iota.data();
}

// n_x rows of x in levels form for weights of type t, converted by all threads when there is
// enough of them to pay for a parallel region (a decode step's few rows are not).
void level_acts(DType t, const float* x, int64_t n_x, int64_t cols, LevelActs& acts, ThreadPool& pool) {
  size_acts(t, n_x, cols, acts);
  const int64_t grain = std::max<int64_t>(4, (int64_t(1) << 15) / std::max<int64_t>(cols, 1));
  pool.parallel_for(n_x, grain, [&](int64_t t0, int64_t t1) { fill_acts(t, x, t0, t1, acts); });
}

// The same acts for every task of a product over one input.
const LevelActs* const* same_acts(const LevelActs& acts, int n_tasks, ActBuffer& buf) {
  buf.task_acts.assign(size_t(n_tasks), &acts);
  return buf.task_acts.data();
}

// Every tile of every task as one parallel region: a thread unpacks 16 weight rows once and runs
// all of the task's rows of its acts (acts[i] for task i) over them, kTileTokens at a time.
void level_run(const GatherTask* tasks, int n_tasks, const LevelActs* const* acts, ThreadPool& pool, ActBuffer& buf) {
  buf.tiles.resize(size_t(n_tasks + 1));
  buf.tiles[0] = 0;
  for (int i = 0; i < n_tasks; ++i) {
    const int64_t n = tasks[i].n > 0 ? (tasks[i].w.rows + kTileRows - 1) / kTileRows : 0;
    buf.tiles[size_t(i + 1)] = buf.tiles[size_t(i)] + n;
  }
  const int64_t* first = buf.tiles.data();
  // Decode-sized tiles are a fraction of a microsecond of work each: taken one at a time, the
  // pool's claiming would cost ~8 % of a decode step. Prefill tiles carry all tokens' work.
  int64_t max_n = 0;
  for (int i = 0; i < n_tasks; ++i) max_n = std::max(max_n, tasks[i].n);
  const int64_t grain =
      max_n >= kTileTokens ? 1 : std::clamp<int64_t>(first[n_tasks] / (16 * int64_t(pool.size())), 1, 8);
  pool.parallel_for(first[n_tasks], grain, [&](int64_t b0, int64_t b1) {
    thread_local LevelTile tile;
    int i = int(std::upper_bound(first, first + n_tasks + 1, b0) - first) - 1;
    for (int64_t b = b0; b < b1; ++b) {
      while (first[i + 1] <= b) ++i;
      const GatherTask& t = tasks[i];
      const Weight& w = t.w;
      const LevelActs& a = *acts[i];
      const int64_t r0 = (b - first[i]) * kTileRows;
      const int n_rows = int(std::min<int64_t>(kTileRows, w.rows - r0));
      if (w.x16 && n_rows == kTileRows) {  // a last group of fewer rows stays plain
        for (int64_t k = 0; k < t.n; k += kTileTokens) {
          const int nt = int(std::min<int64_t>(kTileTokens, t.n - k));
          x16_gemm(w.type, w.row(r0), w.cols, a, t.rows + k, nt, t.y + k * w.rows + r0, w.rows);
        }
        continue;
      }
      pack_tile(w.type, w.row(r0), w.row_stride, n_rows, w.cols, tile);
      for (int64_t k = 0; k < t.n; k += kTileTokens) {
        const int nt = int(std::min<int64_t>(kTileTokens, t.n - k));
        level_gemm(tile, a, t.rows + k, nt, t.y + k * w.rows + r0, w.rows, n_rows);
      }
    }
  });
}

void matmul_one(const MatmulTask& t, ThreadPool& pool, ActBuffer& buf);

// Prefill-sized products, and any over x16 weights. A run of tasks over the same input (gate and up) in the same format
// shares one conversion; all the level GEMM's tasks (of every run) go in one parallel region.
void prefill_batch(const MatmulTask* tasks, int n_tasks, ThreadPool& pool, ActBuffer& buf) {
  const auto run_end = [&](int i) {
    const MatmulTask& a = tasks[i];
    int j = i + 1;
    for (; j < n_tasks; ++j) {
      const MatmulTask& b = tasks[j];
      if (b.x != a.x || b.n_tok != a.n_tok || b.w.type != a.w.type || b.w.cols != a.w.cols || b.w.x16 != a.w.x16) break;
    }
    return j;
  };
  const auto level = [&](const MatmulTask& a) {
    return (a.n_tok >= kLevelMinTokens || a.w.x16) && level_gemm_available(a.w.type);
  };
  // Sized before any pointer into them is taken.
  int runs = 0;
  int64_t max_tok = 0;
  for (int i = 0; i < n_tasks; i = run_end(i)) {
    if (level(tasks[i])) ++runs;
    max_tok = std::max(max_tok, tasks[i].n_tok);
  }
  if (buf.group_levels.size() < size_t(runs)) buf.group_levels.resize(size_t(runs));
  const int32_t* rows = iota(buf, max_tok);
  buf.gather.clear();
  buf.task_acts.clear();
  for (int i = 0, j, run = 0; i < n_tasks; i = j) {
    j = run_end(i);
    const MatmulTask& a = tasks[i];
    if (!level(a)) continue;
    LevelActs& acts = buf.group_levels[size_t(run++)];
    level_acts(a.w.type, a.x, a.n_tok, a.w.cols, acts, pool);
    for (int k = i; k < j; ++k) {
      buf.gather.push_back({tasks[k].w, rows, a.n_tok, tasks[k].y});
      buf.task_acts.push_back(&acts);
    }
  }
  if (!buf.gather.empty()) level_run(buf.gather.data(), int(buf.gather.size()), buf.task_acts.data(), pool, buf);
  for (int i = 0; i < n_tasks; ++i) {
    if (!level(tasks[i])) matmul_one(tasks[i], pool, buf);
  }
}

}  // namespace

void set_matmul_observer(const MatmulObserver* o) { g_observer = o; }

void matmul_batch(const MatmulTask* tasks, int n_tasks, ThreadPool& pool, ActBuffer& buf) {
  if (n_tasks <= 0) return;
  const Observe obs;
  if (obs.observing()) {
    for (int i = 0; i < n_tasks; ++i) g_observer->fn(g_observer->ctx, tasks[i].w, tasks[i].x, nullptr, tasks[i].n_tok);
  }
  bool level = tasks[0].n_tok >= 4 && vec_dot_x4(tasks[0].w.type);
  for (int i = 0; i < n_tasks; ++i) level = level || tasks[i].w.x16;  // the row path cannot read those
  if (level) {
    prefill_batch(tasks, n_tasks, pool, buf);
    return;
  }
  // Activations in each task's dot format, back to back; a task with the same input and format
  // as the one before it shares its conversion (gate and up, all experts' gate/up of a token).
  buf.offsets.resize(size_t(n_tasks));
  size_t total = 0;
  int64_t rows = 0, max_tok = 1;
  for (int i = 0; i < n_tasks; ++i) {
    const MatmulTask& t = tasks[i];
    const DType dt = traits(t.w.type).dot_type;
    const bool shared = i > 0 && t.x == tasks[i - 1].x && t.n_tok == tasks[i - 1].n_tok &&
                        dt == traits(tasks[i - 1].w.type).dot_type && t.w.cols == tasks[i - 1].w.cols;
    buf.offsets[size_t(i)] = shared ? buf.offsets[size_t(i - 1)] : total;
    if (!shared) total += row_bytes(dt, t.w.cols) * size_t(t.n_tok);
    rows += t.w.rows;
    max_tok = std::max(max_tok, t.n_tok);
  }
  if (buf.bytes.size() < total) buf.bytes.resize(total);
  for (int i = 0; i < n_tasks; ++i) {
    const MatmulTask& t = tasks[i];
    if (i > 0 && buf.offsets[size_t(i)] == buf.offsets[size_t(i - 1)]) continue;
    const TypeTraits& at = traits(traits(t.w.type).dot_type);
    const size_t stride = row_bytes(at_type(t), t.w.cols);
    for (int64_t k = 0; k < t.n_tok; ++k) {
      at.from_float(t.x + k * t.w.cols, buf.bytes.data() + buf.offsets[size_t(i)] + stride * size_t(k), t.w.cols);
    }
  }
  // The pool gives each thread one contiguous share of the rows (a sequential stream the
  // hardware prefetchers turn into full bandwidth) and balances with pieces of `grain` rows,
  // about 64 KiB of weights each (a decode step's F32 MoE router is 64 rows of 8 KiB: one
  // piece of 64 rows would leave it to one thread).
  size_t widest = 1;
  for (int i = 0; i < n_tasks; ++i) widest = std::max(widest, tasks[i].w.row_stride);
  const int64_t grain = std::clamp<int64_t>(int64_t((size_t(64) << 10) / widest) / max_tok, 1, 64);
  pool.parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    int i = 0;
    int64_t base = 0;  // first global row of task i
    while (base + tasks[i].w.rows <= r0) base += tasks[i++].w.rows;
    for (; r0 < r1; base += tasks[i++].w.rows) {
      const MatmulTask& t = tasks[i];
      const Weight& w = t.w;
      const int64_t end = std::min(r1 - base, w.rows);
      const auto dot = traits(w.type).vec_dot;
      const size_t stride = row_bytes(at_type(t), w.cols);
      for (int64_t k = 0; k < t.n_tok; ++k) {
        const uint8_t* a = buf.bytes.data() + buf.offsets[size_t(i)] + stride * size_t(k);
        float* yk = t.y + k * w.rows;
        for (int64_t r = r0 - base; r < end; ++r) yk[r] = dot(w.cols, w.row(r), a);
      }
      r0 = base + end;
    }
  });
}

void matmul(const Weight& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool, ActBuffer& buf) {
  const Observe obs;
  if (obs.observing()) g_observer->fn(g_observer->ctx, w, x, nullptr, n_tok);
  matmul_one({w, x, n_tok, y}, pool, buf);
}

namespace {

void matmul_one(const MatmulTask& task, ThreadPool& pool, ActBuffer& buf) {
  const Weight& w = task.w;
  const float* x = task.x;
  const int64_t n_tok = task.n_tok;
  float* y = task.y;
  if ((n_tok >= kLevelMinTokens || w.x16) && level_gemm_available(w.type)) {
    level_acts(w.type, x, n_tok, w.cols, buf.levels, pool);
    const GatherTask all{w, iota(buf, n_tok), n_tok, y};
    level_run(&all, 1, same_acts(buf.levels, 1, buf), pool, buf);
    return;
  }
  const VecDotX4Fn dot4 = n_tok >= 4 ? vec_dot_x4(w.type) : nullptr;
  if (!dot4) {  // decode-sized: the row-range path
    matmul_batch(&task, 1, pool, buf);
    return;
  }
  size_t stride;
  const uint8_t* act = convert(w, x, n_tok, buf, &stride);
  const auto dot = traits(w.type).vec_dot;
  // Prefill: each thread takes 16 rows at a time (they stay in L2) and runs every group of four
  // tokens over them, so the group's activations stay in L1 and each weight row is unpacked
  // once per four tokens.
  pool.parallel_for(w.rows, 16, [&](int64_t r0, int64_t r1) {
    float out[4];
    int64_t t = 0;
    for (; t + 4 <= n_tok; t += 4) {
      const uint8_t* a = act + stride * size_t(t);
      for (int64_t r = r0; r < r1; ++r) {
        dot4(w.cols, w.row(r), a, stride, out);
        for (int k = 0; k < 4; ++k) y[(t + k) * w.rows + r] = out[k];
      }
    }
    for (; t < n_tok; ++t) {
      for (int64_t r = r0; r < r1; ++r) y[t * w.rows + r] = dot(w.cols, w.row(r), act + stride * size_t(t));
    }
  });
}

}  // namespace

void matmul_gather(const GatherTask* tasks, int n_tasks, const float* x, int64_t n_x, ThreadPool& pool,
                   ActBuffer& buf) {
  if (n_tasks <= 0) return;
  const Observe obs;
  if (obs.observing()) {
    for (int i = 0; i < n_tasks; ++i) g_observer->fn(g_observer->ctx, tasks[i].w, x, tasks[i].rows, tasks[i].n);
  }
  const Weight& w0 = tasks[0].w;
  int64_t total = 0;
  for (int i = 0; i < n_tasks; ++i) total += tasks[i].n;
  if (gather_levels(tasks, n_tasks)) {
    level_acts(w0.type, x, n_x, w0.cols, buf.levels, pool);
    level_run(tasks, n_tasks, same_acts(buf.levels, n_tasks, buf), pool, buf);
    return;
  }
  // Otherwise each task's rows are copied out (a single row is read in place; a task picking
  // the same rows as the one before reuses its copy, and so its conversion) and run as a batch.
  if (buf.gathered.size() < size_t(total * w0.cols)) buf.gathered.resize(size_t(total * w0.cols));
  buf.tasks.clear();
  int64_t used = 0;
  for (int i = 0; i < n_tasks; ++i) {
    const GatherTask& t = tasks[i];
    const float* xi = t.n > 0 ? x + int64_t(t.rows[0]) * w0.cols : x;
    if (i > 0 && t.rows == tasks[i - 1].rows && t.n == tasks[i - 1].n) {
      xi = buf.tasks.back().x;
    } else if (t.n > 1) {
      float* dst = buf.gathered.data() + used * w0.cols;
      for (int64_t r = 0; r < t.n; ++r) std::copy_n(x + int64_t(t.rows[r]) * w0.cols, w0.cols, dst + r * w0.cols);
      xi = dst;
      used += t.n;
    }
    buf.tasks.push_back({t.w, xi, t.n, t.y});
  }
  matmul_batch(buf.tasks.data(), n_tasks, pool, buf);
}

void matmul_gather_groups(const GatherGroup* groups, int n_groups, ThreadPool& pool, ActBuffer& buf) {
  const Observe obs;
  if (obs.observing()) {
    for (int g = 0; g < n_groups; ++g) {
      for (int i = 0; i < groups[g].n_tasks; ++i) {
        const GatherTask& t = groups[g].tasks[i];
        g_observer->fn(g_observer->ctx, t.w, groups[g].x, t.rows, t.n);
      }
    }
  }
  bool level = true;
  for (int g = 0; g < n_groups; ++g)
    level = level && (groups[g].n_tasks == 0 || gather_levels(groups[g].tasks, groups[g].n_tasks));
  if (!level) {
    for (int g = 0; g < n_groups; ++g)
      matmul_gather(groups[g].tasks, groups[g].n_tasks, groups[g].x, groups[g].n_x, pool, buf);
    return;
  }
  if (buf.group_levels.size() < size_t(n_groups)) buf.group_levels.resize(size_t(n_groups));
  buf.gather.clear();
  buf.task_acts.clear();
  for (int g = 0; g < n_groups; ++g) {
    const GatherGroup& gr = groups[g];
    if (gr.n_tasks == 0) continue;
    const Weight& w0 = gr.tasks[0].w;
    level_acts(w0.type, gr.x, gr.n_x, w0.cols, buf.group_levels[size_t(g)], pool);
    for (int i = 0; i < gr.n_tasks; ++i) {
      buf.gather.push_back(gr.tasks[i]);
      buf.task_acts.push_back(&buf.group_levels[size_t(g)]);
    }
  }
  level_run(buf.gather.data(), int(buf.gather.size()), buf.task_acts.data(), pool, buf);
}

void dequantize_row(const Weight& w, int64_t r, float* out) {
  if (!w.x16 || r >= w.rows / 16 * 16) {  // plain rows (an x16 matrix's last rows past its groups)
    traits(w.type).to_float(w.row(r), out, w.cols);
    return;
  }
  thread_local std::vector<uint8_t> plain;  // grows once to the widest row
  if (plain.size() < w.row_stride) plain.resize(w.row_stride);
  x16_extract_row(w.type, w.row(r - r % 16), w.cols, int(r % 16), plain.data());
  traits(w.type).to_float(plain.data(), out, w.cols);
}

}  // namespace dawn
