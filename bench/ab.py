#!/usr/bin/env python3
"""A/B timing of two bench_engine binaries, alternating processes (standard library only).

The optimisation log's "alternating pairs" come from this script. On a shared host single
processes vary by up to +-30%, so the two binaries run in turn (A, B, A, B, ...), each process
reports its own step or iteration times, and the script prints every process's median, the
median of those medians for each side, and whether the two sides computed the same thing
(training losses, or the first batch's decoded tokens).

    bench/ab.py OLD/bench_engine NEW/bench_engine --pairs 4 -- \\
        train --model build/bench-work/base --data build/bench-work/base/train_fixed.txt \\
              --threads 2 --warmup 1 --steps 3

Keep an old binary by copying it aside before rebuilding (cp build/bench_engine /tmp/old).
"""
import argparse
import json
import statistics
import subprocess
import sys


def run_once(binary, args):
    proc = subprocess.run([binary] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"ab.py: {binary} {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.exit(f"ab.py: {binary} printed no JSON result line:\n{proc.stdout}")
    r = json.loads(lines[-1])
    if "step_seconds" in r:
        return r["step_seconds"], r.get("losses"), r.get("peak_rss_mib")
    if "iter_seconds" in r:
        return r["iter_seconds"], r.get("first_tokens"), r.get("peak_rss_mib")
    sys.exit(f"ab.py: no step_seconds or iter_seconds in {lines[-1][:200]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("a", help="the old binary (A)")
    p.add_argument("b", help="the new binary (B)")
    p.add_argument("--pairs", type=int, default=4, help="alternating A,B process pairs (default 4); then -- and bench_engine's arguments")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    o = p.parse_args(argv[:cut])
    args = argv[cut + 1:]
    if not args or o.pairs < 1:
        p.error("give --pairs >= 1 and bench_engine's arguments after --")
    medians = {"A": [], "B": []}
    outputs = {"A": None, "B": None}
    for i in range(o.pairs):
        for side, binary in (("A", o.a), ("B", o.b)):
            times, out, rss = run_once(binary, args)
            m = statistics.median(times)
            medians[side].append(m)
            outputs[side] = out
            print(f"pair {i + 1} {side}: median {m:.4f} s  (all: {' '.join(f'{t:.4f}' for t in times)}; "
                  f"peak {rss} MiB)", flush=True)
    ma, mb = statistics.median(medians["A"]), statistics.median(medians["B"])
    print(f"A median of medians {ma:.4f} s, B {mb:.4f} s, B/A time {mb / ma:.3f} "
          f"(pairs: {', '.join(f'{a:.3f}/{b:.3f}' for a, b in zip(medians['A'], medians['B']))})")
    same = outputs["A"] == outputs["B"]
    print("same results (losses or first tokens):", "yes" if same else f"NO\nA: {outputs['A']}\nB: {outputs['B']}")


if __name__ == "__main__":
    main()
