#!/usr/bin/python3
"""How often the MTP head's guess is the main model's next-next greedy token, per task family.

Takes the checkpoint train_r1.py wrote (OUT/model.pt), the held-out tasks and a `dawn eval --results`
file of them (dawn's greedy replies, with their token ids). For every reply position t whose token t+2
is also in the reply, the MTP module reads the trunk's state at t and the embedding of token t+1, and
its argmax is compared with token t+2: that is the draft speculative decoding with the MTP head would
have accepted (one draft per step, depth 1). Reports the agreement per family.

Usage: mtp_agreement.py OUT/model.pt TASKS.jsonl RESULTS.jsonl
"""
import collections
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import r1_tasks as T  # noqa: E402
from train_deepseek import Config, Model  # noqa: E402
from train_r1 import R1Tokenizer  # noqa: E402


def main():
    ck_path, tasks_path, results_path = sys.argv[1:4]
    ck = torch.load(ck_path)
    c = Config(**ck["config"])
    model = Model(c)
    model.load_state_dict(ck["state"])
    model.eval()
    tok = R1Tokenizer([tuple(m) for m in ck["merges"]])
    tasks = [json.loads(l) for l in open(tasks_path, encoding="utf-8") if l.strip()]
    results = [json.loads(l) for l in open(results_path, encoding="utf-8") if l.strip()]
    by_line = {r["line"]: r for r in results}
    hit, total = collections.Counter(), collections.Counter()
    with torch.no_grad():
        for line, t in enumerate(tasks, 1):
            r = by_line.get(line)
            if r is None or "tokens" not in r:
                continue
            prompt = tok.encode(T.render_prompt(t["messages"]))
            reply = r["tokens"]
            seq = prompt + reply
            if len(seq) > c.ctx + 2 or len(reply) < 3:
                continue
            x = torch.tensor([seq])
            _, _, mtp_logits = model(x)  # [1, len-2, V]: position t guesses token t+2
            guess = mtp_logits[0].argmax(-1)
            first = len(prompt) - 1  # from the last prompt token on, t+1 and t+2 are the model's own
            for p in range(first, len(seq) - 2):
                total[t["family"]] += 1
                hit[t["family"]] += int(guess[p].item() == seq[p + 2])
    print(f"{'family':<14} {'drafts':>7} {'agree':>7}")
    for f in total:
        print(f"{f:<14} {total[f]:>7} {hit[f] / total[f]:>7.3f}")
    n, h = sum(total.values()), sum(hit.values())
    print(f"{'all':<14} {n:>7} {h / max(n, 1):>7.3f}")


if __name__ == "__main__":
    main()
