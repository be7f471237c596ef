// `dawn serve`: routes, authorization, validation and the channels between HTTP threads and
// the engines (http_server.h).
#include "server/http_server.h"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "dist/dist.h"
#include "server/api_error.h"
#include "server/api_keys.h"
#include "server/metrics.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/openai_stream.h"
#include "server/output_constraint.h"
#include "server/tokenize_api.h"
#include "text/chat.h"
#include "text/reasoning.h"
#include "text/vocab.h"
#include "util/error.h"

namespace dawn::server {

namespace {

using Clock = std::chrono::steady_clock;

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(e.body(), "application/json");
}

void send_json(httplib::Response& res, const nlohmann::ordered_json& j) {
  res.status = 200;
  res.set_content(dump_json(j), "application/json");
}

}  // namespace

// One served model: its weights, vocabulary, template, engine and metrics.
struct Served {
  std::string name, path;
  int64_t created = 0;
  std::unique_ptr<Model> model;
  std::unique_ptr<Vocab> vocab;
  std::unique_ptr<ChatTemplate> tmpl;
  std::string no_template;  // why there is no chat template, when there is none
  std::unique_ptr<Engine> engine;
  Histogram ttft{latency_buckets()}, itl{latency_buckets()}, duration{latency_buckets()};
  std::atomic<uint64_t> ok{0}, failed{0};
};

// What the engine's thread and an HTTP thread share for one request (all its choices).
struct Exchange {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;  // SSE text to send (streaming)
  int open = 0;                    // choices not finished
  bool failed = false;
  std::string error;
  std::vector<uint64_t> ids;
  // Per choice: generated text, token logprobs, last token time.
  std::vector<std::string> text;
  std::vector<std::vector<TokenLogprob>> logprobs;
  std::vector<std::string> stop_reason;
  std::vector<Clock::time_point> last_token;
  std::vector<int> n_tokens;
  Usage usage;
  std::unique_ptr<ChatStream> chat;  // streaming chat
  ResponseMeta meta;
  bool stream = false, include_usage = false, want_logprobs = false;
  std::string log_head;  // "req-id key model endpoint"
  Clock::time_point start = Clock::now();
};

struct HttpServer::Impl {
  ServeOptions o;
  std::vector<std::string> paths;
  std::vector<std::unique_ptr<Served>> models;
  ApiKeys keys;
  httplib::Server http;
  std::atomic<bool> ready{false}, stopping{false};
  int port = 0;
  std::atomic<uint64_t> next_request{1};
  std::mt19937_64 seeds{std::random_device{}()};
  std::mutex seed_mu;

  Served* find(const std::string& name) {
    for (auto& m : models)
      if (m->name == name) return m.get();
    return nullptr;
  }
  uint64_t random_seed() {
    std::lock_guard<std::mutex> lock(seed_mu);
    return seeds();
  }
  void log(const std::string& line) {
    if (!o.quiet) std::fprintf(stderr, "%s\n", line.c_str());
  }

  // Key check for an endpoint (model "" = not yet known); answers 401/403 itself.
  bool authorized(const httplib::Request& req, httplib::Response& res, const std::string& endpoint, AuthResult* who) {
    *who = keys.authorize(req.get_header_value("Authorization"), "", endpoint);
    if (who->ok()) return true;
    send_error(res, *who->error);
    return false;
  }
  bool model_allowed(const AuthResult& who, const std::string& model, httplib::Response& res) {
    if (!keys.enabled() || keys.allows_model(who, model)) return true;
    send_error(res, forbidden("this key may not use model '" + model + "'", "model"));
    return false;
  }
  bool loaded(httplib::Response& res) {
    if (ready) return true;
    send_error(res, service_unavailable(stopping ? "the server is shutting down" : "the model is still loading"));
    return false;
  }

  void routes();
  void completions(const httplib::Request& req, httplib::Response& res, bool chat);
  void start_generation(Served& s, const CommonRequest& r, const std::vector<int32_t>& prompt, int max_tokens,
                        const ConstraintParams& constraint, const DraftParams& draft,
                        const std::shared_ptr<Exchange>& x);
  std::string metrics_text();
};

