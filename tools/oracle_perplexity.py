#!/usr/bin/env python3
"""llama.cpp's perplexity of MODEL on TEXT_FILE, computed from the oracle's logits exactly the way
llama-perplexity scores: tokens (with BOS when the vocab adds one) cut into chunks of CTX, BOS in place
of each chunk's first token, only positions CTX/2 .. CTX-2 scored. Prints one line: PPL and counts.
Usage: tools/oracle_perplexity.py MODEL TEXT_FILE CTX [MAX_CHUNKS]   (needs node and the oracle)"""
import base64, json, math, os, struct, subprocess, sys, tempfile

model, text_file, ctx = sys.argv[1], sys.argv[2], int(sys.argv[3])
max_chunks = int(sys.argv[4]) if len(sys.argv) > 4 else 0
here = os.path.dirname(os.path.abspath(__file__))
oracle = os.environ.get("LLAMA_ORACLE", os.path.join(here, "..", "..", "shared", "oracle", "llama-oracle.mjs"))


def run(*args):
    return json.loads(subprocess.run(["node", oracle, *args], check=True, capture_output=True, text=True).stdout)


info = run("info", model)
tokens = run("tokenize", model, "--text-file", text_file, "--add-special")["tokens"]
special = info["special_tokens"]
bos = special["bos"] if special.get("add_bos") else None
n_chunks = len(tokens) // ctx
if max_chunks:
    n_chunks = min(n_chunks, max_chunks)
with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as req:
    for c in range(n_chunks):
        chunk = tokens[c * ctx:(c + 1) * ctx]
        if bos is not None:
            chunk = [bos] + chunk[1:]
        req.write(json.dumps({"id": c, "cmd": "logits", "tokens": chunk, "all_positions": True,
                              "encoding": "f32-base64"}) + "\n")
out = subprocess.run(["node", oracle, "batch", model, "--requests", req.name, "--ctx", str(ctx + 256)], check=True,
                     capture_output=True, text=True).stdout
os.unlink(req.name)
nll, count = 0.0, 0
for line in out.splitlines():
    o = json.loads(line)
    c = o["id"]
    blob = o["logits_f32_base64"]
    n, v = blob["shape"]
    raw = base64.b64decode(blob["data"])
    for j in range(ctx // 2, ctx - 1):
        row = struct.unpack_from("<%df" % v, raw, 4 * v * j)
        m = max(row)
        lse = m + math.log(sum(math.exp(x - m) for x in row))
        nll -= row[tokens[c * ctx + j + 1]] - lse
        count += 1
print("PPL = %.4f  (%d tokens scored in %d chunks of %d; %d tokens in the text)" %
      (math.exp(nll / count), count, n_chunks, ctx, len(tokens)))
