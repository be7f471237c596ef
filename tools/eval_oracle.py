#!/usr/bin/env python3
"""Scores the same held-out chat tasks with llama.cpp (the oracle) as `dawn eval` does with dawn.

The prompts are rendered and tokenized by dawn (`dawn template`, `dawn tokenize`; the oracle's own
tokenization of every prompt is checked against dawn's), generated greedily by llama.cpp until the
end of generation, detokenized, and scored by `dawn eval --completions`, so both engines go through
one scorer. With --dawn-results (a `dawn eval --results` file of the same tasks) it also reports how
many replies are identical, token for token of text.

Usage: tools/eval_oracle.py MODEL TASKS.jsonl [--per-family N] [--dawn-results R.jsonl]
Needs node and the oracle (LLAMA_ORACLE, default ../shared/oracle/llama-oracle.mjs; its README).
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])}...: exit {r.returncode}\n{r.stderr[-2000:]}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("tasks")
    ap.add_argument("--per-family", type=int, default=0)
    ap.add_argument("--dawn", default=os.path.join(ROOT, "build", "dawn"))
    ap.add_argument("--oracle", default=os.environ.get("LLAMA_ORACLE",
                                                       os.path.join(ROOT, "..", "shared", "oracle", "llama-oracle.mjs")))
    ap.add_argument("--n-predict", type=int, default=384)
    ap.add_argument("--dawn-results")
    ap.add_argument("--out", help="write llama.cpp's replies here (JSON lines {text})")
    ap.add_argument("--record", help="write the replies for tests/r1/check.py: a first line with the model's "
                                     "sha256, then one {family, text} per task")
    args = ap.parse_args()

    tasks, lines, seen = [], [], collections.Counter()
    for n, line in enumerate(open(args.tasks, encoding="utf-8"), 1):
        if not line.strip():
            continue
        t = json.loads(line)
        seen[t["family"]] += 1
        if args.per_family and seen[t["family"]] > args.per_family:
            continue
        tasks.append(t)
        lines.append(n)
    tmp = tempfile.mkdtemp(prefix="dawn-eval-oracle-")
    p = lambda n: os.path.join(tmp, n)
    with open(p("msgs.jsonl"), "w") as f:
        for i, t in enumerate(tasks):
            f.write(json.dumps({"id": i, "messages": t["messages"], "tools": t.get("tools"),
                                "add_generation_prompt": True}, ensure_ascii=False) + "\n")
    rendered = [json.loads(l) for l in run([args.dawn, "template", args.model, "--jsonl", p("msgs.jsonl")]).splitlines()]
    with open(p("texts.jsonl"), "w") as f:
        for r in rendered:
            f.write(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n")
    ids = [json.loads(l)["ids"] for l in run([args.dawn, "tokenize", args.model, "--jsonl", p("texts.jsonl")]).splitlines()]

    with open(p("reqs.jsonl"), "w") as f:
        f.write(json.dumps({"id": "info", "cmd": "info"}) + "\n")
        for i, (r, toks) in enumerate(zip(rendered, ids)):
            f.write(json.dumps({"id": f"t{i}", "cmd": "tokenize", "text": r["text"]}, ensure_ascii=False) + "\n")
            f.write(json.dumps({"id": f"g{i}", "cmd": "generate", "tokens": toks, "n": args.n_predict,
                                "stop_at_eog": True}) + "\n")
    out = run(["node", args.oracle, "batch", args.model, "--requests", p("reqs.jsonl"), "--ctx", "1024"])
    got = {}
    for l in out.splitlines():
        if l.strip():
            j = json.loads(l)
            got[j.get("id")] = j
    tok_mismatch = sum(1 for i in range(len(tasks)) if got[f"t{i}"].get("tokens") != ids[i])
    # The end-of-generation token that stopped a reply is not part of its text (dawn eval drops it too).
    special = got["info"].get("special_tokens", {})
    eog = {special[k] for k in ("eos", "eot") if isinstance(special.get(k), int)}
    with open(p("gen.jsonl"), "w") as f:
        for i in range(len(tasks)):
            toks = got[f"g{i}"]["tokens"]
            if toks and toks[-1] in eog:
                toks = toks[:-1]
            f.write(json.dumps({"id": i, "ids": toks}) + "\n")
    texts = [json.loads(l)["text"] for l in run([args.dawn, "detokenize", args.model, "--jsonl", p("gen.jsonl")]).splitlines()]
    with open(args.out or p("llama.jsonl"), "w") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    if args.record:
        import hashlib
        with open(args.record, "w") as f:
            f.write(json.dumps({"model_sha256": hashlib.sha256(open(args.model, "rb").read()).hexdigest(),
                                "engine": "llama.cpp (tools/eval_oracle.py, greedy)"}) + "\n")
            for n, t, x in zip(lines, tasks, texts):
                f.write(json.dumps({"line": n, "family": t["family"], "text": x}, ensure_ascii=False) + "\n")
    with open(p("tasks.jsonl"), "w") as f:
        for t in tasks:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    print(f"llama.cpp ({len(tasks)} tasks; its tokenization of the prompts differs from dawn's in {tok_mismatch}):")
    sys.stdout.flush()
    r = subprocess.run([args.dawn, "eval", args.model, p("tasks.jsonl"), "--completions", args.out or p("llama.jsonl")])
    if args.dawn_results:
        mine = [json.loads(l)["text"] for l in open(args.dawn_results, encoding="utf-8") if l.strip()]
        if len(mine) != len(texts):
            sys.exit(f"{args.dawn_results}: {len(mine)} replies for {len(texts)} tasks")
        same = collections.Counter()
        for t, a, b in zip(tasks, mine, texts):
            same[t["family"]] += a == b
        print("identical replies, dawn vs llama.cpp: " + ", ".join(
            f"{fam} {same[fam]}/{n}" for fam, n in collections.Counter(t["family"] for t in tasks).items()))
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