void HttpServer::Impl::start_generation(Served& s, const CommonRequest& r, const std::vector<int32_t>& prompt,
                                        int max_tokens, const ConstraintParams& constraint,
                                        const DraftParams& draft, const std::shared_ptr<Exchange>& x) {
  const SamplerParams base = sampler_params(r, random_seed());
  x->open = r.n;
  x->text.assign(size_t(r.n), "");
  x->logprobs.assign(size_t(r.n), {});
  x->stop_reason.assign(size_t(r.n), "");
  x->last_token.assign(size_t(r.n), Clock::now());
  x->n_tokens.assign(size_t(r.n), 0);
  x->usage.prompt_tokens = int64_t(prompt.size());
  Served* sp = &s;
  for (int i = 0; i < r.n; ++i) {
    Request q;
    q.prompt = prompt;
    q.gen.n_predict = max_tokens;
    q.gen.sampling = base;
    q.gen.sampling.seed = base.seed + uint64_t(i);  // n choices: n different draws, each reproducible
    q.gen.stop = r.stop;
    q.gen.constraint = constraint;  // n choices share the grammar (and its cache)
    q.logprobs = r.logprobs ? r.top_logprobs : -1;
    q.gen.sampling.logit_bias = r.logit_bias;
    q.draft = draft;
    q.on_token = [x, i, sp](const TokenOut& t) {
      const auto now = Clock::now();
      std::lock_guard<std::mutex> lock(x->mu);
      const double gap = std::chrono::duration<double>(now - x->last_token[size_t(i)]).count();
      if (x->n_tokens[size_t(i)]++ == 0) {
        sp->ttft.observe(std::chrono::duration<double>(now - x->start).count());
      } else {
        sp->itl.observe(gap);
      }
      x->last_token[size_t(i)] = now;
      std::vector<TokenLogprob> lp;
      if (x->want_logprobs && !t.eog) {
        TokenLogprob tl;
        tl.id = t.id;
        tl.text = sp->vocab->piece(t.id);
        tl.logprob = t.logprob;
        for (const auto& [id, p] : t.top) tl.top.push_back({id, sp->vocab->piece(id), p});
        lp.push_back(tl);
        x->logprobs[size_t(i)].push_back(tl);
      }
      x->text[size_t(i)] += t.text;
      if (!x->stream) return;
      if (x->chat) {
        std::string ev = x->chat->feed(i, t.text, lp);
        if (!ev.empty()) x->events.push_back(std::move(ev));
      } else if (!t.text.empty() || !lp.empty()) {
        x->events.push_back(sse_event(text_chunk_json(x->meta, i, t.text,
                                                      lp.empty() ? nlohmann::ordered_json() : completion_logprobs_json(lp),
                                                      "", x->include_usage)));
      }
      x->cv.notify_all();
    };
    q.on_done = [this, x, i, sp, draft](const RequestResult& res) {
      std::lock_guard<std::mutex> lock(x->mu);
      x->stop_reason[size_t(i)] = res.finish_reason;
      x->usage.completion_tokens += int64_t(res.tokens.size());
      x->usage.cached_tokens = std::max<int64_t>(x->usage.cached_tokens, res.cached_tokens);
      if (draft.kind != DraftKind::None) {
        x->usage.accepted_prediction_tokens = std::max<int64_t>(x->usage.accepted_prediction_tokens, 0) + res.accepted;
        x->usage.rejected_prediction_tokens =
            std::max<int64_t>(x->usage.rejected_prediction_tokens, 0) + res.drafted - res.accepted;
      }
      if (res.finish_reason == "error") {
        x->failed = true;
        x->error = res.error;
      }
      if (x->stream && res.finish_reason != "cancelled") {
        if (x->chat) {
          x->events.push_back(x->chat->finish(i, res.finish_reason));
        } else {
          x->events.push_back(sse_event(text_chunk_json(x->meta, i, "", nlohmann::ordered_json(),
                                                        finish_reason(res.finish_reason), x->include_usage)));
        }
      }
      if (--x->open == 0) {
        const double total = std::chrono::duration<double>(Clock::now() - x->start).count();
        sp->duration.observe(total);
        (x->failed ? sp->failed : sp->ok)++;
        if (x->stream && res.finish_reason != "cancelled") {
          if (x->chat) {
            x->events.push_back(x->chat->end(x->usage));
          } else {
            if (x->include_usage) x->events.push_back(sse_event(usage_chunk_json(x->meta, "text_completion", x->usage)));
            x->events.push_back(sse_done());
          }
        }
        char buf[256];
        std::snprintf(buf, sizeof buf, " prompt=%lld cached=%lld completion=%lld finish=%s %.1f ms",
                      (long long)x->usage.prompt_tokens, (long long)x->usage.cached_tokens,
                      (long long)x->usage.completion_tokens, res.finish_reason.c_str(), 1000 * total);
        log(x->log_head + buf);
      }
      x->cv.notify_all();
    };
    x->ids.push_back(s.engine->submit(std::move(q)));
  }
}

