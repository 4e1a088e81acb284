"""Claim 1 of issue 3: Table 1 of "Attention Is All You Need", measured.

    python3 experiments/table1.py --bin build-exp/exp_table1 --out docs/claims [--passes 3] [--quick]

Runs exp_table1 (experiments/table1.cpp) once per point and pass, each in its own process:
  time   every layer over n x d, and k (convolution) and r (restricted) sweeps; the whole grid is
         measured `passes` times, alternating direction, and each point's number is the median
         over passes of its per-process median (so a burst of load on a shared machine hits one
         pass of a point, not all of them);
  path   the fewest stacked layers after which output n-1 depends on input 0.
Writes table1_time.csv (one row per point and pass), table1_path.csv, the SVG plots, and the
generated block of table1.md (fitted exponents, crossings, path lengths, the machine).
`make claim-table1` runs it pinned to one CPU. --quick: a small grid to try the pipeline.
"""

import argparse
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from claims import (crossing, csv_comments, load_average, log, loglog_fit, machine, md_table, now,  # noqa: E402
                    read_csv, replace_generated, run_point, write_csv)
from svgplot import line_plot  # noqa: E402

TIME_HEADER = ["layer", "n", "d", "k", "r", "heads", "threads", "reps", "median_s", "min_s",
               "peak_extra_bytes", "flops", "gflops", "wall_median_s", "pass"]
PATH_HEADER = ["layer", "n", "d", "k", "r", "layers_needed"]

CORE = ["self_attention", "recurrent", "convolutional", "restricted"]
WITH_PROJ = ["self_attention_layer", "restricted_layer"]
K, R = 3, 128
NAMES = {"self_attention": "self-attention", "self_attention_layer": "self-attention + projections",
         "recurrent": "recurrent (LSTM)", "convolutional": f"convolutional (k={K})",
         "restricted": f"restricted (r={R})", "restricted_layer": "restricted + projections"}
# The table's complexity and its exponents in n and in d.
TABLE = {"self_attention": ("O(n^2 d)", 2, 1), "recurrent": ("O(n d^2)", 1, 2),
         "convolutional": ("O(k n d^2)", 1, 2), "restricted": ("O(r n d)", 1, 1),
         "self_attention_layer": ("(not in the table) O(n^2 d + n d^2)", None, None),
         "restricted_layer": ("(not in the table) O(r n d + n d^2)", None, None)}


