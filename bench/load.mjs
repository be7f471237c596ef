// Load test of dawn serve (not a CTest): N concurrent streaming clients for M minutes on loopback,
// each asking again as soon as its stream ends. Counts HTTP errors and broken streams (no
// finish_reason or no data: [DONE]), and compares the server's RSS after the run with its RSS
// after a warm-up.
// Usage: node bench/load.mjs [--dawn build/dawn] [--model models/dawn-brown-v3.gguf] [--clients 64]
//          [--minutes 5] [--warmup-s 30] [-np 16] [-t 2] [--prefix-cache-mib 16] [--chat]
// The prefix cache fills during the warm-up (random prompts rarely share prefixes), so the RSS
// after warm-up includes it.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { newStats, percentile, startClients } from "./serve_client.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const dawn = opt("--dawn", join(root, "build", "dawn"));
const modelPath = opt("--model", join(root, "models", "dawn-brown-v3.gguf"));
const clients = Number(opt("--clients", "64"));
const minutes = Number(opt("--minutes", "5"));
const warmupS = Number(opt("--warmup-s", "30"));
const np = opt("-np", "16");
const threads = opt("-t", "2");
const chat = args.includes("--chat");
const prefixMib = opt("--prefix-cache-mib", "16");
const model = basename(modelPath).replace(/\.gguf$/, "");

const proc = spawn(dawn, ["serve", modelPath, "--port", "0", "-np", np, "-t", threads, "-c", String(Number(np) * 512),
                          "--queue-limit", String(clients * 2), "--prefix-cache-mib", prefixMib, "--quiet", "--metrics"], { stdio: ["ignore", "ignore", "pipe"] });
let log = "";
proc.stderr.on("data", (d) => (log += d));
let base = null;
for (let i = 0; i < 600 && !base; ++i) {
  const m = log.match(/ready on (http:\/\/[\d.]+:\d+)/);
  if (m) base = m[1];
  else await new Promise((r) => setTimeout(r, 100));
}
if (!base) {
  console.error(`dawn serve did not start: ${log}`);
  process.exit(1);
}
const rss = () => Number(readFileSync(`/proc/${proc.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]) * 1024;

const stats = newStats();
let stop = false;

console.log(`dawn serve ${model}: ${clients} streaming clients, -np ${np}, ${minutes} min after ${warmupS} s of warm-up`);
const runners = startClients(base, model, clients, stats, { chat, maxTokens: 40, promptWords: 28 }, () => stop);
await new Promise((r) => setTimeout(r, warmupS * 1000));
const rssWarm = rss();
const warm = { requests: stats.requests, tokens: stats.tokens };
stats.ttft = [];
stats.itl = [];
const t0 = Date.now();
let maxRss = rssWarm;
while (Date.now() - t0 < minutes * 60000) {
  await new Promise((r) => setTimeout(r, 5000));
  maxRss = Math.max(maxRss, rss());
}
stop = true;
await Promise.all(runners);
const rssAfter = rss();
const secs = (Date.now() - t0) / 1000;
proc.kill("SIGTERM");
const exit = await new Promise((r) => proc.on("exit", (code) => r(code)));
const requests = stats.requests - warm.requests, tokens = stats.tokens - warm.tokens;
const drift = (rssAfter / rssWarm - 1) * 100;
console.log(`requests ${requests}, errors ${stats.errors}, broken streams ${stats.broken}, ${(tokens / secs).toFixed(1)} tok/s aggregate`);
console.log(`TTFT p50 ${percentile(stats.ttft, 0.5).toFixed(1)} ms p99 ${percentile(stats.ttft, 0.99).toFixed(1)} ms; inter-token p50 ${percentile(stats.itl, 0.5).toFixed(1)} ms p99 ${percentile(stats.itl, 0.99).toFixed(1)} ms`);
console.log(`RSS after warm-up ${(rssWarm / 2 ** 20).toFixed(1)} MiB, after ${(rssAfter / 2 ** 20).toFixed(1)} MiB (${drift >= 0 ? "+" : ""}${drift.toFixed(2)} %), peak ${(maxRss / 2 ** 20).toFixed(1)} MiB; exit ${exit}`);
const ok = stats.errors === 0 && stats.broken === 0 && Math.abs(drift) <= 5 && exit === 0;
console.log(ok ? "PASS" : "FAIL");
process.exit(ok ? 0 : 1);