void HttpServer::Impl::completions(const httplib::Request& req, httplib::Response& res, bool chat) {
  const std::string endpoint = chat ? "/v1/chat/completions" : "/v1/completions";
  AuthResult who;
  if (!authorized(req, res, endpoint, &who) || !loaded(res)) return;
  std::variant<ChatRequest, ApiError> chat_parse = ApiError{};
  std::variant<CompletionRequest, ApiError> text_parse = ApiError{};
  const CommonRequest* common = nullptr;
  if (chat) {
    chat_parse = parse_chat_request(req.body);
    if (auto* e = std::get_if<ApiError>(&chat_parse)) return send_error(res, *e);
    common = &std::get<ChatRequest>(chat_parse);
  } else {
    text_parse = parse_completion_request(req.body);
    if (auto* e = std::get_if<ApiError>(&text_parse)) return send_error(res, *e);
    common = &std::get<CompletionRequest>(text_parse);
  }
  Served* s = find(common->model);
  if (!s) return send_error(res, model_not_found(common->model));
  if (!model_allowed(who, s->name, res)) return;
  if (auto e = check_token_ids(*common, s->model->hp.n_vocab)) return send_error(res, *e);

  std::vector<int32_t> prompt;
  std::string prompt_text;
  if (chat) {
    const ChatRequest& c = std::get<ChatRequest>(chat_parse);
    if (!s->tmpl) {
      return send_error(res, bad_request("model", "model '" + s->name + "' has no chat template (" + s->no_template +
                                                      "); use /v1/completions", "unsupported_value"));
    }
    try {
      prompt_text = s->tmpl->apply(c.messages, c.tools, true, c.chat_template_kwargs);
    } catch (const Error& e) {
      return send_error(res, bad_request("messages", std::string("the chat template refused these messages: ") + e.what()));
    }
    prompt = s->vocab->encode(prompt_text, false, true);
  } else {
    const CompletionRequest& c = std::get<CompletionRequest>(text_parse);
    if (auto e = check_token_ids(c, s->model->hp.n_vocab)) return send_error(res, *e);
    if (c.echo && c.logprobs) {
      return send_error(res, bad_request("echo", "echo with logprobs (the prompt's own logprobs) is not supported",
                                         "unsupported_value"));
    }
    prompt = c.prompt_is_tokens ? c.prompt_tokens : s->vocab->encode(c.prompt, true, true);
    prompt_text = c.prompt_is_tokens ? s->vocab->decode(c.prompt_tokens) : c.prompt;
    if (prompt.empty()) return send_error(res, bad_request("prompt", "the prompt has no tokens"));
  }
  const int n_ctx = s->engine->max_ctx();
  const int64_t room = int64_t(n_ctx) - int64_t(prompt.size());
  if (room < 1 || (common->max_tokens && *common->max_tokens > room)) {
    return send_error(res, context_length_exceeded(n_ctx, int64_t(prompt.size()), common->max_tokens.value_or(0),
                                                   chat ? "messages" : "prompt"));
  }
  const int max_tokens = common->max_tokens ? *common->max_tokens : int(std::min<int64_t>(o.default_max_tokens, room));
  if (s->engine->stats().waiting >= o.queue_limit) {
    return send_error(res, too_many_requests("the server has " + std::to_string(o.queue_limit) +
                                             " requests waiting for model '" + s->name + "'; retry later"));
  }

  const ChatRequest* chat_req = chat ? &std::get<ChatRequest>(chat_parse) : nullptr;
  const ToolCallFormat tools_format = chat && s->tmpl ? s->tmpl->tool_call_format() : ToolCallFormat::None;
  auto constraint = request_constraint(*common, chat_req, tools_format, *s->vocab, prompt_text);
  if (auto* e = std::get_if<ApiError>(&constraint)) return send_error(res, *e);
  const auto draft = request_draft(*common, o.draft);
  if (auto* e = std::get_if<ApiError>(&draft)) return send_error(res, *e);

  // Whether this prompt leaves the reply inside <think>: R1's template opens one for a new turn but
  // not after tool results, where the model answers straight away.
  const bool opens_think = chat && ends_with_tag(prompt_text, "<think>");
  auto x = std::make_shared<Exchange>();
  x->stream = common->stream;
  x->include_usage = common->include_usage;
  x->want_logprobs = common->logprobs;
  x->meta = new_response_meta(chat ? "chatcmpl" : "cmpl", common->model);
  x->log_head = "dawn serve: " + x->meta.id + " key=" + (who.key_name.empty() ? "-" : who.key_name) + " model=" +
                s->name + " " + endpoint;
  if (chat && x->stream) {
    x->chat = std::make_unique<ChatStream>(x->meta, *common, opens_think);
    if (parses_tool_calls(*chat_req, tools_format)) x->chat->parse_tool_calls(tools_format, random_seed());
    for (int i = 0; i < common->n; ++i) x->events.push_back(x->chat->begin(i));
  }
  try {
    std::lock_guard<std::mutex> lock(x->mu);  // callbacks wait until every choice is submitted
    start_generation(*s, *common, prompt, max_tokens, std::get<ConstraintParams>(constraint),
                     std::get<DraftParams>(draft), x);
  } catch (const Error& e) {
    for (uint64_t id : x->ids) s->engine->cancel(id);
    return send_error(res, bad_request(chat ? "messages" : "prompt", e.what()));
  }
  Engine* engine = s->engine.get();
  if (!x->stream) {
    std::unique_lock<std::mutex> lock(x->mu);
    x->cv.wait(lock, [&] { return x->open == 0; });
    if (x->failed) return send_error(res, internal_error(x->error));
    if (chat) {
      const ChatRequest& c = std::get<ChatRequest>(chat_parse);
      std::vector<ChatChoice> choices;
      for (int i = 0; i < c.n; ++i) {
        const ReasoningSplit split = split_for_response(x->text[size_t(i)], c.reasoning_format, opens_think);
        ChatChoice ch;
        ch.content = split.answer;
        ch.reasoning = split.reasoning;
        ch.finish_reason = finish_reason(x->stop_reason[size_t(i)]);
        if (parses_tool_calls(c, tools_format)) {
          ParsedToolCalls calls = parse_tool_calls(tools_format, split.answer, random_seed());
          if (!calls.calls.empty()) {
            ch.content = std::move(calls.content);
            ch.tool_calls = std::move(calls.calls);
            ch.finish_reason = "tool_calls";
          }
        }
        ch.logprobs = c.logprobs;
        ch.tokens = x->logprobs[size_t(i)];
        choices.push_back(std::move(ch));
      }
      return send_json(res, chat_completion_json(x->meta, choices, x->usage));
    }
    const CompletionRequest& c = std::get<CompletionRequest>(text_parse);
    std::vector<TextChoice> choices;
    for (int i = 0; i < c.n; ++i) {
      TextChoice ch;
      ch.text = (c.echo ? prompt_text : std::string()) + x->text[size_t(i)];
      ch.finish_reason = finish_reason(x->stop_reason[size_t(i)]);
      ch.logprobs = c.logprobs;
      ch.tokens = x->logprobs[size_t(i)];
      choices.push_back(std::move(ch));
    }
    return send_json(res, text_completion_json(x->meta, choices, x->usage));
  }
  if (!chat && std::get<CompletionRequest>(text_parse).echo) {
    std::lock_guard<std::mutex> lock(x->mu);
    for (int i = 0; i < common->n; ++i) {
      x->events.push_front(sse_event(text_chunk_json(x->meta, i, prompt_text, nullptr, "", x->include_usage)));
    }
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [x](size_t, httplib::DataSink& sink) {
        std::unique_lock<std::mutex> lock(x->mu);
        x->cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return !x->events.empty() || x->open == 0; });
        while (!x->events.empty()) {
          const std::string ev = std::move(x->events.front());
          x->events.pop_front();
          lock.unlock();
          if (!sink.write(ev.data(), ev.size())) return false;  // the client is gone: the releaser cancels
          lock.lock();
        }
        if (x->open == 0) {
          sink.done();
          return true;
        }
        return sink.is_writable();
      },
      [x, engine](bool done) {
        if (done) return;
        std::lock_guard<std::mutex> lock(x->mu);
        for (uint64_t id : x->ids) engine->cancel(id);
      });
}

