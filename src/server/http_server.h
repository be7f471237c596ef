// `dawn serve`: the OpenAI-compatible HTTP server (cpp-httplib) over one Engine per model.
// HTTP threads parse, authorize and validate requests, render chat templates and tokenize,
// then hand the tokens to the model's engine; the engine's thread streams tokens back through
// a per-request channel. Every error is OpenAI's {"error": {...}} with a matching status.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "models/model.h"

namespace dawn::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (printed)
  EngineOptions engine;
  DraftParams draft;  // requests' default drafter (--draft, --draft-n); mtp also keeps the MTP layer's cache rows
  LoadOptions load;
  int default_max_tokens = 1024;  // when a request names no max_tokens (capped by the context)
  std::string api_keys_path;      // "": no keys, every request allowed
  bool metrics = false;           // serve GET /metrics
  std::vector<std::string> aliases;  // the names clients use, one per model (default: file stem)
  size_t max_body_bytes = size_t(8) << 20;
  int queue_limit = 64;  // requests waiting per model beyond which new ones get 429
  int http_threads = 0;  // 0: enough for every slot and queued request of every model
  bool quiet = false;    // no per-request log lines
};

class HttpServer {
 public:
  HttpServer(std::vector<std::string> model_paths, ServeOptions o);
  ~HttpServer();

  // Binds the listening socket; returns the port. /health answers 503 until load() is done.
  int bind();
  // Loads every model and starts its engine (throws Error naming the file at fault).
  void load();
  // Serves until stop(); returns after the in-flight requests are answered.
  void listen();
  // Stops accepting, finishes what is running, stops the engines. Safe from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dawn::server
