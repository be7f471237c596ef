// Probe of the Unicode versions Hugging Face tokenizers runs: its regex classes and its NFC normalizer.
// Usage: npm ci --prefix tests/tokenizer && npm ci --prefix tools/unicode && node tools/unicode/probe_hf.mjs
// The findings decide the data make_tables.mjs writes (see the comments there).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(root, "tests/tokenizer/package.json"));
const hf = require("tokenizers");
const version = require("tokenizers/package.json").version;
const set = async (v, prop) => new Set((await import(`@unicode/unicode-${v}/${prop}/code-points.mjs`)).default);

// Every code point but the surrogates, in one string; HF's offsets count code points.
const all = [];
for (let c = 0; c <= 0x10ffff; ++c) if (c < 0xd800 || c > 0xdfff) all.push(c);
const text = all.map((c) => String.fromCodePoint(c)).join("");

// The code points a regex matches as HF runs it: a Split pre-tokenizer that removes the matches,
// over a word-level model; what is left over are the code points it does not match.
async function matched(regex) {
  const tok = hf.Tokenizer.fromString(JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null, post_processor: null,
    decoder: null, pre_tokenizer: { type: "Split", pattern: { Regex: regex }, behavior: "Removed", invert: false },
    model: { type: "WordLevel", vocab: { "[UNK]": 0 }, unk_token: "[UNK]" },
  }));
  const left = new Uint8Array(all.length);
  for (const [a, b] of (await tok.encode(text, null, { addSpecialTokens: false })).getOffsets()) left.fill(1, a, b);
  return new Set(all.filter((_, i) => !left[i]));
}

const hex = (c) => "U+" + c.toString(16).toUpperCase();
const differ = (a, b) => [...a].filter((c) => !b.has(c)).length + [...b].filter((c) => !a.has(c)).length;
console.log(`tokenizers ${version}: regex classes (Oniguruma) against Unicode data`);
for (const [regex, prop] of [["\\p{L}", "General_Category/Letter"], ["\\p{M}", "General_Category/Mark"],
  ["\\p{N}", "General_Category/Number"], ["\\p{P}", "General_Category/Punctuation"],
  ["\\p{S}", "General_Category/Symbol"], ["\\s", "Binary_Property/White_Space"]]) {
  const got = await matched(regex);
  const row = [];
  for (const v of ["14.0.0", "16.0.0"]) row.push(`${differ(got, await set(v, prop))} code points off Unicode ${v}`);
  console.log(`  ${regex.padEnd(6)} ${String(got.size).padStart(6)} code points; ${row.join(", ")}`);
}

// NFC: HF's result against node's ICU (Unicode >= 16) run the way Unicode 9.0 data would run: text
// cut at each code point unassigned in 9.0, the stretches normalized alone, the cut points kept.
const unassigned9 = await set("9.0.0", "General_Category/Unassigned");
const unassigned16 = await set("16.0.0", "General_Category/Unassigned");
const marks = await set("16.0.0", "General_Category/Mark");
function nfcWith9(s) {
  let out = "", run = "";
  for (const ch of s) {
    if (unassigned9.has(ch.codePointAt(0))) {
      out += run.normalize("NFC") + ch;
      run = "";
    } else {
      run += ch;
    }
  }
  return out + run.normalize("NFC");
}
const cases = [];
for (const c of all) {
  if (unassigned16.has(c)) continue;
  const s = String.fromCodePoint(c);
  if (s.normalize("NFD") !== s || s.normalize("NFC") !== s) cases.push(s, s.normalize("NFD"));
}
// Each mark next to marks of classes 1, 7, 10, 129, 220, 230, 232 and 240, in both orders.
const others = [0x334, 0x93c, 0x5b0, 0xf71, 0x323, 0x301, 0x315, 0x345].map((c) => String.fromCodePoint(c));
for (const m of marks) for (const o of others) cases.push("a" + String.fromCodePoint(m) + o, "a" + o + String.fromCodePoint(m));
const nfc = hf.nfcNormalizer();
let offIcu = 0, off9 = 0;
const examples = [];
for (const s of cases) {
  const got = nfc.normalizeString(s);
  if (got !== s.normalize("NFC")) {
    ++offIcu;
    if (examples.length < 6) examples.push([...s].map((ch) => hex(ch.codePointAt(0))).join(" "));
  }
  if (got !== nfcWith9(s)) ++off9;
}
console.log(`tokenizers ${version}: NFC on ${cases.length} strings (every decomposable character of Unicode 16.0`);
console.log(`  composed and decomposed, every mark beside 8 others): ${offIcu} differ from NFC with node's ICU`);
console.log(`  (Unicode ${process.versions.unicode}), ${off9} from NFC with Unicode 9.0's repertoire. Differing from ICU:`);
for (const e of examples) console.log(`    ${e}`);