std::string HttpServer::Impl::metrics_text() {
  std::string out;
  std::vector<std::pair<std::string, double>> running, waiting, kv_used, kv_total, prompt, gen, cached, ok, failed,
      prefix_bytes, drafted, accepted;
  for (auto& m : models) {
    const std::string l = "model=\"" + m->name + "\"";
    const EngineStats st = m->engine ? m->engine->stats() : EngineStats{};
    running.push_back({l, double(st.running)});
    waiting.push_back({l, double(st.waiting)});
    kv_used.push_back({l, double(st.kv_used_tokens)});
    kv_total.push_back({l, double(st.kv_pool_tokens)});
    prompt.push_back({l, double(st.prompt_tokens)});
    gen.push_back({l, double(st.generated_tokens)});
    cached.push_back({l, double(st.cached_tokens)});
    prefix_bytes.push_back({l, double(st.prefix_cache_bytes)});
    drafted.push_back({l, double(st.drafted_tokens)});
    accepted.push_back({l, double(st.accepted_tokens)});
    ok.push_back({l, double(m->ok.load())});
    failed.push_back({l, double(m->failed.load())});
  }
  render_metric("dawn_requests_running", "gauge", "Requests generating now.", running, &out);
  render_metric("dawn_requests_waiting", "gauge", "Requests waiting for a slot or KV room.", waiting, &out);
  render_metric("dawn_requests_completed_total", "counter", "Requests answered in full.", ok, &out);
  render_metric("dawn_requests_failed_total", "counter", "Requests that ended in a server error.", failed, &out);
  render_metric("dawn_prompt_tokens_total", "counter", "Prompt tokens admitted.", prompt, &out);
  render_metric("dawn_generated_tokens_total", "counter", "Tokens generated.", gen, &out);
  render_metric("dawn_prefix_cache_hit_tokens_total", "counter", "Prompt tokens whose KV came from the prefix cache.",
                cached, &out);
  render_metric("dawn_prefix_cache_bytes", "gauge", "Bytes the prefix cache holds.", prefix_bytes, &out);
  render_metric("dawn_draft_tokens_total", "counter", "Tokens proposed by speculative decoding's drafters.", drafted,
                &out);
  render_metric("dawn_draft_accepted_tokens_total", "counter", "Drafted tokens the model confirmed.", accepted, &out);
  render_metric("dawn_kv_pool_used_tokens", "gauge", "KV positions reserved by running requests.", kv_used, &out);
  render_metric("dawn_kv_pool_tokens", "gauge", "KV positions in the pool (-c).", kv_total, &out);
  const struct {
    const char* name;
    const char* help;
    Histogram Served::*h;
  } hists[] = {{"dawn_time_to_first_token_seconds", "From request to its first token.", &Served::ttft},
               {"dawn_inter_token_latency_seconds", "Between consecutive tokens of a stream.", &Served::itl},
               {"dawn_request_duration_seconds", "From request to its last token.", &Served::duration}};
  for (const auto& h : hists) {
    out += std::string("# HELP ") + h.name + " " + h.help + "\n# TYPE " + h.name + " histogram\n";
    for (auto& m : models) ((*m).*(h.h)).render(h.name, "model=\"" + m->name + "\"", &out);
  }
  return out;
}

