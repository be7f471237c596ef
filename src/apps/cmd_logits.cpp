#include <charconv>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "apps/commands.h"
#include "engine/session.h"
#include "util/error.h"

namespace dawn {

namespace {

std::vector<int32_t> parse_tokens(const std::string& s) {
  std::vector<int32_t> out;
  std::string body = s;
  if (!body.empty() && body.front() == '[') {
    try {
      for (const auto& v : nlohmann::json::parse(body)) out.push_back(v.get<int32_t>());
    } catch (const std::exception& e) {
      throw Error("--tokens: not a JSON array of integers: " + std::string(e.what()));
    }
    return out;
  }
  std::stringstream ss(body);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int32_t v;
    auto r = std::from_chars(item.data(), item.data() + item.size(), v);
    if (r.ec != std::errc() || r.ptr != item.data() + item.size())
      throw Error("--tokens: '" + item + "' is not a token id");
    out.push_back(v);
  }
  return out;
}

void put_float(std::string& out, float f) {
  if (!std::isfinite(f)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  out.append(buf, r.ptr);
}

}  // namespace

void add_logits_command(CLI::App& app) {
  struct Opts {
    std::string kv = "f32";
    std::string model, tokens;
    bool all = false;
    int threads = 0, ctx = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand("logits", "Print raw next-token logits as JSON (the oracle's logits format)");
  c->add_option("model", o->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  c->add_option("--tokens", o->tokens, "Token ids: 1,2,3 or a JSON array")->required();
  c->add_flag("--all-positions", o->all, "Logits at every position, not just the last");
  c->add_option("-t,--threads", o->threads, "Threads (0: all cores)")->capture_default_str();
  c->add_option("--kv-type", o->kv, "KV cache type: f32, f16 or q8_0 (f32 matches the oracle's default)")
      ->capture_default_str();
  c->add_option("-c,--ctx-size", o->ctx, "Context size (0: the number of tokens)")->capture_default_str();
  c->callback([o] {
    const std::vector<int32_t> toks = parse_tokens(o->tokens);
    if (toks.empty()) throw Error("--tokens: no token ids given");
    auto m = load_model(o->model);
    const int threads = o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency()));
    Session s(*m, o->ctx > 0 ? o->ctx : int(toks.size()), threads, parse_kv_type(o->kv, "--kv-type"));
    const float* logits = s.eval(toks.data(), int(toks.size()), o->all);
    const int V = m->hp.n_vocab;
    std::string out = "{\"n_vocab\":" + std::to_string(V) + ",\"tokens\":[";
    for (size_t i = 0; i < toks.size(); ++i) out += (i ? "," : "") + std::to_string(toks[i]);
    out += "],\"positions\":[";
    const int first = o->all ? 0 : int(toks.size()) - 1;
    for (int p = first; p < int(toks.size()); ++p) {
      const float* row = logits + size_t(p - first) * V;
      int argmax = 0;
      for (int i = 1; i < V; ++i) {
        if (row[i] > row[argmax]) argmax = i;
      }
      out += (p > first ? "," : "");
      out += "{\"pos\":" + std::to_string(p) + ",\"token\":" + std::to_string(toks[p]) +
             ",\"argmax\":" + std::to_string(argmax) + ",\"logits\":[";
      for (int i = 0; i < V; ++i) {
        if (i) out += ',';
        put_float(out, row[i]);
      }
      out += "]}";
    }
    out += "]}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  });
}

}  // namespace dawn
