// dist over Open MPI, start-up: every rank checks that it opened the same model as rank 0 and loads
// its part (layers or experts); a failure anywhere is reported once, by rank 0, naming the rank.
// Then the other ranks serve rank 0 (pipeline_mpi.cpp, experts_mpi.cpp) until it is done.
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>

#include "dist/dist.h"
#include "dist/mpi_wire.h"
#include "dist/plan.h"
#include "util/error.h"
#include "util/sha256.h"

namespace dawn::dist {

namespace {

using wire::rank_name;

bool g_opened = false;

// Every rank's outcome of a step of the start-up, gathered on all ranks.
struct Record {
  int32_t ok;
  uint64_t size, mem_available;
  char host[64];
  char digest[65];
  char text[400];
};

// MemAvailable from /proc/meminfo, in bytes (0 when it cannot be read).
uint64_t mem_available() {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  unsigned long long kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
  }
  std::fclose(f);
  return uint64_t(kb) * 1024;
}

Record record(bool ok, const std::string& text) {
  Record r{};
  r.ok = ok;
  r.mem_available = mem_available();
  std::snprintf(r.host, sizeof r.host, "%s", wire::host());
  std::snprintf(r.text, sizeof r.text, "%s", text.c_str());
  return r;
}

std::vector<Record> gather(const Record& mine) {
  std::vector<Record> all(static_cast<size_t>(wire::size()));
  wire::check(MPI_Allgather(&mine, int(sizeof mine), MPI_BYTE, all.data(), int(sizeof mine), MPI_BYTE, MPI_COMM_WORLD),
              "start-up exchange");
  return all;
}

// Rank 0 reports the failure; the others' part is done, so the user sees one line.
void fail_together(const std::vector<Record>& all) {
  for (int r = 0; r < wire::size(); ++r) {
    if (all[size_t(r)].ok) continue;
    if (wire::rank() != 0) wire::finish(1);
    throw Error(rank_name(r) + " (" + all[size_t(r)].host + "): " + all[size_t(r)].text);
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

// This rank's part of the model under `kind`, and the line rank 0 prints about every rank's.
LoadOptions part_for(const GgufFile& f, const LoadOptions& opts, int r, const std::vector<double>& mem,
                     std::string* line) {
  const int n = wire::size();
  LoadOptions part = opts;
  if (opts.split.by_memory && opts.split.kind != "layers") throw Error("--layers-by-memory: only with --split layers");
  if (opts.split.by_memory && !opts.split.layers_per_rank.empty())
    throw Error("--layers-by-memory: give it or --layers-per-rank, not both");
  if (opts.split.kind == "layers") {
    const auto plan = plan_layers(f, n, opts.split.layers_per_rank, opts.split.by_memory ? mem : std::vector<double>{});
    part.layer_begin = plan[size_t(r)].begin;
    part.layer_end = plan[size_t(r)].end;
    part.ends = r == 0;
    for (int q = 0; q < n; ++q) {
      const Stage& s = plan[size_t(q)];
      *line += std::string(q ? ";" : "") + " " + rank_name(q) + " layers " + std::to_string(s.begin) + "-" +
               std::to_string(s.end - 1) + (q == 0 ? " + embeddings and head" : "") + ", " + mib(s.bytes) +
               (opts.split.by_memory ? " (" + mib(size_t(mem[size_t(q)])) + " available)" : "");
    }
    return part;
  }
  const std::string p = f.get_str("general.architecture") + ".";
  const int E = int(f.get_u32(p + "expert_count", 0));
  if (p != "deepseek2." || E < 1) {
    throw Error("--split experts: " + f.path() + " has no routed experts (it is " + p.substr(0, p.size() - 1) +
                "); use --split layers");
  }
  if (n > E) {
    throw Error("--split experts: " + std::to_string(n) + " ranks for " + std::to_string(E) + " experts of " +
                f.path());
  }
  if (!opts.split.layers_per_rank.empty()) throw Error("--layers-per-rank: only with --split layers");
  const int n_trunk = trunk_layers(f);
  for (int q = 0; q < n; ++q) {
    LoadOptions o = opts;
    o.expert_begin = int(int64_t(E) * q / n);
    o.expert_end = int(int64_t(E) * (q + 1) / n);
    o.head = q == 0;
    size_t bytes = 0;
    for (const GgufTensor& t : f.tensors()) {
      const auto [a, b] = tensor_part(t, n_trunk, o);
      bytes += b - a;
    }
    *line += std::string(q ? ";" : "") + " " + rank_name(q) + " experts " + std::to_string(o.expert_begin) + "-" +
             std::to_string(o.expert_end - 1) + (q == 0 ? " + head" : "") + ", " + mib(bytes);
    if (q == r) part = o;
  }
  return part;
}

}  // namespace

void abandon() {
  if (wire::size() > 1 && !g_opened) MPI_Abort(MPI_COMM_WORLD, 1);
}

std::unique_ptr<Model> open_model(const std::string& path, const LoadOptions& opts, int n_threads) {
  if (wire::size() == 1) return load_model(path, opts);  // one process: the whole model, whatever --split says
  if (g_opened) throw Error("--split: a command under mpirun opens one model");
  g_opened = true;
  const int me = wire::rank();
  // 1. Every rank can read the file, and it is the same model (size and sampled hash).
  Record mine = record(true, "");
  std::unique_ptr<GgufFile> header;
  try {
    if (opts.split.kind.empty()) {
      throw Error(std::to_string(wire::size()) +
                  " ranks but no --split: pass --split layers or --split experts (or run one process)");
    }
    header = GgufFile::open(path, GgufFile::Residency::Map);
    mine.size = header->file_size();
    std::snprintf(mine.digest, sizeof mine.digest, "%s", model_digest(*header).c_str());
  } catch (const std::exception& e) {
    mine = record(false, e.what());
  }
  auto all = gather(mine);
  fail_together(all);
  for (int r = 1; r < wire::size(); ++r) {
    const Record& o = all[size_t(r)];
    if (o.size != all[0].size || std::strcmp(o.digest, all[0].digest) != 0) {
      if (me != 0) wire::finish(1);
      throw Error(rank_name(r) + " (" + o.host + ") opened a different model at " + path + ": " +
                  std::to_string(o.size) + " bytes, sha256 of header and samples " +
                  std::string(o.digest).substr(0, 12) + "..., where rank 0 has " + std::to_string(all[0].size) +
                  " bytes, " + std::string(all[0].digest).substr(0, 12) +
                  "... (every rank needs its own copy of the same file)");
    }
  }
  std::vector<std::string> hosts;
  for (const Record& r : all) hosts.push_back(r.host);
  const long here = std::count(hosts.begin(), hosts.end(), hosts[size_t(me)]);
  if (here * std::max(1, n_threads) <= long(std::max(1u, std::thread::hardware_concurrency()))) wire::set_spin_s(0.02);
  // 2. Each rank loads its part.
  std::unique_ptr<Model> m;
  std::string line;
  wire::RowWire rw;
  mine = record(true, "");
  try {
    std::vector<double> mem;
    for (const Record& rec : all) mem.push_back(double(rec.mem_available));
    const LoadOptions part = part_for(*header, opts, me, mem, &line);
    header.reset();
    m = load_model(path, part);
    rw = wire::row_wire(opts.split.wire, m->hp.n_embd);
  } catch (const std::exception& e) {
    mine = record(false, e.what());
  }
  all = gather(mine);
  fail_together(all);
  const bool layers = opts.split.kind == "layers";
  if (me != 0) {
    if (layers) wire::serve_pipeline_stage(*m, std::max(1, n_threads), rw);
    wire::serve_expert_rank(*m, std::max(1, n_threads), rw, opts.split.timeout_s, hosts);
  }
  std::fprintf(stderr, "dawn: --split %s over %d ranks:%s\n", opts.split.kind.c_str(), wire::size(), line.c_str());
  auto link = layers ? wire::pipeline_link(rw, opts.split.timeout_s, hosts)
                     : wire::expert_link(*m, rw, opts.split.timeout_s, hosts);
  wire::register_link(link);
  m->link = link;
  return m;
}

}  // namespace dawn::dist