void HttpServer::Impl::routes() {
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (!ready) {
      res.status = 503;
      res.set_content(R"({"status":")" + std::string(stopping ? "stopping" : "loading") + R"("})", "application/json");
      return;
    }
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    AuthResult who;
    if (!authorized(req, res, "/v1/models", &who)) return;
    std::vector<ModelInfo> list;
    for (auto& m : models)
      if (!keys.enabled() || keys.allows_model(who, m->name)) list.push_back({m->name, m->created, "dawn"});
    send_json(res, model_list_json(list));
  });
  http.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    AuthResult who;
    if (!authorized(req, res, "/v1/models", &who)) return;
    Served* s = find(req.matches[1]);
    if (!s || (keys.enabled() && !keys.allows_model(who, s->name))) return send_error(res, model_not_found(req.matches[1]));
    send_json(res, model_json({s->name, s->created, "dawn"}));
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res, true); });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res, false); });
  const auto pick = [this](const std::string& name, httplib::Response& res, const AuthResult& who) -> Served* {
    Served* s = name.empty() && models.size() == 1 ? models[0].get() : find(name);
    if (!s) {
      send_error(res, name.empty() ? bad_request("model", "name the model: this server has several", "missing_required_parameter")
                                   : model_not_found(name));
      return nullptr;
    }
    return model_allowed(who, s->name, res) ? s : nullptr;
  };
  http.Post("/tokenize", [this, pick](const httplib::Request& req, httplib::Response& res) {
    AuthResult who;
    if (!authorized(req, res, "/tokenize", &who) || !loaded(res)) return;
    auto p = parse_tokenize_request(req.body);
    if (auto* e = std::get_if<ApiError>(&p)) return send_error(res, *e);
    const TokenizeRequest& t = std::get<TokenizeRequest>(p);
    Served* s = pick(t.model, res, who);
    if (!s) return;
    const std::vector<int32_t> ids = s->vocab->encode(t.content, t.add_special, t.parse_special);
    std::vector<std::string> pieces;
    for (int32_t id : ids) pieces.push_back(s->vocab->piece(id, true));
    send_json(res, tokenize_response_json(ids, t.with_pieces ? &pieces : nullptr));
  });
  http.Post("/detokenize", [this, pick](const httplib::Request& req, httplib::Response& res) {
    AuthResult who;
    if (!authorized(req, res, "/detokenize", &who) || !loaded(res)) return;
    auto p = parse_detokenize_request(req.body);
    if (auto* e = std::get_if<ApiError>(&p)) return send_error(res, *e);
    const DetokenizeRequest& d = std::get<DetokenizeRequest>(p);
    Served* s = pick(d.model, res, who);
    if (!s) return;
    if (auto e = check_token_ids(d.tokens, s->model->hp.n_vocab, "tokens")) return send_error(res, *e);
    send_json(res, detokenize_response_json(s->vocab->decode(d.tokens)));
  });
  if (o.metrics) {
    http.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      AuthResult who;
      if (!authorized(req, res, "/metrics", &who)) return;
      res.set_content(metrics_text(), "text/plain; version=0.0.4");
    });
  }
  // Errors httplib answers itself (no route, body too large) get OpenAI's shape too.
  http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) return send_error(res, payload_too_large(o.max_body_bytes));
    if (res.status == 404) return send_error(res, unknown_endpoint(req.method + " " + req.path));
    if (res.status == 405) return send_error(res, method_not_allowed(req.method + " " + req.path));
    ApiError e = bad_request("", "the request could not be read (HTTP " + std::to_string(res.status) + ")", "invalid_request");
    e.status = res.status;
    send_error(res, e);
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, internal_error(what));
  });
}

