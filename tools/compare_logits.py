#!/usr/bin/env python3
"""Compare two logits JSON files (oracle format): mean KL(a||b), max KL, argmax agreement."""
import json, math, sys

def load(p):
    with open(p) as f:
        return json.load(f)

def logsoftmax(row):
    m = max(row)
    s = math.log(sum(math.exp(x - m) for x in row)) + m
    return [x - s for x in row]

a, b = load(sys.argv[1]), load(sys.argv[2])
kls, agree = [], 0
for pa, pb in zip(a["positions"], b["positions"]):
    la, lb = logsoftmax(pa["logits"]), logsoftmax(pb["logits"])
    kls.append(sum(math.exp(x) * (x - y) for x, y in zip(la, lb)))
    agree += pa["argmax"] == pb["argmax"]
n = len(kls)
print(f"positions {n} meanKL {sum(kls)/n:.3e} maxKL {max(kls):.3e} argmax {agree}/{n}")
