// `dawn serve`: the OpenAI-compatible HTTP server (src/server), flags as llama-server's where
// they mean the same.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "apps/commands.h"
#include "dist/dist.h"
#include "engine/kv_cache.h"
#include "server/http_server.h"
#include "util/error.h"

namespace dawn {

void add_serve_command(CLI::App& app) {
  struct Opts {
    std::vector<std::string> models;
    server::ServeOptions s;
    std::string kv = "f16";
    int prefix_mib = 256;
  };
  auto o = std::make_shared<Opts>();
  o->s.engine.n_slots = 4;
  o->s.engine.pool_tokens = 8192;
  CLI::App* c = app.add_subcommand(
      "serve",
      "OpenAI-compatible HTTP server: POST /v1/chat/completions, /v1/completions (streamed or not), GET /v1/models, "
      "/health, /metrics (--metrics), POST /tokenize, /detokenize. Many requests run at once in one batch "
      "(continuous batching); -c is the KV pool all of them share, and any one request may use up to the model's "
      "context within it; a new request reuses the KV of the longest prefix an earlier one computed. --draft is "
      "each request's default drafter (a request's \"draft\" and \"draft_n\" fields choose its own; \"mtp\" only "
      "when the server was started with --draft mtp)");
  c->add_option("models", o->models, "GGUF model files (clients choose one by the request's `model`)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--host", o->s.host, "Address to listen on (127.0.0.1: this machine only)")->capture_default_str();
  c->add_option("--port", o->s.port, "Port (0: any free one, printed)")->capture_default_str()->check(CLI::Range(0, 65535));
  c->add_option("--parallel", o->s.engine.n_slots, "Most sequences generating at once, per model (also -np, as llama-server)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  c->add_option("-c,--ctx-size", o->s.engine.pool_tokens,
                "KV pool in tokens, shared by all sequences of a model (not split per slot); a request waits while "
                "the pool is full")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 24));
  c->add_option("--ctx-per-request", o->s.engine.max_ctx,
                "Most tokens (prompt + completion) one request may use (0: the model's context, within -c)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 24));
  c->add_option("-t,--threads", o->s.engine.n_threads, "Threads per model (0: all cores)")->capture_default_str();
  c->add_option("--kv-type", o->kv, "KV cache type: f32, f16 or q8_0")->capture_default_str();
  c->add_option("-b,--batch-size", o->s.engine.batch_tokens,
                "Tokens per forward pass: every running sequence's next token, then chunks of waiting prompts")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  c->add_option("--prefill-chunk", o->s.engine.prefill_chunk,
                "Prompt tokens a pass takes while other sequences decode (0: as many as are decoding, at least 16): "
                "bounds the pause a new prompt causes in the running streams")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 16));
  c->add_option("--prefix-cache-mib", o->prefix_mib, "Memory for the KV of earlier requests' prefixes (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  c->add_option("-n,--n-predict", o->s.default_max_tokens,
                "Tokens to generate when a request gives no max_tokens (capped by the context)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  c->add_option("--api-keys", o->s.api_keys_path,
                "JSON file of keys, roles and the models and endpoints each role may use (README: dawn serve); "
                "without it every request is allowed")
      ->check(CLI::ExistingFile);
  c->add_flag("--metrics", o->s.metrics, "Serve GET /metrics (Prometheus text; admin keys only when keys are set)");
  c->add_option("--alias", o->s.aliases, "Name clients use for each model, in order (default: the file name)");
  c->add_option("--queue-limit", o->s.queue_limit, "Requests waiting per model beyond which new ones get 429")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  c->add_option("--max-body-bytes", o->s.max_body_bytes, "Largest request body in bytes (413 beyond)")
      ->capture_default_str();
  c->add_flag("--quiet", o->s.quiet, "No log line per request");
  add_draft_options(c, o->s.draft);
  add_load_options(c, o->s.load);
  c->callback([o] {
    if (o->s.draft.kind == DraftKind::Model) {
      throw Error("serve: --draft " + o->s.draft.model_path + ": dawn serve drafts with mtp or ngram, not yet with a "
                  "draft model");
    }
    draft_count(o->s.draft, "--draft-n");
    if (dist::size() > 1 && dist::rank() != 0) {
      // Rank 0 serves HTTP; the others hold their part of the model and run its share of every
      // batch until rank 0 stops (dist::open_model does not return here).
      if (o->models.size() != 1) throw Error("serve under mpirun: one model (one path)");
      dist::open_model(o->models[0], o->s.load,
                       o->s.engine.n_threads > 0 ? o->s.engine.n_threads
                                                 : int(std::max(1u, std::thread::hardware_concurrency())));
    }
    o->s.engine.kv_type = parse_kv_type(o->kv, "--kv-type");
    o->s.engine.prefix_cache_bytes = size_t(o->prefix_mib) << 20;
    // SIGTERM / SIGINT: stop accepting, finish what runs, exit 0. Blocked in every thread; one
    // thread waits for them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    server::HttpServer srv(o->models, o->s);
    const int port = srv.bind();
    std::fprintf(stderr, "dawn serve: listening on http://%s:%d (loading)\n", o->s.host.c_str(), port);
    std::thread http([&srv] { srv.listen(); });
    std::atomic<bool> done{false};
    std::thread signals([&srv, &done, set] {
      int sig = 0;
      sigwait(&set, &sig);
      if (!done && (sig == SIGTERM || sig == SIGINT)) {
        std::fprintf(stderr, "dawn serve: %s: finishing the requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        srv.stop();
      }
    });
    try {
      srv.load();
    } catch (...) {
      done = true;
      srv.stop();
      http.join();
      pthread_kill(signals.native_handle(), SIGTERM);
      signals.join();
      throw;
    }
    std::fprintf(stderr, "dawn serve: ready on http://%s:%d\n", o->s.host.c_str(), port);
    http.join();
    // listen() returned: stop() was called (by a signal). Make sure the signal thread is done.
    done = true;
    pthread_kill(signals.native_handle(), SIGTERM);
    signals.join();
    std::fprintf(stderr, "dawn serve: stopped\n");
  });
}

}  // namespace dawn