HttpServer::HttpServer(std::vector<std::string> model_paths, ServeOptions o) : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(o);
  impl_->paths = std::move(model_paths);
  if (impl_->paths.empty()) throw Error("serve: give at least one MODEL");
  if (!impl_->o.aliases.empty() && impl_->o.aliases.size() != impl_->paths.size()) {
    throw Error("--alias: give one per model (" + std::to_string(impl_->paths.size()) + " models, " +
                std::to_string(impl_->o.aliases.size()) + " aliases)");
  }
  if (!impl_->o.api_keys_path.empty()) impl_->keys = ApiKeys::load(impl_->o.api_keys_path);
  const int threads = impl_->o.http_threads > 0
                          ? impl_->o.http_threads
                          : int(impl_->paths.size()) * (impl_->o.engine.n_slots + impl_->o.queue_limit) + 8;
  impl_->http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  impl_->http.set_payload_max_length(impl_->o.max_body_bytes);
  impl_->http.set_read_timeout(30, 0);
  impl_->http.set_write_timeout(30, 0);
  impl_->routes();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  Impl& s = *impl_;
  if (s.o.port == 0) {
    s.port = s.http.bind_to_any_port(s.o.host);
    if (s.port < 0) throw Error("serve: cannot listen on " + s.o.host + " (any port)");
  } else {
    if (!s.http.bind_to_port(s.o.host, s.o.port)) {
      throw Error("serve: cannot listen on " + s.o.host + ":" + std::to_string(s.o.port) + " (in use, or no such address)");
    }
    s.port = s.o.port;
  }
  return s.port;
}

