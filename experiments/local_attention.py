"""Claim 4 of issue 3: memory and time of full vs local masked self-attention at length.

    python3 experiments/local_attention.py --bin build-exp/exp_local_attention --out docs/claims [--quick]

Runs exp_local_attention (experiments/local_attention.cpp) once per point, each in its own
process (peak resident memory is per process): kind full | local, n = 256 .. 16384, with the
autograd tape off (inference) and on (what a training step keeps for its backward). Writes
local_attention.csv, the SVG plots and the generated block of local_attention.md.
`make claim-local` runs it pinned to one CPU.
"""

import argparse
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from claims import (csv_comments, load_average, log, loglog_fit, machine, md_table, now, read_csv,  # noqa: E402
                    replace_generated, run_point, write_csv)
from svgplot import line_plot  # noqa: E402

HEADER = ["kind", "n", "d", "heads", "block", "flange", "tape", "threads", "reps", "median_s", "min_s",
          "peak_extra_bytes", "attention_bytes", "vmhwm_bytes", "wall_median_s", "pass"]
D, HEADS, BLOCK, FLANGE = 256, 4, 256, 256
GIB = 2.0 ** 30


def lengths(quick):
    return [256, 512, 1024, 2048] if quick else [256, 512, 1024, 2048, 4096, 8192, 16384]


def measure(exe, quick, passes):
    """Every point `passes` times, each in its own process, alternating direction over the list."""
    rows = []
    points = [(kind, n, tape) for tape in (0, 1) for n in lengths(quick) for kind in ("full", "local")]
    for p in range(passes):
        for i, (kind, n, tape) in enumerate(points if p % 2 == 0 else points[::-1]):
            line = run_point([exe, "--kind", kind, "--n", n, "--d", D, "--heads", HEADS, "--block", BLOCK,
                              "--flange", FLANGE, "--tape", tape])
            rows.append(line.split(",") + [p])
            log(f"[pass {p + 1}/{passes}, {i + 1}/{len(points)}] {line}")
    return rows


def mib(b):
    return f"{b / 2**20:.1f}"


