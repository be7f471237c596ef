#!/usr/bin/env python3
"""The shipped reasoning model (models/dawn-r1-tiny.gguf) on held-out tasks, against bounds and llama.cpp.

Usage: check.py DAWN MODEL TASKS LLAMA_REPLIES PER_FAMILY BOUNDS MIN_IDENTICAL
Runs `dawn eval MODEL TASKS --per-family PER_FAMILY --require BOUNDS` (greedy; fails below a bound),
then compares dawn's replies with llama.cpp's greedy replies to the same prompts, recorded by
tools/eval_oracle.py into LLAMA_REPLIES (first line: the sha256 of the model file they came from).
At least MIN_IDENTICAL of the replies must be the same text; the rest may part where two logits tie
to within float rounding, after which greedy decoding follows a different path.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile


def main():
    dawn, model, tasks, llama, per_family, bounds, min_identical = sys.argv[1:8]
    head, *replies = [json.loads(l) for l in open(llama, encoding="utf-8") if l.strip()]
    sha = hashlib.sha256(open(model, "rb").read()).hexdigest()
    if head.get("model_sha256") != sha:
        print(f"{llama} holds llama.cpp's replies for model sha256 {head.get('model_sha256')}, but {model} is {sha}: "
              f"rerun tools/eval_oracle.py (README, 'The reasoning model')")
        return 1
    with tempfile.TemporaryDirectory(prefix="dawn-r1-") as work:
        results = os.path.join(work, "results.jsonl")
        r = subprocess.run([dawn, "eval", model, tasks, "--per-family", per_family, "--require", bounds,
                            "--results", results, "-t", "2"])
        mine = [json.loads(l) for l in open(results, encoding="utf-8")] if os.path.exists(results) else []
    if r.returncode != 0:
        return 1
    by_line = {r["line"]: r for r in replies}
    missing = [a["line"] for a in mine if a["line"] not in by_line]
    if missing:
        print(f"{llama}: no llama.cpp reply for task lines {missing[:10]}")
        return 1
    pairs = [(a, by_line[a["line"]]) for a in mine]
    same = sum(a["text"] == b["text"] for a, b in pairs)
    print(f"dawn and llama.cpp wrote the same reply to {same} of {len(mine)} held-out tasks")
    for a, b in pairs:
        if a["text"] != b["text"]:
            print(f"  line {a['line']} ({a['family']}): dawn {a['text'][-80:]!r}\n    llama.cpp {b['text'][-80:]!r}")
    if same < float(min_identical) * len(mine):
        print(f"FAILED: fewer than {min_identical} of the replies are identical")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