class Grid:
    def __init__(self, quick):
        self.quick = quick
        if quick:
            self.ns, self.ds = [64, 128, 256, 512], [64, 128, 256]
            self.ks, self.rs = [1, 3, 5], [16, 64, 128]
            self.n_sweep, self.d_sweep = 256, 64
            self.d_main, self.n_main = 256, 256
        else:
            self.ns, self.ds = [64, 128, 256, 512, 1024, 2048, 4096], [64, 128, 256, 512, 1024]
            self.ks, self.rs = [1, 3, 5, 9, 17], [16, 32, 64, 128, 256, 512]
            self.n_sweep, self.d_sweep = 1024, 256
            self.d_main, self.n_main = 512, 1024  # the paper's d_model; a sentence-pair length
        self.nfit = [n for n in self.ns if n >= self.ns[-1] // 8]
        self.dfit = [d for d in self.ds if d >= 128]
        # the longest rows at the widest d: where self-attention and the LSTM cross for d = 1024
        self.n_long = [] if quick else [8192]

    def points(self):
        p = [(layer, n, d, K, R) for d in self.ds for n in self.ns for layer in CORE + WITH_PROJ]
        p += [(layer, n, self.ds[-1], K, R) for n in self.n_long
              for layer in ("self_attention", "self_attention_layer", "recurrent")]
        p += [("convolutional", self.n_sweep, self.d_sweep, k, R) for k in self.ks if k != K]
        p += [("restricted", 4 * self.n_sweep, self.d_sweep, K, r) for r in self.rs
              if r != R or 4 * self.n_sweep not in self.ns]
        return p


def measure_time(exe, grid, passes):
    points = grid.points()
    rows = []
    for p in range(passes):
        order = points if p % 2 == 0 else points[::-1]
        for i, (layer, n, d, k, r) in enumerate(order):
            line = run_point([exe, "time", "--layer", layer, "--n", n, "--d", d, "--k", k, "--r", r])
            rows.append(line.split(",") + [p])
            log(f"[pass {p + 1}/{passes}, {i + 1}/{len(points)}] {line}")
    return rows


def measure_path(exe, quick):
    ns = [16, 64, 256, 1024] if not quick else [16, 64]
    rows = []
    cases = [("self_attention", 3, 16), ("recurrent", 3, 16), ("convolutional", 3, 16),
             ("convolutional", 7, 16), ("restricted", 3, 16), ("restricted", 3, 64)]
    for layer, k, r in cases:
        for n in ns:
            line = run_point([exe, "path", "--layer", layer, "--n", n, "--d", 8, "--k", k, "--r", r])
            rows.append(line.split(","))
            log(line)
    return rows


def path_analytic(layer, n, k, r):
    """Layers for output n-1 to reach input 0, from the patterns' definitions (no measurement)."""
    if layer in ("self_attention", "recurrent"):
        return 1
    lowest, layers = n - 1, 0
    while lowest > 0:
        if layer == "convolutional":
            lowest -= (k - 1) // 2
        else:  # restricted: a query sees from its block's start minus the flange (experiments/table1.cpp)
            block, flange = max(1, r // 2), r // 4
            lowest = lowest // block * block - flange
        layers += 1
    return layers


def fnum(x, digits=2):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


class Results:
    """The time CSV, one number per point: the median over passes (and the spread beside it)."""

    def __init__(self, rows):
        by = {}
        for row in rows:
            key = (row["layer"], int(row["n"]), int(row["d"]), int(row["k"]), int(row["r"]))
            by.setdefault(key, []).append(row)
        self.points = {}
        for key, rs in by.items():
            med = [float(r["median_s"]) for r in rs]
            self.points[key] = {
                "median_s": statistics.median(med),
                "min_s": min(float(r["min_s"]) for r in rs),
                "spread": max(med) / min(med),
                "peak_extra_bytes": statistics.median(float(r["peak_extra_bytes"]) for r in rs),
                "flops": float(rs[0]["flops"]),
                "passes": len(rs),
            }
        self.passes = max(p["passes"] for p in self.points.values())

    def get(self, layer, n, d, k=K, r=R):
        return self.points.get((layer, n, d, k, r))

    def series(self, layer, vary, fixed, what, k=K, r=R):
        """(xs, ys) of `what` along `vary` ("n" or "d"), the other one fixed."""
        pts = []
        for (l_, n, d, k_, r_), v in self.points.items():
            if l_ == layer and k_ == k and r_ == r and (d if vary == "n" else n) == fixed:
                pts.append((n if vary == "n" else d, v[what]))
        pts.sort()
        return [p[0] for p in pts], [p[1] for p in pts]


def fit_over(xy, keep):
    xs, ys = xy
    return loglog_fit([x for x in xs if x in keep], [y for x, y in zip(xs, ys) if x in keep])[0]


def growth_fit_over(xy, keep):
    """The exponent of the growth: log-log fit of m(x_i) - m(x_i-1) against x_i over doubling steps.
    For m = c + a x^p the differences are a x^p (1 - 2^-p), so a constant c (allocator and
    library buffers, a few MiB) drops out, which a fit of m itself mixes into the exponent."""
    xs, ys = xy
    pts = [(x1, y1 - y0) for x0, y0, x1, y1 in zip(xs, ys, xs[1:], ys[1:]) if x1 in keep and x0 in keep]
    return loglog_fit([p[0] for p in pts], [p[1] for p in pts])[0]


def analyse(out, quick, command):
    g = Grid(quick)
    res = Results(read_csv(os.path.join(out, "table1_time.csv")))
    P = read_csv(os.path.join(out, "table1_path.csv"))
    meta = csv_comments(os.path.join(out, "table1_time.csv"))
    ns, ds = g.ns, g.ds
    md = [f"Measured by `{command}`: " + "; ".join(meta) + ".", "",
          f"Time is CPU time of the process (one thread; user + system, so page faults count, "
          f"but not the time a shared core spent on other processes; wall time is in the CSV). "
          f"Each point: the median over {res.passes} passes of the median of 3-25 timed calls in one "
          "process (the table of all points is table1_time.csv). Spread = largest / smallest "
          "pass median; the median of the spreads over all points is "
          f"{statistics.median(p['spread'] for p in res.points.values()):.2f}, the largest "
          f"{max(p['spread'] for p in res.points.values()):.2f}.", ""]

    # Exponents
    rows = []
    for layer in CORE + WITH_PROJ:
        a_main = fit_over(res.series(layer, "n", g.d_main, "median_s"), g.nfit)
        a_all = [fit_over(res.series(layer, "n", d, "median_s"), g.nfit) for d in ds]
        b_main = fit_over(res.series(layer, "d", g.n_main, "median_s"), g.dfit)
        b_all = [fit_over(res.series(layer, "d", n, "median_s"), g.dfit) for n in ns if n >= 256]
        c_main = growth_fit_over(res.series(layer, "n", g.d_main, "peak_extra_bytes"), g.nfit)
        e_main = growth_fit_over(res.series(layer, "d", g.n_main, "peak_extra_bytes"), g.dfit)
        table, en, ed = TABLE[layer]
        rows.append([NAMES[layer], table,
                     f"**{fnum(a_main)}**" + (f" ({en})" if en else ""), f"{fnum(min(a_all))} .. {fnum(max(a_all))}",
                     f"**{fnum(b_main)}**" + (f" ({ed})" if ed else ""), f"{fnum(min(b_all))} .. {fnum(max(b_all))}",
                     fnum(c_main), fnum(e_main)])
    md += ["### Fitted exponents (log-log least squares)", "",
           f"Time ~ n^a: fitted over n = {g.nfit[0]}..{g.nfit[-1]}, in bold at d = {g.d_main}, then the "
           f"range of a over d = {ds[0]}..{ds[-1]}. Time ~ d^b: over d = {g.dfit[0]}..{g.dfit[-1]}, in "
           f"bold at n = {g.n_main}, then the range over n = 256..{ns[-1]}. The table's exponent in "
           f"brackets. Memory (peak extra resident bytes of the forward): the exponent of its growth "
           f"(fitted to the differences between successive points, so a constant of a few MiB drops "
           f"out) in n at d = {g.d_main} and in d at n = {g.n_main}, over the same ranges.", "",
           md_table(["layer", "Table 1", f"time ~ n^a, d={g.d_main}", "a, all d", f"time ~ d^b, n={g.n_main}",
                     "b, all n", f"memory growth ~ n^c, d={g.d_main}", f"memory growth ~ d^e, n={g.n_main}"], rows), ""]

    # k and r sweeps
    kx = [k for k in g.ks if res.get("convolutional", g.n_sweep, g.d_sweep, k=k)]
    kt = [res.get("convolutional", g.n_sweep, g.d_sweep, k=k)["median_s"] for k in kx]
    rx = [r for r in g.rs if res.get("restricted", 4 * g.n_sweep, g.d_sweep, r=r)]
    rt = [res.get("restricted", 4 * g.n_sweep, g.d_sweep, r=r)["median_s"] for r in rx]
    kfit = loglog_fit([k for k in kx if k >= 3], [t for k, t in zip(kx, kt) if k >= 3])[0]
    rfit = loglog_fit([r for r in rx if r >= 128], [t for r, t in zip(rx, rt) if r >= 128])[0]
    md += ["### Kernel width k and neighbourhood r", "",
           f"Convolution at n = {g.n_sweep}, d = {g.d_sweep}: time ~ k^{fnum(kfit)} over k = 3..{kx[-1]} "
           "(table: k^1); " + ", ".join(f"k = {k}: {t * 1e3:.2f} ms" for k, t in zip(kx, kt)) + ".", "",
           f"Restricted self-attention at n = {4 * g.n_sweep}, d = {g.d_sweep}: time ~ r^{fnum(rfit)} over "
           f"r = 128..{rx[-1]} (table: r^1); " + ", ".join(f"r = {r}: {t * 1e3:.2f} ms" for r, t in zip(rx, rt))
           + ".", ""]

    # Crossings of self-attention and the LSTM
    cross_rows = []
    for d in ds:
        n_a, t_a = res.series("self_attention", "n", d, "median_s")
        n_r, t_r = res.series("recurrent", "n", d, "median_s")
        n_l, t_l = res.series("self_attention_layer", "n", d, "median_s")
        common = [n for n in n_a if n in n_r]
        ta = [t for n, t in zip(n_a, t_a) if n in common]
        tr = [t for n, t in zip(n_r, t_r) if n in common]
        tl = [t for n, t in zip(n_l, t_l) if n in common]
        c_core, c_layer = crossing(common, ta, tr), crossing(common, tl, tr)
        top = common[-1]
        cross_rows.append([d, f"{c_core:.0f}" if c_core else f"> {top}", fnum(c_core / d if c_core else None, 1),
                           f"{c_layer:.0f}" if c_layer else f"> {top}", fnum(c_layer / d if c_layer else None, 1),
                           4 * d, 2 * d])
    md += ["### Where self-attention and the recurrent layer cross", "",
           "The n at which one self-attention layer takes as long as one LSTM layer of the same d "
           "(log-log interpolation between grid points); below it self-attention is faster. The "
           "table's argument is \"n < d\". Counting multiply-adds, the attention products (4 n^2 d) "
           "equal the LSTM's (16 n d^2: four gates, each a d x d product with x_t and with h_t-1) at "
           "n = 4d, and with the attention layer's four projections (4 n^2 d + 8 n d^2) at n = 2d.", "",
           md_table(["d", "n*: self-attention", "n*/d", "n*: with projections", "n*/d",
                     "4d (FLOPs equal)", "2d (FLOPs equal, with projections)"], cross_rows), ""]

    # Rates and sequential steps
    rate_rows = []
    for layer in CORE + WITH_PROJ:
        p = res.get(layer, ns[-1], g.d_main)
        if p:
            rate_rows.append([NAMES[layer], f"{p['median_s'] * 1e3:.1f}", f"{p['flops'] / 1e9:.2f}",
                              f"{p['flops'] / p['median_s'] * 1e-9:.1f}"])
    md += [f"Arithmetic rate at n = {ns[-1]}, d = {g.d_main} (matrix products only, multiply-add = 2 FLOPs):", "",
           md_table(["layer", "ms", "GFLOP", "GFLOP/s"], rate_rows), ""]
    step_rows = []
    for d in ds:
        p = res.get("recurrent", ns[-1], d)
        a = res.get("self_attention", ns[-1], d)
        if p and a:
            step_rows.append([d, f"{p['median_s'] / ns[-1] * 1e6:.1f}", f"{p['flops'] / ns[-1] / 2e6:.2f}",
                              f"{a['median_s'] * 1e3:.1f}"])
    md += [f"The LSTM's {ns[-1]} steps run one after another (the recurrence is one matrix-vector "
           f"product per step, `src/kernels/recurrent.cpp`); time per step at n = {ns[-1]}:", "",
           md_table(["d", "µs per step", "M multiply-adds per step", f"whole self-attention layer, ms"],
                    step_rows), ""]

    # Path lengths
    prow = {}
    for row in P:
        key = (row["layer"], int(row["k"]), int(row["r"]))
        prow.setdefault(key, {})[int(row["n"])] = int(row["layers_needed"])
    pns = sorted({int(row["n"]) for row in P})
    label = {"self_attention": "self-attention", "recurrent": "recurrent (LSTM)",
             "convolutional": "convolutional", "restricted": "restricted"}
    formula = {"self_attention": "1", "recurrent": "1 (through n-1 steps)",
               "convolutional": "ceil((n-1) / ((k-1)/2))", "restricted": "about 2n / r"}
    path_rows = []
    all_match = True
    for (layer, k, r), by_n in prow.items():
        param = f"k = {k}" if layer == "convolutional" else (f"r = {r}" if layer == "restricted" else "")
        cells = []
        for n in pns:
            got, want = by_n.get(n), path_analytic(layer, n, k, r)
            all_match &= got == want
            cells.append(f"{got}" + ("" if got == want else f" (pattern: {want})"))
        path_rows.append([label[layer], param] + cells + [formula[layer]])
    md += ["### Maximum path length, measured", "",
           "The fewest stacked layers (d = 8, random weights, float64) after which output position "
           "n-1 depends on input position 0: d out[n-1] / d x[0] is not exactly zero, by autograd "
           "through the stack. " + ("Every measured count equals the count from the layer's pattern "
                                    "(experiments/table1.py `path_analytic`)." if all_match else
                                    "Counts that differ from the layer's pattern show it in brackets."), "",
           md_table(["layer", "", *[f"n = {n}" for n in pns], "from the pattern"], path_rows), ""]

    # Plots
    def ref_line(xs, ys, slope, label):
        x0, y0 = xs[-1], ys[-1]
        return (label, xs, [y0 * (x / x0) ** slope for x in xs],
                {"dash": True, "marker": False, "color": "#888888" if slope == 2 else "#bbbbbb"})

    note = "one layer, forward, batch 1, 1 thread; " + command
    s = [(NAMES[layer], *res.series(layer, "n", g.d_main, "median_s"), {"dash": layer in WITH_PROJ})
         for layer in CORE + WITH_PROJ]
    s += [ref_line(*res.series("self_attention", "n", g.d_main, "median_s"), 2, "slope 2"),
          ref_line(*res.series("recurrent", "n", g.d_main, "median_s"), 1, "slope 1")]
    line_plot(os.path.join(out, "table1_time_vs_n.svg"), s, title=f"Forward time of one layer, d = {g.d_main}",
              xlabel="sequence length n", ylabel="CPU seconds (median)", logx=True, logy=True, note=note)

    s = [(NAMES[layer], *res.series(layer, "d", g.n_main, "median_s"), {"dash": layer in WITH_PROJ})
         for layer in CORE + WITH_PROJ]
    s += [ref_line(*res.series("recurrent", "d", g.n_main, "median_s"), 2, "slope 2"),
          ref_line(*res.series("self_attention", "d", g.n_main, "median_s"), 1, "slope 1")]
    line_plot(os.path.join(out, "table1_time_vs_d.svg"), s, title=f"Forward time of one layer, n = {g.n_main}",
              xlabel="model width d", ylabel="CPU seconds (median)", logx=True, logy=True, note=note)

    s = []
    for d in ds:
        n_a, t_a = res.series("self_attention", "n", d, "median_s")
        n_r, t_r = res.series("recurrent", "n", d, "median_s")
        tr = dict(zip(n_r, t_r))
        xs = [n for n in n_a if n in tr]
        s.append((f"d = {d}", [n / d for n in xs], [a / tr[n] for n, a in zip(n_a, t_a) if n in tr]))
    xs_all = [x for _, xs, _ in s for x in xs]
    s.append(("n = d (the table)", [1, 1], [1e-3, 1e3], {"dash": True, "marker": False, "color": "#bbbbbb"}))
    s.append(("equal time", [min(xs_all), max(xs_all)], [1, 1], {"dash": True, "marker": False, "color": "#888888"}))
    ys_all = [y for _, _, ys in s[:-2] for y in ys]
    line_plot(os.path.join(out, "table1_crossover.svg"), s,
              title="Self-attention time / LSTM time, against n / d",
              xlabel="n / d", ylabel="time ratio (below 1: self-attention faster)", logx=True, logy=True,
              ylim=(min(ys_all) / 1.3, max(ys_all) * 1.3), note=note)

    s = [(NAMES[layer], xs, [v / 2**20 for v in ys], {"dash": layer in WITH_PROJ})
         for layer in CORE + WITH_PROJ for xs, ys in [res.series(layer, "n", g.d_main, "peak_extra_bytes")]]
    line_plot(os.path.join(out, "table1_memory_vs_n.svg"), s,
              title=f"Peak extra memory of the forward, d = {g.d_main}",
              xlabel="sequence length n", ylabel="MiB (VmHWM - VmRSS before)", logx=True, logy=True, note=note)

    # The LSTM reaches input 0 in one layer, but through n-1 recurrent steps: its path length in
    # the table's sense. That count is from the code, not measured, and drawn dashed.
    s = []
    for (layer, k, r), by_n in prow.items():
        if layer == "recurrent":
            continue
        param = f" k={k}" if layer == "convolutional" else (f" r={r}" if layer == "restricted" else "")
        xs = sorted(by_n)
        s.append((label[layer] + param + ": layers", xs, [by_n[n] for n in xs]))
    rec = prow.get(("recurrent", 3, 16), {})
    if rec:
        xs = sorted(rec)
        s.append(("recurrent (LSTM): 1 layer, n-1 steps", xs, [n - 1 for n in xs],
                  {"dash": True, "marker": False, "color": "#333333"}))
    line_plot(os.path.join(out, "table1_path_length.svg"), s,
              title="Path from input 0 to output n-1", xlabel="sequence length n",
              ylabel="layers (measured by gradients); LSTM: steps", logx=True, logy=True, note=note)
    return "\n".join(md)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build-exp/exp_table1")
    ap.add_argument("--out", default="docs/claims")
    ap.add_argument("--passes", type=int, default=3, help="times the whole time grid is measured")
    ap.add_argument("--quick", action="store_true", help="small grid, to try the pipeline")
    ap.add_argument("--plots-only", action="store_true", help="re-analyse the CSV files already written")
    ap.add_argument("--command", default="make claim-table1", help="the command named on the page")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if not a.plots_only:
        start = f"started {now()}; {machine()}"
        time_rows = measure_time(a.bin, Grid(a.quick), a.passes)
        path_rows = measure_path(a.bin, a.quick)
        meta = [start, f"finished {now()}, load average {load_average()} at the end"]
        write_csv(os.path.join(a.out, "table1_time.csv"), TIME_HEADER, time_rows, meta)
        write_csv(os.path.join(a.out, "table1_path.csv"), PATH_HEADER, path_rows, meta)
    text = analyse(a.out, a.quick, a.command)
    replace_generated(os.path.join(a.out, "table1.md"), "experiments/table1.py", text)
    log(text)


if __name__ == "__main__":
    main()
