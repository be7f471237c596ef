// Constrained output through dawn serve, driven by the official `openai` client, checked by Ajv
// (JSON Schema 2020-12 with formats; both pinned in package-lock.json): response_format
// json_schema and json_object, streamed and not, on a model whose template opens <think> (the
// reasoning stays free, the answer validates) and on one without; tool_choice "required" and a
// named function give calls whose arguments validate against the function's parameters, also
// streamed as delta.tool_calls; a follow-up with the tool's result renders and runs; bad
// schemas and grammars are 400s naming the field.
// Usage: node constrained.mjs DAWN_BINARY SCHEMA_DIR
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { check, finish, post, section, startServer, stopServer } from "./harness.mjs";

const [dawn, schemaDir] = process.argv.slice(2);
if (!dawn || !schemaDir) {
  console.error("usage: node constrained.mjs DAWN_BINARY SCHEMA_DIR");
  process.exit(2);
}
const { default: OpenAI } = await import("openai");
const { default: Ajv2020 } = await import("ajv/dist/2020.js");
const { default: addFormats } = await import("ajv-formats");
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);

const work = mkdtempSync(join(tmpdir(), "dawn-constrained-"));
const ds = join(work, "ds.gguf"), qwen = join(work, "qwen2.gguf");
execFileSync(dawn, ["synth", "--preset", "tiny-deepseek-v3", "--seed", "4", "-o", ds]);
execFileSync(dawn, ["synth", "--preset", "tiny-qwen2", "--seed", "4", "-o", qwen]);
const srv = await startServer(dawn, [ds, qwen, "--alias", "ds", "--alias", "qwen2", "-np", "4", "-c", "8192"]);
const base = srv.base;
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0, timeout: 120000 });
const postJson = (path, body) => post(base, path, body);
const valid = (schema, text) => {
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${e.message}`;
  }
  const f = ajv.compile(schema);
  return f(v) ? "" : ajv.errorsText(f.errors);
};
const messages = [{ role: "user", content: "Fill in the form, please." }];

try {
  section("response_format json_schema: every suite schema, both models, greedy and temperature 1");
  const files = readdirSync(schemaDir).filter((f) => f.endsWith(".json")).sort();
  let n = 0;
  for (const [k, f] of files.entries()) {
    const schema = JSON.parse(readFileSync(join(schemaDir, f), "utf8")).schema;
    for (const model of ["ds", "qwen2"]) {
      const temperature = k % 2;
      const r = await client.chat.completions.create({
        model, messages, temperature, seed: k, max_tokens: 320, reasoning_budget: 12,
        response_format: { type: "json_schema", json_schema: { name: "form", schema, strict: true } },
      });
      const msg = r.choices[0].message;
      const why = valid(schema, msg.content);
      check(why === "", `${model} ${f} t=${temperature} validates`, `${why}: ${JSON.stringify(msg.content)}`);
      // (max_tokens leaves room for the reasoning budget and every suite schema's shortest answer,
      // so the reasoning is never closed early to make room.)
      if (model === "ds") check(typeof msg.reasoning_content === "string" && msg.reasoning_content.length > 0, `${f}: reasoning_content is there (free)`);
      ++n;
    }
  }
  check(n >= 80, "schemas x models", String(n));

  section("json_object, streamed");
  for (const model of ["ds", "qwen2"]) {
    const stream = await client.chat.completions.create({
      model, messages, temperature: 1, seed: 9, max_tokens: 64, reasoning_budget: 8, stream: true,
      response_format: { type: "json_object" },
    });
    let content = "";
    for await (const c of stream) content += c.choices[0]?.delta?.content ?? "";
    const why = valid({ type: "object" }, content);
    check(why === "", `${model}: streamed json_object parses`, `${why}: ${JSON.stringify(content)}`);
  }

  section("tools: tool_choice required and named, plain and streamed; a follow-up with the result");
  const weather = {
    type: "object",
    properties: { location: { type: "string", maxLength: 40 }, unit: { enum: ["celsius", "fahrenheit"] } },
    required: ["location", "unit"], additionalProperties: false,
  };
  const search = {
    type: "object", properties: { query: { type: "string", maxLength: 30 }, limit: { type: "integer", minimum: 1, maximum: 10 } },
    required: ["query"], additionalProperties: false,
  };
  const tools = [
    { type: "function", function: { name: "get_weather", description: "Weather at a place", parameters: weather } },
    { type: "function", function: { name: "search", description: "Search the web", parameters: search } },
  ];
  const schemas = { get_weather: weather, search };
  for (const [i, tool_choice] of ["required", { type: "function", function: { name: "search" } }].entries()) {
    const r = await client.chat.completions.create({
      model: "ds", messages: [{ role: "user", content: "What is the weather in Paris?" }], tools, tool_choice,
      temperature: 1, seed: 3 + i, max_tokens: 200, reasoning_budget: 10,
    });
    const ch = r.choices[0];
    const calls = ch.message.tool_calls ?? [];
    check(ch.finish_reason === "tool_calls" && calls.length >= 1, `tool_choice ${JSON.stringify(tool_choice)}: a call`, JSON.stringify(ch.message).slice(0, 400));
    for (const c of calls) {
      check(c.type === "function" && /^call_[A-Za-z0-9]{24}$/.test(c.id), "call id and type", JSON.stringify(c));
      check(schemas[c.function.name] !== undefined, "a known function", c.function.name);
      if (typeof tool_choice === "object") check(c.function.name === "search", "the named function", c.function.name);
      const why = schemas[c.function.name] ? valid(schemas[c.function.name], c.function.arguments) : "unknown";
      check(why === "", `${c.function.name} arguments validate`, `${why}: ${c.function.arguments}`);
    }
    if (i === 0 && calls.length) {
      const follow = await client.chat.completions.create({
        model: "ds", temperature: 0, max_tokens: 16, tools,
        messages: [
          { role: "user", content: "What is the weather in Paris?" },
          { role: "assistant", content: null, tool_calls: calls },
          ...calls.map((c) => ({ role: "tool", tool_call_id: c.id, content: JSON.stringify({ temperature: 21, sky: "clear" }) })),
        ],
      });
      check(follow.choices.length === 1 && follow.usage.prompt_tokens > r.usage.prompt_tokens, "the follow-up with the tool's result renders and runs",
            JSON.stringify(follow.usage));
    }
  }
  const stream = await client.chat.completions.create({
    model: "ds", messages: [{ role: "user", content: "Weather in Oslo?" }], tools, tool_choice: "required",
    temperature: 1, seed: 11, max_tokens: 200, reasoning_budget: 6, stream: true,
  });
  const parts = {};
  let finish = null;
  for await (const c of stream) {
    const d = c.choices[0]?.delta;
    for (const t of d?.tool_calls ?? []) {
      parts[t.index] ??= { id: t.id, name: t.function?.name, args: "" };
      if (t.id) check(parts[t.index].id === t.id, "a call's id comes once");
      parts[t.index].args += t.function?.arguments ?? "";
    }
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  check(finish === "tool_calls" && Object.keys(parts).length >= 1, "streamed: delta.tool_calls and finish_reason tool_calls", JSON.stringify(parts));
  for (const p of Object.values(parts)) {
    const why = schemas[p.name] ? valid(schemas[p.name], p.args) : "unknown function " + p.name;
    check(why === "", "streamed arguments joined validate", `${why}: ${p.args}`);
  }

  section("errors");
  const e1 = await postJson("/v1/chat/completions", { model: "qwen2", messages, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "integer", multipleOf: 3 } } } });
  check(e1.status === 400 && e1.json?.error?.param === "response_format.json_schema.schema" && /multipleOf/.test(e1.json.error.message),
        "unsupported schema keyword: 400 naming it", e1.text);
  const e2 = await postJson("/v1/chat/completions", { model: "qwen2", messages, grammar: "root ::= \"a\" b" });
  check(e2.status === 400 && e2.json?.error?.param === "grammar" && /undefined rule 'b'/.test(e2.json.error.message), "bad grammar: 400", e2.text);
  const e3 = await postJson("/v1/chat/completions", { model: "ds", messages, tools, tool_choice: "required", response_format: { type: "json_object" } });
  check(e3.status === 400 && e3.json?.error?.param === "tool_choice", "required tool call with a response_format: 400", e3.text);
  const e4 = await postJson("/v1/chat/completions", { model: "ds", messages, tools, tool_choice: { type: "function", function: { name: "nope" } } });
  check(e4.status === 400 && /nope/.test(e4.json?.error?.message ?? ""), "an unknown named function: 400", e4.text);
  const e5 = await postJson("/v1/chat/completions", { model: "qwen2", messages, response_format: { type: "xml" } });
  check(e5.status === 400 && e5.json?.error?.param === "response_format.type", "unknown response_format type: 400", e5.text);
  const ok = await postJson("/v1/completions", { model: "qwen2", prompt: "x", max_tokens: 12, grammar: "root ::= [0-9]{3}" });
  check(ok.status === 200 && /^[0-9]{3}$/.test(ok.json?.choices?.[0]?.text ?? ""), "a grammar on /v1/completions", ok.text);
} finally {
  const res = await stopServer(srv);
  check(res.code === 0, "SIGTERM: exit 0");
}
rmSync(work, { recursive: true, force: true });
finish();
