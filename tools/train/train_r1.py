#!/usr/bin/python3
"""Trains dawn-r1-tiny: the DeepSeek-V3-architecture model of train_deepseek.py, taught DeepSeek-R1's chat
format — reasoning in <think>, tool calls, JSON answers — on the conversations of r1_tasks.py mixed with
Brown text (so it keeps its English).

Its vocabulary is a byte-level BPE trained on Brown and on sample conversations, with R1's chat and tool
tokens added (ids 0-14) and no merges between digits (each digit is one token, so column arithmetic is
learnable). Rows of 258 tokens are packed with whole conversations, the rest filled with Brown; only the
tokens the assistant writes carry loss, and Brown's (a quarter weight where it fills a row).

The second stage (train.sh) reasons differently before a tool call (--tool-think check: each listed tool
compared with the needed one) and sends e-mail to contacts by name (--email-to name): see r1_tasks.STYLE.

Writes OUT_DIR/{model-f32.gguf, model.pt, loss.tsv, loss.png, summary.txt, heldout-tasks.jsonl}.
Run via tools/train/train.sh r1 (installs the deps, converts to F16).
"""
import json
import math
import os
import random
import re
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import r1_tasks as T  # noqa: E402
from train_deepseek import B2U, Config, Model, Tokenizer, brown_documents, export, train_bpe, training_args  # noqa: E402

MIX = {"arith": 0.34, "convert": 0.12, "tool": 0.18, "notool": 0.12, "json": 0.12, "chat": 0.12}


class R1Tokenizer(Tokenizer):
    """Added tokens first (matched whole, before the pre-tokenizer), then bytes, then merges."""

    def __init__(self, merges):
        super().__init__(merges)
        self.tokens = list(T.ADDED) + [B2U[b] for b in range(256)] + [a + b for a, b in merges]
        self.id = {t: i for i, t in enumerate(self.tokens)}
        self.split = re.compile("(" + "|".join(re.escape(a) for a in T.ADDED) + ")")
        self.cache = {}

    def encode(self, text):
        out = []
        for part in self.split.split(text):
            if part in T.ADDED:
                out.append(self.id[part])
            elif part:
                out += super().encode(part)
        return out


