#!/usr/bin/env python3
"""Our engine against itself at lower precision (issue 4's bf16 and int8 targets): base training
in fp32 and bf16, base greedy decoding of batch 64 in fp32 and int8 (and bf16), alternating,
several processes each; prints medians and ratios and writes bench/PRECISION.md. PyTorch is not
involved: the targets are ratios to our own fp32. Standard library only.

    bench/precision.py [--build DIR] [--work DIR] [--threads N] [--reps N] [--results FILE]

Each process is one `bench_engine` measurement (bench/bench_engine.cpp) on the "base" model and
batches that `bench_engine init` makes (d_model 512, 6+6 layers, vocab 8000; training batches of
128 x 32 target tokens; decoding 64 sentences of 16-31 tokens for exactly 24 steps).
"""
import argparse, datetime, json, os, shlex, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TARGETS = {"train bf16": 1.3, "decode int8": 1.5}


def run(argv, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="passive")
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"precision.py: {' '.join(argv)} failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--work", default=os.path.join(REPO, "build-bench", "precision"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--results", default=os.path.join(HERE, "PRECISION.md"))
    a = ap.parse_args()
    engine = os.path.join(a.build, "bench_engine")
    if not os.path.isfile(engine):
        sys.exit(f"precision.py: {engine} not found; build it (cmake --build {a.build} --target bench_engine)")
    model = os.path.join(a.work, "base")
    if not os.path.isfile(os.path.join(model, "model.safetensors")):
        subprocess.run([engine, "init", "--config", "base", "--out", model], check=True)
    started = time.time()
    t = str(a.threads)
    train = {p: [engine, "train", "--model", model, "--data", os.path.join(model, "train_fixed.txt"), "--threads", t,
                 "--warmup", "1", "--steps", "3", "--precision", p] for p in ("fp32", "bf16")}
    decode = {p: [engine, "decode", "--model", model, "--src", os.path.join(model, "decode_src.txt"), "--threads", t,
                  "--batch", "64", "--length", "24", "--iters", "2", "--warmup", "1", "--precision", p]
              for p in ("fp32", "int8", "bf16")}
    res = {("train", p): [] for p in train}
    res.update({("decode", p): [] for p in decode})
    losses = {}
    first = {}
    for rep in range(a.reps):
        for p, argv in train.items():
            r = run(argv, a.threads)
            res[("train", p)].append(sum(r["target_tokens"]) / sum(r["step_seconds"]))
            losses.setdefault(p, r["losses"])
            print(f"rep {rep + 1}: train {p}: {res[('train', p)][-1]:,.0f} tokens/s", flush=True)
        for p, argv in decode.items():
            r = run(argv, a.threads)
            res[("decode", p)].append(r["batch"] * r["length"] * len(r["iter_seconds"]) / sum(r["iter_seconds"]))
            first.setdefault(p, r["first_tokens"])
            print(f"rep {rep + 1}: decode {p}: {res[('decode', p)][-1]:,.0f} tokens/s", flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    minutes = (time.time() - started) / 60
    cmd = "bench/precision.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    lines = [
        "# Our engine at lower precision: bf16 training, int8 decoding",
        "",
        f"Made by `{cmd.strip()}` ({minutes:.1f} min), {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, "
        f"{a.threads} threads, {a.reps} processes per point, alternating; load average at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
        "Model and batches: the benchmark's \"base\" (`bench_engine init --config base`, random weights):",
        "training 3 timed steps of 128 x 32 target tokens after 1 warm-up step; decoding greedy, batch 64,",
        "exactly 24 steps, 2 timed batches after 1 warm-up. Medians over processes.",
        "",
        "| measure | precision | tokens/s (median) | all processes | ratio to fp32 | target | |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (kind, p), v in res.items():
        ratio = med[(kind, p)] / med[(kind, "fp32")]
        target = TARGETS.get(f"{kind} {p}")
        verdict = "" if target is None else ("PASS" if ratio >= target else "MISS")
        lines.append(f"| {'base training' if kind == 'train' else 'base greedy, batch 64'} | {p} | "
                     f"{med[(kind, p)]:,.0f} | {', '.join(f'{x:,.0f}' for x in v)} | {ratio:.2f} | "
                     f"{'' if target is None else f'>= {target}x'} | {verdict} |")
    lines += ["", "Sanity: training losses of the first process (fp32 / bf16, same batches, dropout on):"]
    lines += [f"- {p}: {', '.join(f'{x:.4f}' for x in losses[p])}" for p in losses]
    agree = {p: sum(x == y for x, y in zip(first[p], first["fp32"])) for p in first}
    lines += ["", "Decoding: of the first sentence's 24 greedy tokens, equal to fp32's: "
              + ", ".join(f"{p} {agree[p]}/24" for p in first if p != "fp32")
              + " (random weights give near-uniform logits, so a rounding can flip a token; the G2P"
              " model's accuracy at each precision is in the README)."]
    with open(a.results, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