void HttpServer::load() {
  Impl& s = *impl_;
  std::vector<std::string> names;
  for (size_t i = 0; i < s.paths.size(); ++i) {
    auto m = std::make_unique<Served>();
    m->path = s.paths[i];
    m->name = s.o.aliases.empty() ? std::filesystem::path(m->path).stem().string() : s.o.aliases[i];
    if (std::find(names.begin(), names.end(), m->name) != names.end()) {
      throw Error("serve: two models are both called '" + m->name + "' (give --alias for each)");
    }
    names.push_back(m->name);
    m->created = int64_t(std::time(nullptr));
    if (dist::size() > 1 && s.paths.size() > 1) throw Error("serve under mpirun: one model (one path), not " +
                                                               std::to_string(s.paths.size()));
    m->model = dist::open_model(m->path, s.o.load, s.o.engine.n_threads > 0 ? s.o.engine.n_threads
                                                                            : int(std::max(1u, std::thread::hardware_concurrency())));
    m->vocab = std::make_unique<Vocab>(*m->model->file);
    try {
      m->tmpl = load_chat_template(*m->model->file, *m->vocab, "");
    } catch (const Error& e) {  // completions still work; chat answers 400 saying why
      m->no_template = e.what();
    }
    EngineOptions eo = s.o.engine;
    eo.mtp = s.o.draft.kind == DraftKind::Mtp;
    m->engine = std::make_unique<Engine>(*m->model, *m->vocab, eo);
    m->engine->start();
    s.log("dawn serve: model '" + m->name + "' from " + m->path + " (" + std::to_string(m->engine->max_ctx()) +
          " tokens per request, " + std::to_string(s.o.engine.n_slots) + " slots, KV pool " +
          std::to_string(s.o.engine.pool_tokens) + " tokens)");
    s.models.push_back(std::move(m));
  }
  s.ready = true;
}

void HttpServer::listen() { impl_->http.listen_after_bind(); }

void HttpServer::stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  s.ready = false;
  s.http.stop();  // no new connections; handlers in flight finish
  for (auto& m : s.models) m->engine->stop();
}

}  // namespace dawn::server
