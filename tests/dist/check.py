#!/usr/bin/env python3
"""dawn under mpirun on loopback: --split layers and --split experts give the single process's
answers, and faults end the job quickly with one clear line.

Usage: check.py DAWN MPIRUN WORKDIR

- Greedy 64-token `dawn run` under --split layers on 2 and 3 ranks equals the single process's,
  for the F32 synthetic models of every architecture (llama-family presets have 2 layers, so their
  3-rank runs use a 3-layer model of the same family), mapped and copied; under --split experts on
  2 and 4 ranks for every deepseek2 variant (a dense model is refused).
- A quantized file's perplexity is the same split (either way) and whole.
- mpirun -np 1 is the plain single process; --layers-per-rank is honoured and checked.
- dawn serve under mpirun (both splits) answers greedy chat requests, four at once (lanes over the
  pipeline), as one process answers each alone.
- Faults: another model on one rank, a truncated file on one rank, a bad command line on one rank,
  a rank killed mid-generation (SIGKILL), a rank stopped mid-generation (SIGSTOP, with
  --dist-timeout 3): every case ends within its bound, non-zero, with a line naming the rank.
"""
import os
import re
import signal
import subprocess
import sys
import time

DAWN, MPIRUN, WORK = sys.argv[1:4]
# TCP over loopback, as between machines (shared memory would hide the network path).
MPI = [MPIRUN, "--oversubscribe", "--bind-to", "none", "--mca", "pml", "ob1", "--mca", "btl", "self,tcp",
       "--mca", "btl_tcp_if_include", "lo"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_plm_rsh_agent="")
# Under the sanitizers: Open MPI keeps its start-up allocations to exit by design; dawn's own leaks
# are checked by every other test.
if "ASAN_OPTIONS" in ENV:
    ENV["ASAN_OPTIONS"] += ":detect_leaks=0"
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(cmd, timeout=120):
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, env=ENV, timeout=timeout)
    return r, time.monotonic() - t0


def synth(name, *args):
    path = os.path.join(WORK, name + ".gguf")
    if not os.path.exists(path):
        subprocess.run([DAWN, "synth", *args, "-o", path], check=True, capture_output=True)
    return path


def gen(model, ranks=None, extra=(), split="layers"):
    cmd = [DAWN, "run", model, "-p", "The quick brown fox", "-n", "64", "--temp", "0", "-t", "1", *extra]
    if ranks is not None:
        cmd = MPI + ["-np", str(ranks)] + cmd + ["--split", split]
    r, _ = run(cmd)
    return r


def tail(r):
    return r.stderr.decode(errors="replace").strip().splitlines()[-3:]


def same_answers():
    models = {p: synth(p, "--preset", p) for p in
              ["tiny-llama", "tiny-llama3", "tiny-qwen2", "tiny-qwen3", "tiny-deepseek-v3", "tiny-deepseek-v2-lite",
               "tiny-deepseek-legacy"]}
    for arch in ["llama", "qwen2", "qwen3"]:
        models[arch + "-3-layers"] = synth(arch + "-3-layers", "--arch", arch, "--layers", "3")
    for name, path in models.items():
        want = gen(path)
        check(want.returncode == 0 and len(want.stdout) > 40, f"{name}: single process generates")
        for ranks in [2, 3]:
            if ranks == 3 and name in ("tiny-llama", "tiny-llama3", "tiny-qwen2", "tiny-qwen3"):
                continue  # two layers: see the 3-layer models
            load = "copy" if ranks == 2 else "map"
            got = gen(path, ranks, ["--load", load])
            check(got.returncode == 0 and got.stdout == want.stdout,
                  f"{name}: --split layers on {ranks} ranks ({load}) gives the same 64 tokens" +
                  ("" if got.returncode == 0 else f" (exit {got.returncode}: {tail(got)})"))
        if "deepseek" not in name:
            continue
        for ranks, load in [(2, "map"), (4, "copy")]:
            got = gen(path, ranks, ["--load", load], split="experts")
            check(got.returncode == 0 and got.stdout == want.stdout,
                  f"{name}: --split experts on {ranks} ranks ({load}) gives the same 64 tokens" +
                  ("" if got.returncode == 0 else f" (exit {got.returncode}: {tail(got)})"))
    r = gen(models["tiny-qwen2"], 2, split="experts")
    check(r.returncode != 0 and b"has no routed experts" in r.stderr, "--split experts on a dense model is refused")


