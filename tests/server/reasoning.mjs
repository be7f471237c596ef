// The shipped reasoning model (models/dawn-r1-tiny.gguf) through dawn serve and the official
// `openai` client, on held-out tasks it was never trained on: the server splits its <think> block
// into reasoning_content (streamed and not, the same text), parses its DeepSeek-format tool calls
// into tool_calls with finish_reason "tool_calls", and answers from a tool's result sent back
// (where R1's template opens no <think>: the reply is content). This checks the server, not the
// model: the tasks are those `dawn eval` scores right, and each must come out right here too.
// Usage: node reasoning.mjs DAWN_BINARY MODEL TASKS.jsonl
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { check, finish, section, startServer, stopServer } from "./harness.mjs";

const [dawn, model, tasksFile] = process.argv.slice(2);
if (!dawn || !model || !tasksFile) {
  console.error("usage: node reasoning.mjs DAWN_BINARY MODEL TASKS.jsonl");
  process.exit(2);
}
const { default: OpenAI } = await import("openai");
const tasks = readFileSync(tasksFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
// Which of the first 12 tasks of each family dawn eval gets right (its --results, by line).
const work = mkdtempSync(join(tmpdir(), "dawn-reasoning-"));
execFileSync(dawn, ["eval", model, tasksFile, "--per-family", "12", "--results", join(work, "r.jsonl"), "-t", "2"],
  { stdio: ["ignore", "ignore", "inherit"] });
const passed = new Set(readFileSync(join(work, "r.jsonl"), "utf8").split("\n").filter((l) => l.trim())
  .map((l) => JSON.parse(l)).filter((r) => r.pass).map((r) => r.line));
rmSync(work, { recursive: true, force: true });
const lineOf = new Map(tasks.map((t, i) => [t, i + 1]));
const first = (family, n) => tasks.filter((t) => t.family === family && passed.has(lineOf.get(t))).slice(0, n);
const lastNumber = (s) => (s.match(/-?\d+(?:\.\d+)?(?!.*\d)/s) ?? [""])[0];
// The functions a task's system prompt lists, as an OpenAI `tools` array (R1's template renders
// no `tools`: the model reads them from the system prompt; the server needs them to parse calls).
const toolsOf = (t) => [...(t.messages[0]?.role === "system" ? t.messages[0].content : "").matchAll(/^- (\w+)\(/gm)]
  .map((m) => ({ type: "function", function: { name: m[1], parameters: { type: "object" } } }));
// Tool messages need the id of the call they answer.
const withIds = (messages) => messages.map((m) => m.role === "assistant" && m.tool_calls
  ? { ...m, tool_calls: m.tool_calls.map((c, i) => ({ id: `call_${i}`, ...c })) }
  : m.role === "tool" ? { ...m, tool_call_id: "call_0" } : m);

// Every request drafts with the MTP layer unless it says otherwise: the replies below are the
// model's own, with or without drafts.
const srv = await startServer(dawn, [model, "--alias", "r1", "-np", "2", "-c", "2048", "--draft", "mtp", "--metrics"]);
const client = new OpenAI({ baseURL: `${srv.base}/v1`, apiKey: "unused", maxRetries: 0, timeout: 120000 });
const ask = (t, extra = {}) => client.chat.completions.create({
  model: "r1", messages: withIds(t.messages), temperature: 0, ...extra });  // to the end of its 256-token context at most

try {
  section("arithmetic: reasoning_content holds the column-by-column work, content the exact answer");
  let right = 0;
  const arith = first("arith", 6);
  for (const t of arith) {
    const m = (await ask(t)).choices[0].message;
    check(/column by column/.test(m.reasoning_content ?? ""), `${t.messages.at(-1).content}: reasoning_content`, JSON.stringify(m));
    check(!/<think>|<\/think>/.test(m.content ?? ""), "no think tags in content", m.content);
    const ok = lastNumber(m.content ?? "") === t.expect.answer;
    if (!ok) console.log(`  missed: ${t.messages.at(-1).content} -> ${JSON.stringify(m.content)}`);
    right += ok;
  }
  check(arith.length >= 5 && right === arith.length, `exact answers ${right}/${arith.length}`);

  section("drafts: the same replies with mtp (the server's default), ngram and none; usage counts them");
  {
    const ts = [...arith.slice(0, 2), ...first("tool", 1), ...first("json", 1)];
    let accepted = 0, drafted = 0;
    for (const t of ts) {
      const extra = t.family === "tool" ? { tools: toolsOf(t) } : {};
      const [mtp, ngram, none] = await Promise.all([
        ask(t, extra), ask(t, { ...extra, draft: "ngram", draft_n: 3 }), ask(t, { ...extra, draft: "none" })]);
      // Call ids are random per response.
      const text = (r) => JSON.stringify(r.choices[0].message, (k, v) => (k === "id" ? undefined : v));
      for (const [r, name] of [[ngram, "ngram"], [none, "none"]]) {
        check(text(r) === text(mtp), `${t.family} ${name}: the mtp reply`, `${text(r)} vs ${text(mtp)}`);
      }
      const d = mtp.usage.completion_tokens_details ?? {};
      accepted += d.accepted_prediction_tokens ?? 0;
      drafted += (d.accepted_prediction_tokens ?? 0) + (d.rejected_prediction_tokens ?? 0);
      check(none.usage.completion_tokens_details?.accepted_prediction_tokens === undefined, "none: no prediction counts",
            JSON.stringify(none.usage));
      check(typeof ngram.usage.completion_tokens_details?.rejected_prediction_tokens === "number", "ngram: counted",
            JSON.stringify(ngram.usage));
    }
    check(drafted > 0 && accepted / drafted >= 0.8, `mtp drafts kept ${accepted}/${drafted}`);
    const metrics = await (await fetch(`${srv.base}/metrics`)).text();
    const total = Number((metrics.match(/^dawn_draft_accepted_tokens_total\{[^}]*\} (\d+)/m) ?? [])[1]);
    check(total >= accepted, "metrics: dawn_draft_accepted_tokens_total", String(total));
    let streamed = "";
    for await (const c of await ask(ts[0], { stream: true })) streamed += c.choices[0]?.delta?.content ?? "";
    check(streamed === (await ask(ts[0], { draft: "none" })).choices[0].message.content, "streamed with mtp: the same answer");
  }

  section("streamed: the deltas make up the same reasoning and answer");
  {
    const t = arith[0];
    const whole = (await ask(t)).choices[0].message;
    let reasoning = "", content = "";
    for await (const c of await ask(t, { stream: true })) {
      reasoning += c.choices[0]?.delta?.reasoning_content ?? "";
      content += c.choices[0]?.delta?.content ?? "";
    }
    check(reasoning === whole.reasoning_content, "streamed reasoning_content", `${reasoning} vs ${whole.reasoning_content}`);
    check(content === whole.content, "streamed content", `${content} vs ${whole.content}`);
  }

  section("tools: a DeepSeek-format call comes back as tool_calls");
  const calls = first("tool", 6);
  right = 0;
  for (const t of calls) {
    const r = await ask(t, { tools: toolsOf(t) });
    const c = r.choices[0];
    const call = c.message.tool_calls?.[0];
    let args = null;
    try {
      args = JSON.parse(call?.function?.arguments ?? "null");
    } catch {}
    const ok = c.finish_reason === "tool_calls" && call?.function?.name === t.expect.tool &&
      JSON.stringify(args) === JSON.stringify(t.expect.arguments);
    if (!ok) console.log(`  missed: ${t.messages.at(-1).content} -> ${JSON.stringify(c)}`);
    right += ok;
  }
  check(calls.length >= 3 && right === calls.length, `right calls ${right}/${calls.length}`);
  const none = first("notool", 4);
  check(none.length >= 3, "tasks without a call", String(none.length));
  for (const t of none) {
    const c = (await ask(t, { tools: toolsOf(t) })).choices[0];
    check(!c.message.tool_calls?.length && c.finish_reason === "stop", `no call: ${t.messages.at(-1).content}`, JSON.stringify(c));
  }

  section("the tool's result goes back; the answer uses it");
  const answers = first("tool_answer", 4);
  right = 0;
  for (const t of answers) {
    const m = (await ask(t, { tools: toolsOf(t) })).choices[0].message;
    const ok = t.expect.contains_all.every((s) => (m.content ?? "").includes(s)) && !m.reasoning_content;
    if (!ok) console.log(`  missed: ${JSON.stringify(m)}`);
    right += ok;
  }
  check(answers.length >= 3 && right === answers.length, `answers from the result ${right}/${answers.length}`);
} finally {
  const res = await stopServer(srv);
  check(res.code === 0, "SIGTERM: exit 0");
}
finish();