def main():
    ap = training_args(__doc__, 1450)
    ap.add_argument("--brown-rows", type=float, default=0.1, help="share of rows that are Brown text only")
    ap.add_argument("--filler-weight", type=float, default=0.25,
                    help="loss weight of the Brown text that fills a row after its conversations")
    ap.add_argument("--init", help="start from this model.pt (its weights and vocabulary) instead of from scratch")
    ap.add_argument("--tool-think", choices=["plain", "list", "check"], default="plain",
                    help="how the reasoning before a tool call reads (r1_tasks.STYLE)")
    ap.add_argument("--email-to", choices=["address", "name"], default="address",
                    help="what send_email's `to` takes: an address or a contact's name (r1_tasks.STYLE)")
    ap.add_argument("--mix", help="family shares, e.g. arith=0.36,tool=0.22 (the rest keep theirs)")
    args = ap.parse_args()
    T.STYLE["tools"] = args.tool_think
    T.STYLE["email"] = args.email_to
    for item in (args.mix.split(",") if args.mix else []):
        k, v = item.split("=")
        MIX[k] = float(v)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    docs = list(brown_documents(args.corpus))
    brown = [t for i, (_, t) in enumerate(docs) if i % 20 != 7]  # the Brown model's held-out files stay out
    gens = {f: T.examples(f, random.Random(args.seed * 1000 + i), "train") for i, f in enumerate(T.FAMILIES)}
    sample = []
    for f in T.FAMILIES:
        for _ in range(300):
            _, msgs, comp, _, _ = next(gens[f])
            sample.append(T.render_prompt(msgs) + comp)
    no_added = re.compile("|".join(re.escape(a) for a in T.ADDED))
    bpe_texts = brown + [no_added.sub(" ", s) for s in sample] * 3
    init = torch.load(args.init) if args.init else None
    if init:
        merges = [tuple(m) for m in init["merges"]]
    else:
        merges = train_bpe(bpe_texts, args.vocab - 256 - len(T.ADDED), keep=lambda p: not any(ch.isdigit() for ch in p))
    tok = R1Tokenizer(merges)
    print(f"bpe: {len(tok.tokens)} tokens in {time.time() - t0:.0f}s", flush=True)

    brown_ids = []
    for t in brown:
        brown_ids.append(0)
        brown_ids += tok.encode(t)
    brown_ids = torch.tensor(brown_ids, dtype=torch.long)
    print(f"brown tokens {len(brown_ids)} ({time.time() - t0:.0f}s)", flush=True)

    c = Config(vocab=len(tok.tokens))
    L = c.ctx + 2

    def encode_example(msgs, comp):
        p, q = tok.encode(T.render_prompt(msgs)), tok.encode(comp)
        return p + q, [0.0] * len(p) + [1.0] * len(q)

    fams, probs = list(MIX), list(MIX.values())
    pending = []  # the second stage of a tool example waits for the next pick

    def next_example():
        if pending:
            return pending.pop()
        f = rng.choices(fams, probs)[0]
        _, msgs, comp, _, _ = next(gens[f])
        if f == "tool":
            pending.append(next(gens[f])[1:3])
        return msgs, comp

    def row():
        ids, w = [], []
        if rng.random() >= args.brown_rows:
            while True:
                msgs, comp = next_example()
                x, y = encode_example(msgs, comp)
                if len(ids) + len(x) > L:
                    if not ids:
                        continue  # a conversation longer than the context: drawn again
                    pending.append((msgs, comp))
                    break
                ids += x
                w += y
        if len(ids) < L:  # the rest is Brown, from a document start
            s = rng.randrange(len(brown_ids) - L)
            chunk = [0] + brown_ids[s:s + L - len(ids) - 1].tolist()
            w += [1.0 if not ids else args.filler_weight] * len(chunk)
            ids += chunk
        return ids, w

    def batch(n):
        rows = [row() for _ in range(n)]
        return torch.tensor([r[0] for r in rows]), torch.tensor([r[1] for r in rows])

    # held-out loss per family: fixed rows of held-out conversations, loss on the assistant's tokens only
    held = {}
    for i, f in enumerate(T.FAMILIES + ["tool_answer"]):
        g = T.examples("tool" if f == "tool_answer" else f, random.Random(777 + i), "held")
        xs = []
        while len(xs) < 24:
            fam, msgs, comp, _, _ = next(g)
            if fam != f:
                continue
            x, y = encode_example(msgs, comp)
            if len(x) <= L:
                pad = L - len(x)
                xs.append((x + [1] * pad, y + [0.0] * pad))
        held[f] = (torch.tensor([a for a, _ in xs]), torch.tensor([b for _, b in xs]))
    tasks = T.eval_tasks(100, 2026)
    with open(os.path.join(args.out, "heldout-tasks.jsonl"), "w") as fo:
        for t in tasks:
            fo.write(json.dumps(t, ensure_ascii=False) + "\n")

    model = Model(c)
    if init:
        model.load_state_dict(init["state"])
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters {n_params / 1e6:.2f}M", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    log = open(os.path.join(args.out, "loss.tsv"), "w")
    names = list(held)
    log.write("step\tminutes\tloss\tmtp_loss\t" + "\t".join(names) + "\n")
    gamma, alpha, mtp_weight = 1e-3, 1e-4, 0.3

    def evaluate():
        model.eval()
        out = {}
        with torch.no_grad():
            for f, (x, w) in held.items():
                out[f] = model(x, w)[0].item()
        model.train()
        return out

    steps = args.steps
    for step in range(steps):
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for gr in opt.param_groups:
            gr["lr"] = lr
        x, w = batch(args.batch)
        loss, mtp_loss, _ = model(x, w)
        bal = sum(m.balance_loss for m in model.moes())
        (loss + mtp_weight * mtp_loss + alpha * bal).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():  # auxiliary-loss-free balancing: push under-loaded experts up, over-loaded down
            for m in model.moes():
                m.bias += gamma * torch.sign(m.load.mean() - m.load)
                m.load.zero_()
        minutes = (time.time() - t0) / 60
        if step % 50 == 0 or step == steps - 1:
            h = evaluate()
            print(f"step {step:5d}  {minutes:5.1f} min  lr {lr:.2e}  loss {loss.item():.3f}  mtp {mtp_loss.item():.3f}  "
                  + "  ".join(f"{f} {v:.3f}" for f, v in h.items()), flush=True)
            log.write(f"{step}\t{minutes:.2f}\t{loss.item():.4f}\t{mtp_loss.item():.4f}\t"
                      + "\t".join(f"{h[f]:.4f}" for f in names) + "\n")
            log.flush()
        if minutes > args.minutes:
            print(f"time budget reached at step {step}", flush=True)
            break

    h = evaluate()
    summary = (f"held-out loss per family (assistant tokens): " + ", ".join(f"{f} {v:.4f}" for f, v in h.items())
               + f"; {n_params / 1e6:.2f}M params, {step + 1} steps, {(time.time() - t0) / 60:.1f} min")
    print(summary, flush=True)
    open(os.path.join(args.out, "summary.txt"), "w").write(summary + "\n")
    torch.save({"config": c.__dict__, "state": model.state_dict(), "tokens": tok.tokens, "merges": merges},
               os.path.join(args.out, "model.pt"))
    token_type = [3, 3] + [4] * (len(T.ADDED) - 2) + [1] * (len(tok.tokens) - len(T.ADDED))
    export(model, tok, os.path.join(args.out, "model-f32.gguf"), name="dawn-r1-tiny",
           license="MIT (weights trained by dawn on generated conversations and the Brown corpus)",
           token_type=token_type, chat_template=T.TEMPLATE)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        rows = [l.split("\t") for l in open(os.path.join(args.out, "loss.tsv")).read().splitlines()]
        head, rows = rows[0], rows[1:]
        s = [int(r[0]) for r in rows]
        plt.figure(figsize=(8, 4.5))
        plt.plot(s, [float(r[2]) for r in rows], label="train loss (all)", color="black")
        for j in range(4, len(head)):
            plt.plot(s, [float(r[j]) for r in rows], label=f"held-out {head[j]}")
        plt.yscale("log")
        plt.xlabel("step")
        plt.ylabel("cross-entropy (nats)")
        plt.legend(fontsize=8)
        plt.grid(alpha=0.3)
        plt.savefig(os.path.join(args.out, "loss.png"), dpi=100, bbox_inches="tight")
    except ImportError:
        print("matplotlib missing: no loss.png")


if __name__ == "__main__":
    main()