def same_logits():
    q = synth("v3-q4_k_m", "--preset", "tiny-deepseek-v3", "--dtype", "q4_k")
    text = os.path.join(WORK, "text.txt")
    with open(text, "w") as f:
        f.write(" ".join(f"the {w} sat on the mat number {i}." for i, w in enumerate(["cat", "dog", "fox"] * 30)))
    cmd = [DAWN, "perplexity", q, text, "-c", "128", "-t", "1"]
    want, _ = run(cmd)
    num = lambda r: re.findall(rb"[0-9]+\.[0-9]+", r.stdout)
    for split in ["layers", "experts"]:
        got, _ = run(MPI + ["-np", "2"] + cmd + ["--split", split])
        check(want.returncode == 0 and got.returncode == 0 and num(want) and num(got) == num(want),
              f"q4_k: perplexity with --split {split} on 2 ranks equals the single process "
              f"({num(got)[-1:]} vs {num(want)[-1:]})")
        # Q8_0 rows on the wire: close (the rounding of one more activation), and every rank in step.
        got, _ = run(MPI + ["-np", "2"] + cmd + ["--split", split, "--wire", "q8_0"])
        w, g = (float(num(x)[-1]) if x.returncode == 0 and num(x) else 0.0 for x in (want, got))
        check(w > 0 and abs(g - w) < 0.02 * w, f"q4_k: perplexity with --split {split} --wire q8_0 within 2 % of the "
                                               f"single process ({g} vs {w})")
    import json
    sent = {}
    for wire in ["f32", "q8_0"]:
        r, _ = run(MPI + ["-np", "2", DAWN, "bench", q, "-p", "0", "-n", "8", "-r", "1", "-t", "1", "--json",
                          "--split", "experts", "--wire", wire])
        try:
            sent[wire] = json.loads(r.stdout.decode().splitlines()[0])["ranks"]["per_rank"][1]["bytes_sent_per_token"]
        except (ValueError, IndexError, KeyError):
            sent[wire] = 0
    check(sent["q8_0"] > 0 and sent["f32"] > 3.5 * sent["q8_0"],
          f"--wire q8_0 sends 34 bytes per 32 values: {sent['q8_0']:.0f} bytes a token vs f32's {sent['f32']:.0f}")


def single_rank_and_options():
    m = synth("tiny-deepseek-v3", "--preset", "tiny-deepseek-v3")
    want = gen(m)
    r, _ = run(MPI + ["-np", "1", DAWN, "run", m, "-p", "The quick brown fox", "-n", "64", "--temp", "0", "-t", "1"])
    check(r.returncode == 0 and r.stdout == want.stdout and b"--split" not in r.stderr,
          "mpirun -np 1: the plain single process")
    r = gen(m, 2, ["--layers-per-rank", "3,1"])
    check(r.returncode == 0 and r.stdout == want.stdout and b"layers 0-2" in r.stderr and b"layers 3-3" in r.stderr,
          "--layers-per-rank 3,1: rank 0 runs layers 0-2, rank 1 layer 3, same tokens")
    r = gen(m, 2, ["--layers-by-memory"])
    check(r.returncode == 0 and r.stdout == want.stdout and b"available)" in r.stderr,
          "--layers-by-memory: shares by each rank's available memory, same tokens")
    r = gen(m, 2, ["--layers-per-rank", "2,1"])
    check(r.returncode != 0 and b"add up to 3 but" in r.stderr, "--layers-per-rank that misses a layer is refused")
    import json
    r, _ = run(MPI + ["-np", "2", DAWN, "bench", m, "-p", "16", "-n", "16", "-r", "1", "-t", "1", "--json", "--split",
                      "experts"])
    try:
        ranks = json.loads(r.stdout.decode().splitlines()[0])["ranks"]
        ok = ranks["split"] == "experts" and [x["rank"] for x in ranks["per_rank"]] == [0, 1] and \
            all(x["bytes_sent_per_token"] > 0 and x["peak_rss_bytes"] > 0 for x in ranks["per_rank"])
    except (ValueError, KeyError, IndexError):
        ok = False
    check(r.returncode == 0 and ok, "dawn bench --json under a split: every rank's account, valid JSON")
    r, _ = run(MPI + ["-np", "2", DAWN, "run", m, "-p", "x", "-n", "4"])
    check(r.returncode != 0 and b"no --split" in r.stderr, "2 ranks without --split are refused")


