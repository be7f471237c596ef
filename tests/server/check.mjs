// dawn serve driven by the official `openai` npm client (pinned in package-lock.json) and by
// raw HTTP, on loopback: chat and completions, streamed and not; usage against `dawn tokenize`
// of the rendered prompt; stop strings, length, seeds, logprobs against `dawn logits`; the
// prefix cache; every error case; keys and roles; a fuzz of mutated bodies; a client that
// disconnects mid-stream; several models in one server; SIGTERM drains and exits 0.
// Usage: node check.mjs DAWN_BINARY SHIPPED_MODEL
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { check, finish, post, section, startServer as startDawn, stopServer } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const [dawn, shipped] = process.argv.slice(2);
if (!dawn || !shipped) {
  console.error("usage: node check.mjs DAWN_BINARY MODEL");
  process.exit(2);
}
if (!existsSync(join(here, "node_modules", "openai"))) {
  console.error(`missing ${join(here, "node_modules")}: run npm ci --prefix ${here} (scripts/test.sh does)`);
  process.exit(1);
}
const { default: OpenAI } = await import("openai");

const work = mkdtempSync(join(tmpdir(), "dawn-serve-"));
const run = (args) => execFileSync(dawn, args, { maxBuffer: 1 << 28 }).toString("utf8");
const startServer = (args) => startDawn(dawn, args);

// Completions on the shipped model (no chat template); chat on a synthetic DeepSeek-V3 model
// (the built-in R1 template: <think> opens the answer) and a synthetic qwen2 (ChatML).
const shippedName = "dawn-brown-v3";
const model = "ds";
const ds = join(work, "ds.gguf"), synth = join(work, "qwen2.gguf");
run(["synth", "--preset", "tiny-deepseek-v3", "--seed", "2", "-o", ds]);
run(["synth", "--preset", "tiny-qwen2", "--seed", "2", "-o", synth]);
const srv = await startServer([shipped, ds, synth, "--alias", shippedName, "--alias", "ds", "--alias", "qwen2",
                               "-np", "4", "-c", "4096", "--metrics"]);
const client = new OpenAI({ baseURL: `${srv.base}/v1`, apiKey: "unused", maxRetries: 0, timeout: 60000 });
const messages = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Tell me about the old house by the river." },
];

