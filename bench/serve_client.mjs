// A streaming load generator for OpenAI-compatible servers (dawn serve, llama-server): C clients,
// each sending a new streamed completion as soon as its last one ends, for S seconds. Prints JSON:
// aggregate generated tok/s, time to first token and inter-token latency p50/p99 (ms), errors,
// broken streams. Imported by bench/load.mjs; run by bench/serve.sh.
// Usage: node bench/serve_client.mjs --base http://127.0.0.1:8080 --model M [--clients 4]
//          [--seconds 60] [--max-tokens 64] [--prompt-words 48] [--chat] [--extra '{"ignore_eos":true}']
import { fileURLToPath } from "node:url";

export function newStats() {
  return { requests: 0, errors: 0, broken: 0, tokens: 0, ttft: [], itl: [] };
}

export function percentile(a, q) {
  if (!a.length) return 0;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const words = "the old man walked down to the river and saw a boat that was made of wood and iron".split(" ");

// One streamed request; its chunks, latencies and outcome go into stats.
export async function streamOnce(base, model, stats, { chat = false, maxTokens = 64, promptWords = 48, rand, extra = {} }) {
  const prompt = Array.from({ length: Math.max(1, promptWords - 8 + rand(16)) }, () => words[rand(words.length)]).join(" ");
  const body = chat
    ? { model, messages: [{ role: "user", content: prompt }], stream: true, max_tokens: maxTokens, temperature: 0.8, ...extra }
    : { model, prompt, stream: true, max_tokens: maxTokens, temperature: 0.8, ...extra };
  const t0 = performance.now();
  let res;
  try {
    res = await fetch(`${base}/v1/${chat ? "chat/completions" : "completions"}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  } catch {
    ++stats.errors;
    return;
  }
  ++stats.requests;
  if (res.status !== 200) {
    ++stats.errors;
    await res.text();
    return;
  }
  let buf = "", finished = false, done = false, last = 0;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk, { stream: true });
      let at;
      while ((at = buf.indexOf("\n\n")) >= 0) {
        const ev = buf.slice(0, at).trim();
        buf = buf.slice(at + 2);
        if (!ev.startsWith("data: ")) continue;
        const data = ev.slice(6);
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        const j = JSON.parse(data);
        if (j.error) throw new Error(j.error.message);
        const c = j.choices?.[0];
        if (!c) continue;
        const piece = chat ? c.delta?.content ?? c.delta?.reasoning_content ?? "" : c.text ?? "";
        const now = performance.now();
        if (piece) {
          ++stats.tokens;
          if (last === 0) stats.ttft.push(now - t0);
          else stats.itl.push(now - last);
          last = now;
        }
        if (c.finish_reason) finished = true;
      }
    }
  } catch {
    ++stats.broken;
    return;
  }
  if (!finished || !done) ++stats.broken;
}

// clients loops of streamOnce until stop() says so.
export function startClients(base, model, clients, stats, opts, stop) {
  let rng = opts.seed ?? 7;
  const rand = (n) => ((rng = (rng * 1103515245 + 12345) % 2147483648) % n);
  return Array.from({ length: clients }, async () => {
    while (!stop()) await streamOnce(base, model, stats, { ...opts, rand });
  });
}

export function summary(stats, seconds) {
  return {
    requests: stats.requests, errors: stats.errors, broken: stats.broken, tokens: stats.tokens,
    tok_s: stats.tokens / seconds,
    ttft_p50_ms: percentile(stats.ttft, 0.5), ttft_p99_ms: percentile(stats.ttft, 0.99),
    itl_p50_ms: percentile(stats.itl, 0.5), itl_p99_ms: percentile(stats.itl, 0.99),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : def;
  };
  const base = opt("--base", "http://127.0.0.1:8080"), model = opt("--model", "");
  const clients = Number(opt("--clients", "4")), seconds = Number(opt("--seconds", "60"));
  const opts = {
    chat: args.includes("--chat"), maxTokens: Number(opt("--max-tokens", "64")),
    promptWords: Number(opt("--prompt-words", "48")), extra: JSON.parse(opt("--extra", "{}")),
  };
  // A few requests first so that neither server is measured cold.
  const warm = newStats();
  await Promise.all(startClients(base, model, Math.min(clients, 2), warm, { ...opts, maxTokens: 8 }, (() => {
    let n = 0;
    return () => n++ >= 2;
  })()));
  const stats = newStats();
  const t0 = Date.now();
  let stopping = false;
  const runners = startClients(base, model, clients, stats, opts, () => stopping);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stopping = true;
  await Promise.all(runners);
  console.log(JSON.stringify(summary(stats, (Date.now() - t0) / 1000)));
}