def faults():
    m = synth("tiny-deepseek-v3", "--preset", "tiny-deepseek-v3")
    other = synth("tiny-deepseek-v3-seed2", "--preset", "tiny-deepseek-v3", "--seed", "2")
    trunc = os.path.join(WORK, "truncated.gguf")
    with open(m, "rb") as f, open(trunc, "wb") as g:
        g.write(f.read(300000))
    base = [DAWN, "run", "-p", "hi", "-n", "8", "-t", "1", "--split", "layers"]

    def mpmd(second):
        r, secs = run(MPI + ["-np", "1", base[0], base[1], m, *base[2:], ":", "-np", "1", base[0], base[1], *second,
                             *base[2:]], timeout=60)
        return r, secs

    r, secs = mpmd([other])
    check(r.returncode != 0 and secs < 30 and re.search(rb"rank 1 \([^)]*\) opened a different model", r.stderr),
          f"another model on rank 1: refused in {secs:.1f} s, naming rank 1")
    r, secs = mpmd([trunc])
    check(r.returncode != 0 and secs < 30 and re.search(rb"rank 1 \([^)]*\): .*truncated.gguf: ", r.stderr),
          f"a truncated file on rank 1: refused in {secs:.1f} s, naming rank 1 and the file")
    r, secs = mpmd([os.path.join(WORK, "missing.gguf")])
    check(r.returncode != 0 and secs < 30 and b"missing.gguf" in r.stderr,
          f"a missing file on rank 1 (its command line is refused): the job ends in {secs:.1f} s")

    # Mid-generation: bench's decode runs long enough to be interrupted (it does not stop at end-of-text).
    for split, sig, name, bound in [("layers", signal.SIGKILL, "killed", 30), ("layers", signal.SIGSTOP, "stopped", 30),
                                    ("experts", signal.SIGKILL, "killed", 30), ("experts", signal.SIGSTOP, "stopped", 30)]:
        long_run = MPI + ["-np", "3", DAWN, "bench", m, "-p", "16", "-n", "100000", "-r", "1", "-t", "1", "--split",
                          split, "--dist-timeout", "3"]
        p = subprocess.Popen(long_run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        victim, deadline = None, time.monotonic() + 30
        while victim is None and time.monotonic() < deadline:
            time.sleep(0.5)
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
                    comm = open(f"/proc/{pid}/comm", "rb").read().strip()
                except OSError:
                    continue
                if comm == b"dawn" and b"OMPI_COMM_WORLD_RANK=1" in env and is_descendant(int(pid), p.pid):
                    victim = int(pid)
        time.sleep(1.0)  # well into the decode
        t0 = time.monotonic()
        if victim:
            os.kill(victim, sig)
        try:
            out, err = p.communicate(timeout=bound + 15)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        secs = time.monotonic() - t0
        if sig == signal.SIGSTOP and victim:
            try:
                os.kill(victim, signal.SIGKILL)
            except OSError:
                pass
        lines = [l for l in err.decode(errors="replace").splitlines() if l.startswith("dawn")]
        named = any(re.search(r"rank 1\b", l) for l in lines) or b"process rank 1" in err
        check(victim is not None and p.returncode != 0 and secs < bound and named,
              f"--split {split}: rank 1 {name} mid-generation: the job ended in {secs:.1f} s (bound {bound}), exit {p.returncode}: " +
              " | ".join(lines[-2:]))


def is_descendant(pid, ancestor):
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int(open(f"/proc/{pid}/stat", "rb").read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


def free_port():
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


QUESTIONS = ["What is 12 + 30?", "What is 250 + 17?", "Convert 3 km to m.", "What is 81 - 19?"]


def serve_replies(cmd, model_name, port, questions):
    """Starts dawn serve (cmd), asks the greedy chat questions at once, stops it; (replies, seconds to stop)."""
    import json
    import threading
    import urllib.request
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)

    def ask(q):
        body = json.dumps({"model": model_name, "messages": [{"role": "user", "content": q}],
                           "temperature": 0, "max_tokens": 120}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body,
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            reply = json.load(r)
            msg = reply["choices"][0]["message"]
            msg["cached"] = reply["usage"].get("prompt_tokens_details", {}).get("cached_tokens", 0)
            return msg

    deadline = time.monotonic() + 60
    first = None
    while first is None and time.monotonic() < deadline and p.poll() is None:
        try:
            first = ask(questions[0])
        except OSError:
            time.sleep(0.3)
    replies = [first] + [None] * (len(questions) - 1)
    if first is not None and len(questions) > 1:
        # The rest at once: continuous batches (over --split layers, one lane per stage).
        def run(i):
            try:
                replies[i] = ask(questions[i])
            except OSError as e:
                replies[i] = str(e)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(1, len(questions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
    return replies, time.monotonic() - t0


def serve():
    model = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "dawn-r1-tiny.gguf")
    want = []
    for q in QUESTIONS:  # one at a time: each reply alone
        got, _ = serve_replies([DAWN, "serve", model, "--port", str(port := free_port()), "-t", "1"], "dawn-r1-tiny",
                               port, [q])
        want += got
    check(want[0] is not None and "42" in want[0].get("content", ""), f"dawn serve, one process: {want[0]}")
    strip = lambda replies: [{k: v for k, v in (r or {}).items() if k != "cached"} for r in replies]
    for split in ["layers", "experts"]:
        port = free_port()
        # The first question again at the end: its prompt is in the prefix cache, kept on every rank.
        got, secs = serve_replies(MPI + ["-np", "2", DAWN, "serve", model, "--port", str(port), "-t", "1", "--split",
                                         split], "dawn-r1-tiny", port, QUESTIONS + [QUESTIONS[0]])
        again = got.pop() if len(got) > len(QUESTIONS) else None
        check(strip(got) == strip(want) and secs < 30,
              f"dawn serve under mpirun --split {split} on 2 ranks: {len(QUESTIONS)} greedy questions at once get "
              f"the replies each gets alone; SIGTERM to mpirun ends it in {secs:.1f} s" +
              ("" if strip(got) == strip(want) else f": {got} vs {want}"))
        check(again is not None and strip([again]) == strip(want[:1]) and again.get("cached", 0) > 0,
              f"--split {split}: a question asked again reuses its prefix from every rank's cache "
              f"({again.get('cached') if again else None} cached tokens) and gets the same reply")


os.makedirs(WORK, exist_ok=True)
same_answers()
same_logits()
single_rank_and_options()
serve()
faults()
print(f"{len(failures)} failure(s)" if failures else "all dist checks passed")
sys.exit(1 if failures else 0)
