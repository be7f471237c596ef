// Shared by the server checks (check.mjs, constrained.mjs): counted checks, and dawn serve
// started on a free loopback port (--port 0) and stopped again; whatever way a script ends, no
// server it started is left running.
import { spawn } from "node:child_process";

let failures = 0, checks = 0;
export const check = (ok, what, detail = "") => {
  ++checks;
  if (!ok) {
    ++failures;
    console.log(`FAIL ${what}${detail ? ": " + detail : ""}`);
  }
};
export const section = (s) => console.log(`-- ${s}`);
// "N/M checks passed"; exits 1 when any failed.
export function finish() {
  console.log(`${checks - failures}/${checks} checks passed`);
  if (failures) {
    console.log(`FAILED: ${failures}`);
    process.exit(1);
  }
}

const servers = new Set();
process.on("exit", () => {
  for (const p of servers) if (p.exitCode === null) p.kill("SIGKILL");
});

// Starts `dawn serve ARGS --port 0 -t 2` and resolves with {proc, base, stderr()} once /health is 200.
export async function startServer(dawn, args) {
  const proc = spawn(dawn, ["serve", ...args, "--port", "0", "-t", "2"], { stdio: ["ignore", "ignore", "pipe"] });
  servers.add(proc);
  let err = "";
  proc.stderr.on("data", (d) => (err += d.toString()));
  const deadline = Date.now() + 60000;
  let base = null;
  while (Date.now() < deadline) {
    const m = err.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m) base = m[1];
    if (base) {
      try {
        const r = await fetch(`${base}/health`);
        if (r.status === 200) return { proc, base, stderr: () => err };
      } catch {}
    }
    if (proc.exitCode !== null) throw new Error(`dawn serve exited ${proc.exitCode}: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill("SIGKILL");
  throw new Error(`dawn serve did not become healthy: ${err}`);
}

// SIGTERM, then SIGKILL after 30 s; resolves with the exit {code, signal}.
export async function stopServer(s) {
  const exited = new Promise((r) => s.proc.on("exit", (code, signal) => r({ code, signal })));
  s.proc.kill("SIGTERM");
  const t = setTimeout(() => s.proc.kill("SIGKILL"), 30000);
  const res = await exited;
  clearTimeout(t);
  return res;
}

// POST a JSON (or raw) body; {status, json (null if the reply is not JSON), text, type}.
export const post = async (base, path, body, headers = {}) => {
  const r = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, json, text, type: r.headers.get("content-type") };
};