def analyse(out, quick, command):
    rows = read_csv(os.path.join(out, "local_attention.csv"))
    meta = csv_comments(os.path.join(out, "local_attention.csv"))
    ns = lengths(quick)

    def col(kind, tape, what):
        """Per n, the median over passes (min_s: the smallest)."""
        got = {}
        for r in rows:
            if r["kind"] == kind and int(r["tape"]) == tape:
                got.setdefault(int(r["n"]), []).append(float(r[what]))
        agg = min if what == "min_s" else statistics.median
        return [agg(got[n]) if n in got else None for n in ns]

    passes = len({r.get("pass") or "0" for r in rows})

    md = [f"Measured by `{command}`: " + "; ".join(meta) + ".", "",
          f"One layer, batch 1, d_model = {D}, {HEADS} heads (d_head = {D // HEADS}), forward only. "
          f"Local: 1D masked blocks of {BLOCK} queries, each attending to its block and the "
          f"{FLANGE} positions before it (memory block M = {BLOCK + FLANGE}). Time: CPU time of the "
          f"process (one thread, user + system; wall time is in the CSV), the median over "
          f"{passes} passes of the median of 3-15 calls in one process. Memory = peak resident "
          f"bytes of the forward over those before it (VmHWM - VmRSS, each point its own process); "
          f"'model' = what the attention kernels hold by their code (full: the n x n scores, local: "
          f"the block probabilities and the per-thread scratch).", ""]

    table = []
    for tape in (0, 1):
        tf, tl = col("full", tape, "median_s"), col("local", tape, "median_s")
        mf, ml = col("full", tape, "peak_extra_bytes"), col("local", tape, "peak_extra_bytes")
        af, al = col("full", tape, "attention_bytes"), col("local", tape, "attention_bytes")
        for i, n in enumerate(ns):
            if tf[i] is None or tl[i] is None:
                continue
            table.append(["training (tape)" if tape else "inference", n,
                          f"{tf[i] * 1e3:.1f}", f"{tl[i] * 1e3:.1f}", f"{tf[i] / tl[i]:.1f}",
                          mib(mf[i]), mib(af[i]), mib(ml[i]), mib(al[i]),
                          f"{mib(mf[i] - af[i])} / {mib(ml[i] - al[i])}", mib(5 * n * D * 4)])
    md += ["### Measured", "",
           "'rest' = measured minus model, for full / local: the layer's other activations, which "
           "both kinds share: the (n, 3d) QKV projection, the attention output and the output "
           "projection, 5 n d floats ('5nd').", "",
           md_table(["mode", "n", "full ms", "local ms", "full / local", "full MiB", "full model MiB",
                     "local MiB", "local model MiB", "rest MiB, full / local", "5nd MiB"], table), ""]

    fit_ns = [n for n in ns if n >= (2048 if not quick else 512)]
    fits = []
    for tape in (0, 1):
        for kind in ("full", "local"):
            t, m = col(kind, tape, "median_s"), col(kind, tape, "peak_extra_bytes")
            keep = [i for i, n in enumerate(ns) if n in fit_ns and t[i] is not None]
            bt = loglog_fit([ns[i] for i in keep], [t[i] for i in keep])
            bm = loglog_fit([ns[i] for i in keep], [m[i] for i in keep])
            fits.append([kind, "training (tape)" if tape else "inference", f"{bt[0]:.2f}", f"{bm[0]:.2f}",
                         "2 (n^2 d)" if kind == "full" else "1 (n M d)", "2" if kind == "full" else "1"])
    md += [f"### Fitted exponents over n = {fit_ns[0]}..{fit_ns[-1]} (log-log least squares)", "",
           md_table(["kind", "mode", "time ~ n^a", "memory ~ n^b", "expected a", "expected b"], fits), ""]

    # Budgets: the n at which the n x n score matrices alone pass a memory budget.
    budgets = [("1 GiB", 1.0), ("16 GiB (a 16 GB accelerator)", 16.0),
               (f"this machine's RAM, {machine_ram_gib():.1f} GiB", machine_ram_gib())]
    brows = []
    for name, g in budgets:
        b = g * GIB
        n_tape = math.sqrt(b / (4 * HEADS))        # (1, H, n, n) float32 probabilities kept for backward
        n_inf = math.sqrt(b / 4)                   # one (n, n) float32 score matrix (one thread)
        n_local = b / (4 * HEADS * (BLOCK + FLANGE))  # (1, H, n/block, block * M) kept for backward
        brows.append([name, f"{n_inf:,.0f}", f"{n_tape:,.0f}", f"{n_local:,.0f}"])
    md += ["### Where full attention runs out of memory", "",
           "Full attention never ran out of memory here (the largest point is in the table above). "
           "The n at which the score matrices alone fill a budget (float32, batch 1, "
           f"{HEADS} heads, the rest of the layer not counted):", "",
           md_table(["budget", "full, inference: one n x n matrix", f"full, training: {HEADS} n x n kept",
                     f"local, training: {HEADS} n x {BLOCK + FLANGE} kept"], brows), ""]

    note = f"d={D}, {HEADS} heads, block {BLOCK}, flange {FLANGE}, batch 1, 1 thread; {command}"
    s = []
    for tape in (0, 1):
        for kind in ("full", "local"):
            s.append((f"{kind}, {'training (tape)' if tape else 'inference'}", ns, col(kind, tape, "median_s"),
                      {"dash": bool(tape)}))
    line_plot(os.path.join(out, "local_attention_time.svg"), s, title="Masked self-attention layer: forward time",
              xlabel="sequence length n", ylabel="CPU seconds (median)", logx=True, logy=True, note=note)
    s = []
    for tape in (0, 1):
        for kind in ("full", "local"):
            s.append((f"{kind}, {'training (tape)' if tape else 'inference'}", ns,
                      [v / 2**20 if v else None for v in col(kind, tape, "peak_extra_bytes")], {"dash": bool(tape)}))
    ref_n = [ns[0], ns[-1]]
    top = max(v for v in col("full", 1, "peak_extra_bytes") if v) / 2**20
    s.append(("slope 2 (n^2)", ref_n, [top * (n / ns[-1]) ** 2 for n in ref_n],
              {"dash": True, "marker": False, "color": "#999999"}))
    s.append(("slope 1 (n)", ref_n, [top / 16 * (n / ns[-1]) for n in ref_n],
              {"dash": True, "marker": False, "color": "#cccccc"}))
    line_plot(os.path.join(out, "local_attention_memory.svg"), s, title="Masked self-attention layer: peak memory",
              xlabel="sequence length n", ylabel="MiB over the inputs (VmHWM - VmRSS)", logx=True, logy=True,
              note=note)
    return "\n".join(md)


def machine_ram_gib():
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build-exp/exp_local_attention")
    ap.add_argument("--out", default="docs/claims")
    ap.add_argument("--quick", action="store_true", help="n up to 2048, to try the pipeline")
    ap.add_argument("--passes", type=int, default=2, help="times every point is measured")
    ap.add_argument("--plots-only", action="store_true", help="re-analyse the CSV file already written")
    ap.add_argument("--command", default="make claim-local", help="the command named on the page")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if not a.plots_only:
        start = f"started {now()}; {machine()}"
        rows = measure(a.bin, a.quick, a.passes)
        meta = [start, f"finished {now()}, load average {load_average()} at the end"]
        write_csv(os.path.join(a.out, "local_attention.csv"), HEADER, rows, meta)
    text = analyse(a.out, a.quick, a.command)
    replace_generated(os.path.join(a.out, "local_attention.md"), "experiments/local_attention.py", text)
    log(text)


if __name__ == "__main__":
    main()