try {
  section("chat: streamed == non-streamed at temperature 0; usage == dawn tokenize of the rendered prompt");
  const full = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 24 });
  const msg = full.choices[0].message;
  check(full.object === "chat.completion" && typeof msg.content === "string", "chat.completion shape", JSON.stringify(full).slice(0, 200));
  const stream = await client.chat.completions.create({
    model, messages, temperature: 0, max_tokens: 24, stream: true, stream_options: { include_usage: true },
  });
  let content = "", reasoning = "", finish = null, usage = null, roleSeen = false;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) roleSeen = true;
      content += c.delta.content ?? "";
      reasoning += c.delta.reasoning_content ?? "";
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  console.log(`   chat: ${JSON.stringify(msg.content).slice(0, 80)} reasoning ${JSON.stringify(msg.reasoning_content ?? "").slice(0, 60)} (${full.usage.completion_tokens} tokens, ${full.choices[0].finish_reason})`);
  check(roleSeen, "stream starts with the role");
  check(content === msg.content, "streamed content == non-streamed", `${JSON.stringify(content)} vs ${JSON.stringify(msg.content)}`);
  check(reasoning === (msg.reasoning_content ?? ""), "streamed reasoning == non-streamed");
  check(finish === full.choices[0].finish_reason, "same finish_reason");
  check(usage && usage.completion_tokens === full.usage.completion_tokens, "stream usage chunk");
  // reasoning_format "inline": everything in content, <think> included, streamed the same.
  const qFull = await client.chat.completions.create({ model: "qwen2", messages, temperature: 0, max_tokens: 24, reasoning_format: "inline" });
  let qText = "";
  for await (const chunk of await client.chat.completions.create({ model: "qwen2", messages, temperature: 0, max_tokens: 24, stream: true, reasoning_format: "inline" }))
    qText += chunk.choices[0]?.delta?.content ?? "";
  check(qFull.choices[0].message.content.length > 0 && qText === qFull.choices[0].message.content, "qwen2, inline reasoning: streamed content == non-streamed",
        `${JSON.stringify(qText)} vs ${JSON.stringify(qFull.choices[0].message.content)}`);
  writeFileSync(join(work, "m.json"), JSON.stringify(messages));
  const rendered = run(["template", ds, "--messages", join(work, "m.json"), "--add-generation-prompt"]);
  writeFileSync(join(work, "p.txt"), rendered);
  const promptIds = JSON.parse(run(["tokenize", ds, "--text-file", join(work, "p.txt"), "--json"]));
  check(full.usage.prompt_tokens === promptIds.length, "usage.prompt_tokens == dawn tokenize", `${full.usage.prompt_tokens} vs ${promptIds.length}`);
  check(full.usage.total_tokens === full.usage.prompt_tokens + full.usage.completion_tokens, "total_tokens");

  section("completions: streamed == non-streamed; length; stop strings");
  const prompt = "The old man walked down the road and";
  const comp = await client.completions.create({ model: shippedName, prompt, temperature: 0, max_tokens: 20 });
  let streamed = "";
  for await (const ch of await client.completions.create({ model: shippedName, prompt, temperature: 0, max_tokens: 20, stream: true }))
    streamed += ch.choices[0]?.text ?? "";
  check(comp.object === "text_completion", "text_completion shape");
  check(streamed === comp.choices[0].text, "streamed text == non-streamed", `${JSON.stringify(streamed)} vs ${JSON.stringify(comp.choices[0].text)}`);
  const short = await client.completions.create({ model: shippedName, prompt, temperature: 0, max_tokens: 5 });
  check(short.choices[0].finish_reason === "length" && short.usage.completion_tokens === 5, "max_tokens ends with length");
  const text = comp.choices[0].text;
  console.log(`   completion: ${JSON.stringify(text)}`);
  const cut = text.slice(6, 9);
  check(cut.trim().length > 0, "the greedy completion has text to cut a stop string from");
  if (cut.trim().length > 0) {
    const stopped = await client.completions.create({ model: shippedName, prompt, temperature: 0, max_tokens: 20, stop: [cut] });
    check(stopped.choices[0].finish_reason === "stop", "stop string ends with stop");
    check(stopped.choices[0].text === text.slice(0, text.indexOf(cut)), "text ends before the stop string",
          `${JSON.stringify(stopped.choices[0].text)} vs ${JSON.stringify(text.slice(0, text.indexOf(cut)))}`);
    const stopList = await client.completions.create({ model: shippedName, prompt, temperature: 0, max_tokens: 20, stop: "zzzq" });
    check(stopList.choices[0].text === text, "a stop string never generated changes nothing");
  }

  section("seeds reproduce; n choices");
  const a = await client.completions.create({ model: shippedName, prompt, temperature: 1, seed: 42, max_tokens: 16 });
  const b = await client.completions.create({ model: shippedName, prompt, temperature: 1, seed: 42, max_tokens: 16 });
  const c = await client.completions.create({ model: shippedName, prompt, temperature: 1, seed: 43, max_tokens: 16 });
  check(a.choices[0].text === b.choices[0].text, "same seed, same text");
  check(a.choices[0].text !== c.choices[0].text, "another seed, another text");
  const many = await client.chat.completions.create({ model, messages, temperature: 1, seed: 5, max_tokens: 8, n: 3 });
  check(many.choices.length === 3 && many.choices.map((x) => x.index).join() === "0,1,2", "n = 3 choices");

  section("logprobs against dawn logits");
  const lp = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 4, logprobs: true, top_logprobs: 3 });
  const content0 = lp.choices[0].logprobs?.content ?? [];
  check(content0.length === lp.usage.completion_tokens, "one logprob entry per token");
  check(content0.every((e) => e.top_logprobs.length === 3 && e.top_logprobs[0].logprob >= e.top_logprobs[2].logprob), "top_logprobs sorted");
  const ref = JSON.parse(run(["logits", ds, "--tokens", promptIds.join(","), "--kv-type", "f16"])).positions[0].logits;
  const max = Math.max(...ref);
  const lse = max + Math.log(ref.reduce((s, x) => s + Math.exp(x - max), 0));
  const argmax = ref.indexOf(max);
  check(Math.abs(content0[0]?.logprob - (ref[argmax] - lse)) < 1e-3, "first token's logprob == dawn logits' log-softmax",
        `${content0[0]?.logprob} vs ${ref[argmax] - lse}`);

  section("prefix cache: a second request sharing a 200+ token prefix");
  const longSystem = "The river ran past the old mill and the miller's house, and the children played by it every day. ".repeat(12);
  const m1 = [{ role: "system", content: longSystem }, { role: "user", content: "What happened first?" }];
  const m2 = [{ role: "system", content: longSystem }, { role: "user", content: "And what happened next?" }];
  await client.chat.completions.create({ model, messages: m1, temperature: 0, max_tokens: 4 });
  const warm = await client.chat.completions.create({ model, messages: m2, temperature: 0, max_tokens: 12 });
  const cached = warm.usage.prompt_tokens_details?.cached_tokens ?? 0;
  console.log(`   cached ${cached} of ${warm.usage.prompt_tokens} prompt tokens`);
  check(cached >= 200, "cached_tokens >= 200", `${cached} of ${warm.usage.prompt_tokens}`);
  const cold = await startServer([ds, "--alias", "ds", "-np", "2", "--prefix-cache-mib", "0", "--quiet"]);
  const coldClient = new OpenAI({ baseURL: `${cold.base}/v1`, apiKey: "x", maxRetries: 0 });
  const coldAnswer = await coldClient.chat.completions.create({ model, messages: m2, temperature: 0, max_tokens: 12 });
  check(coldAnswer.choices[0].message.content === warm.choices[0].message.content &&
        (coldAnswer.choices[0].message.reasoning_content ?? "") === (warm.choices[0].message.reasoning_content ?? ""),
        "same answer with the cache off");
  check((coldAnswer.usage.prompt_tokens_details?.cached_tokens ?? 0) === 0, "no cached tokens with the cache off");
  await stopServer(cold);

  section("several models in one server");
  const models = await client.models.list();
  const ids = models.data.map((m) => m.id).sort();
  check(ids.join() === "dawn-brown-v3,ds,qwen2", "GET /v1/models lists all three", ids.join());
  const noTemplate = await post(srv.base, "/v1/chat/completions", { model: shippedName, messages });
  check(noTemplate.status === 400 && /chat template/.test(noTemplate.json?.error?.message ?? ""), "chat on a model without a template: 400 saying why");
  const q = await client.completions.create({ model: "qwen2", prompt: "hello", max_tokens: 3, temperature: 0 });
  check(q.model === "qwen2" && q.usage.completion_tokens >= 1, "the request's model answers");

  section("errors: status and type");
  const expectError = (r, status, type, code, what) => {
    const e = r.json?.error;
    check(r.status === status && e && e.type === type && (code === undefined || e.code === code) && typeof e.message === "string",
          what, `${r.status} ${r.text.slice(0, 200)}`);
  };
  const chatBody = { model, messages, max_tokens: 4 };
  expectError(await post(srv.base, "/v1/chat/completions", "{not json"), 400, "invalid_request_error", undefined, "malformed JSON");
  expectError(await post(srv.base, "/v1/chat/completions", { ...chatBody, messages: "hi" }), 400, "invalid_request_error", undefined, "wrong field type");
  expectError(await post(srv.base, "/v1/chat/completions", { ...chatBody, model: "nope" }), 404, "invalid_request_error", "model_not_found", "unknown model");
  expectError(await post(srv.base, "/v1/chat/completions", { ...chatBody, temperature: 7 }), 400, "invalid_request_error", undefined, "bad temperature");
  expectError(await post(srv.base, "/v1/chat/completions", { ...chatBody, top_p: -1 }), 400, "invalid_request_error", undefined, "bad top_p");
  expectError(await post(srv.base, "/v1/completions", { model: shippedName, prompt: "the ".repeat(5000), max_tokens: 4 }), 400, "invalid_request_error", "context_length_exceeded", "prompt longer than the context");
  expectError(await post(srv.base, "/v1/completions", { model: shippedName, prompt: "hi", max_tokens: 100000 }), 400, "invalid_request_error", "context_length_exceeded", "max_tokens past the context");
  expectError(await post(srv.base, "/v1/chat/completions", JSON.stringify({ ...chatBody, pad: "x".repeat(9 << 20) })), 413, "invalid_request_error", undefined, "body too large");
  const badUtf8 = Buffer.concat([Buffer.from('{"model":"ds","messages":[{"role":"user","content":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
  expectError(await post(srv.base, "/v1/chat/completions", new Uint8Array(badUtf8)), 400, "invalid_request_error", undefined, "invalid UTF-8");
  expectError(await post(srv.base, "/v1/nothing", {}), 404, "invalid_request_error", undefined, "unknown endpoint");
  for (const [extra, param, what] of [[{ draft: "bogus" }, "draft", "unknown drafter"],
                                      [{ draft: "mtp" }, "draft", "mtp on a server started without --draft mtp"],
                                      [{ draft: "ngram", draft_n: 99 }, "draft_n", "draft_n out of range"]]) {
    const r = await post(srv.base, "/v1/chat/completions", { ...chatBody, ...extra });
    expectError(r, 400, "invalid_request_error", undefined, what);
    check(r.json?.error?.param === param, `${what}: param ${param}`, r.text.slice(0, 200));
  }
  try {
    await client.chat.completions.create({ model: "nope", messages });
    check(false, "the openai client raises on 404");
  } catch (e) {
    check(e.status === 404, "the openai client sees 404", String(e));
  }

  // Fewer under the sanitizers (DAWN_SANITIZED), where every request's generation is ~10x slower;
  // the in-process fuzz (ServerApiFuzz) covers the parser with many more there.
  const nFuzz = process.env.DAWN_SANITIZED ? 400 : 1000;
  section(`fuzz: ${nFuzz} mutated bodies, each answered with 2xx/4xx JSON`);
  const seeds = [
    JSON.stringify({ model, messages, max_tokens: 2 }),
    JSON.stringify({ model: shippedName, prompt: "hi there", max_tokens: 2, temperature: 0.5, stop: ["a", "b"] }),
    JSON.stringify({ model, messages, max_tokens: 2, logprobs: true, top_logprobs: 2, logit_bias: { "5": -100 } }),
  ];
  let rng = 12345;
  const rand = (n) => ((rng = (rng * 1103515245 + 12345) % 2147483648) % n);
  const pieces = ['"', "{", "}", "[", "]", ",", ":", "null", "-1", "1e309", "true", '"\\ud800"', "\u00ff", "0"];
  let bad = 0;
  const statuses = {};
  for (let i = 0; i < nFuzz; ++i) {
    let s = seeds[i % seeds.length];
    const edits = 1 + rand(4);
    for (let k = 0; k < edits; ++k) {
      const at = rand(s.length);
      const op = rand(4);
      if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + rand(4));
      else if (op === 1) s = s.slice(0, at) + pieces[rand(pieces.length)] + s.slice(at);
      else if (op === 2) s = s.slice(0, at);
      else s = s.slice(0, at) + String.fromCharCode(rand(128)) + s.slice(at + 1);
    }
    const path = i % 2 ? "/v1/completions" : "/v1/chat/completions";
    const r = await post(srv.base, path, s);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const okShape = (r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500 && r.json?.error?.message);
    if (!okShape) {
      if (++bad <= 5) console.log(`   fuzz ${i}: ${r.status} ${r.text.slice(0, 120)} for ${JSON.stringify(s).slice(0, 120)}`);
    }
  }
  console.log(`   statuses: ${JSON.stringify(statuses)}`);
  check(bad === 0, "every mutated body answered 2xx or 4xx JSON", `${bad} not`);
  check((await fetch(`${srv.base}/health`)).status === 200, "the server is still up");

  section("a client that disconnects mid-stream frees its sequence");
  const ac = new AbortController();
  const s2 = await client.chat.completions.create({ model, messages, max_tokens: 2000, stream: true, temperature: 1 }, { signal: ac.signal });
  let got = 0;
  try {
    for await (const _ of s2) if (++got === 3) ac.abort();
  } catch {}
  let running = -1;
  for (let t = 0; t < 40; ++t) {
    const metrics = await (await fetch(`${srv.base}/metrics`)).text();
    running = Number(metrics.match(/dawn_requests_running\{model="ds"\} (\d+)/)?.[1] ?? -1);
    if (running === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  check(running === 0, "no request running after the client left", `running ${running}`);
  const metrics = await (await fetch(`${srv.base}/metrics`)).text();
  for (const name of ["dawn_requests_waiting", "dawn_prompt_tokens_total", "dawn_generated_tokens_total", "dawn_time_to_first_token_seconds_bucket",
                      "dawn_inter_token_latency_seconds_bucket", "dawn_kv_pool_used_tokens", "dawn_prefix_cache_hit_tokens_total"])
    check(metrics.includes(name), `/metrics has ${name}`);
} finally {
  const res = await stopServer(srv);
  check(res.code === 0, "SIGTERM: exit 0", JSON.stringify(res));
  const lines = srv.stderr().split("\n").filter((l) => l.includes("/v1/chat/completions"));
  check(lines.length > 0 && !/sk-/.test(srv.stderr()), "one log line per request, no keys");
  check(!/Sanitizer|runtime error:/.test(srv.stderr()), "no sanitizer report", srv.stderr().slice(-500));
}

section("keys and roles");
writeFileSync(join(work, "keys.json"), JSON.stringify({
  roles: { admin: { models: ["*"], endpoints: ["*"] }, user: { models: ["qwen2"] } },
  keys: [{ name: "ops", key: "sk-ops-0123456789abcdef", role: "admin" }, { name: "alice", key: "sk-alice-0123456789abcd", role: "user" }],
}));
const secured = await startServer([shipped, synth, "--alias", shippedName, "--alias", "qwen2", "--api-keys", join(work, "keys.json"), "--metrics", "--quiet"]);
try {
  const body = { model: "qwen2", prompt: "hi", max_tokens: 2 };
  const auth = (k) => ({ Authorization: `Bearer ${k}` });
  const r401a = await post(secured.base, "/v1/completions", body);
  check(r401a.status === 401 && r401a.json?.error, "missing key: 401");
  const r401b = await post(secured.base, "/v1/completions", body, auth("sk-alice-0123456789abce"));
  check(r401b.status === 401 && !r401b.text.includes("sk-alice"), "wrong key: 401, key not echoed");
  const r403 = await post(secured.base, "/v1/completions", { ...body, model: shippedName }, auth("sk-alice-0123456789abcd"));
  check(r403.status === 403 && r403.json?.error, "forbidden model: 403");
  const r200 = await post(secured.base, "/v1/completions", body, auth("sk-alice-0123456789abcd"));
  check(r200.status === 200, "allowed: 200", r200.text.slice(0, 200));
  const metricsUser = await fetch(`${secured.base}/metrics`, { headers: auth("sk-alice-0123456789abcd") });
  const metricsAdmin = await fetch(`${secured.base}/metrics`, { headers: auth("sk-ops-0123456789abcdef") });
  check(metricsUser.status === 403 && metricsAdmin.status === 200, "/metrics is admin-only", `${metricsUser.status} ${metricsAdmin.status}`);
  const keyed = new OpenAI({ baseURL: `${secured.base}/v1`, apiKey: "sk-alice-0123456789abcd", maxRetries: 0 });
  const ok = await keyed.completions.create(body);
  check(ok.choices.length === 1, "the openai client with a key");
} finally {
  const res = await stopServer(secured);
  check(res.code === 0, "SIGTERM: exit 0 (keys server)");
}

rmSync(work, { recursive: true, force: true });
finish();
console.log("dawn serve behaves as the OpenAI client expects");
