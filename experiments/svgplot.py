"""Line plots as SVG files, Python 3 standard library only (no matplotlib on the machine).

    from svgplot import line_plot
    line_plot("docs/claims/time.svg",
              [("self-attention", ns, t_attn), ("LSTM", ns, t_lstm),
               ("slope 2", ns, ref, {"dash": True, "marker": False})],
              title="Forward time, d = 256", xlabel="n", ylabel="seconds",
              logx=True, logy=True)

A series is (label, xs, ys) or (label, xs, ys, style) with style keys:
    color   any SVG colour (default: the next of a 10-colour palette)
    dash    True for a dashed line (reference curves, fits)
    marker  False to draw the line only; markers cycle circle, square, triangle, diamond
    width   line width in pixels (default 2)
Points whose x or y is None, NaN or infinite, or not positive on a log axis, are skipped and
break the line there. Axes: linear or logarithmic (base 10 ticks; within one decade, 2 and 5
are added; xticks/yticks override the tick values). The legend sits right of the plot.
Running this file writes a demonstration plot to the path given (default svgplot_demo.svg).
"""

import math
from xml.sax.saxutils import escape

__all__ = ["line_plot", "PALETTE"]

# Tableau's ten: distinguishable, and legible for the common colour-vision deficiencies.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
_MARKERS = ["circle", "square", "triangle", "diamond"]


def _finite(v):
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def _nice_linear_ticks(lo, hi, target=6):
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, t = [], first
    while t <= hi + 1e-9 * step:
        ticks.append(0.0 if abs(t) < 1e-12 * step else t)
        t += step
    return ticks


def _log_ticks(lo, hi):
    """Powers of 10 in [lo, hi]; with 2 and 5 times them when the range is short."""
    e0, e1 = math.floor(math.log10(lo) + 1e-9), math.ceil(math.log10(hi) - 1e-9)
    mults = (1,) if e1 - e0 > 2 else (1, 2, 5)
    ticks = [m * 10.0 ** e for e in range(e0, e1 + 1) for m in mults]
    ticks = [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    if len(ticks) < 2:  # a range inside one 1-2-5 step: fall back to the ends
        ticks = [lo, hi]
    return ticks


def _fmt(v):
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        m, e = f"{v:.0e}".split("e")
        return f"{m}e{int(e)}"
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.3g}"


def _marker(kind, x, y, color, r=3.5):
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{color}"/>'
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{color}"/>'
    if kind == "triangle":
        pts = f"{x:.1f},{y - r - 1:.1f} {x - r - 0.5:.1f},{y + r:.1f} {x + r + 0.5:.1f},{y + r:.1f}"
        return f'<polygon points="{pts}" fill="{color}"/>'
    pts = f"{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} {x:.1f},{y + r + 1:.1f} {x - r - 1:.1f},{y:.1f}"
    return f'<polygon points="{pts}" fill="{color}"/>'


def line_plot(path, series, title="", xlabel="", ylabel="", logx=False, logy=False,
              width=760, height=460, xticks=None, yticks=None, xlim=None, ylim=None, note=""):
    """Writes an SVG line plot of `series` to `path` (see the module docstring) and returns path.

    xlim, ylim: (lo, hi) to fix an axis range; otherwise the data's range (with a margin on
    linear axes, and zero included when the data are all positive and near it). note: a line of
    small text under the plot (the machine, the command).
    """
    norm = []
    for i, s in enumerate(series):
        label, xs, ys = s[0], list(s[1]), list(s[2])
        style = dict(s[3]) if len(s) > 3 and s[3] else {}
        if len(xs) != len(ys):
            raise ValueError(f"series {label!r}: {len(xs)} x values but {len(ys)} y values")
        style.setdefault("color", PALETTE[i % len(PALETTE)])
        style.setdefault("marker", True)
        style.setdefault("dash", False)
        style.setdefault("width", 2)
        norm.append((str(label), xs, ys, style))

    def usable(x, y):
        return _finite(x) and _finite(y) and (not logx or x > 0) and (not logy or y > 0)

    pts = [(x, y) for _, xs, ys, _ in norm for x, y in zip(xs, ys) if usable(x, y)]
    if not pts:
        raise ValueError(f"{path}: no plottable points")

    def axis_range(vals, log, lim):
        if lim:
            return float(lim[0]), float(lim[1])
        lo, hi = min(vals), max(vals)
        if log:
            if hi <= lo:
                lo, hi = lo / 2, hi * 2
            pad = (math.log10(hi) - math.log10(lo)) * 0.04
            return 10 ** (math.log10(lo) - pad), 10 ** (math.log10(hi) + pad)
        if hi <= lo:
            lo, hi = lo - 1, hi + 1
        if lo > 0 and lo < 0.35 * hi:
            lo = 0.0
        pad = (hi - lo) * 0.05
        return (lo if lo == 0.0 else lo - pad), hi + pad

    x0, x1 = axis_range([p[0] for p in pts], logx, xlim)
    y0, y1 = axis_range([p[1] for p in pts], logy, ylim)
    xt = xticks if xticks is not None else (_log_ticks(x0, x1) if logx else _nice_linear_ticks(x0, x1))
    yt = yticks if yticks is not None else (_log_ticks(y0, y1) if logy else _nice_linear_ticks(y0, y1))

    legend_w = 7 * max(len(s[0]) for s in norm) + 48
    left, right, top = 78, legend_w + 20, 44 if title else 20
    bottom = 58 + (18 if note else 0)
    pw, ph = width - left - right, height - top - bottom
    if pw < 100 or ph < 80:
        raise ValueError(f"{path}: {width}x{height} is too small for the labels")

    def tx(x):
        f = (math.log10(x) - math.log10(x0)) / (math.log10(x1) - math.log10(x0)) if logx else (x - x0) / (x1 - x0)
        return left + f * pw

    def ty(y):
        f = (math.log10(y) - math.log10(y0)) / (math.log10(y1) - math.log10(y0)) if logy else (y - y0) / (y1 - y0)
        return top + ph - f * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    if title:
        out.append(f'<text x="{left + pw / 2:.1f}" y="26" text-anchor="middle" font-size="15" '
                   f'font-weight="bold">{escape(title)}</text>')
    # grid and ticks; log axes also get faint lines at 2..9 times each power of ten
    for log, lo, hi, vertical in ((logx, x0, x1, True), (logy, y0, y1, False)):
        if not log:
            continue
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
            for m in range(2, 10):
                v = m * 10.0 ** e
                if lo < v < hi:
                    if vertical:
                        out.append(f'<line x1="{tx(v):.1f}" y1="{top}" x2="{tx(v):.1f}" y2="{top + ph}" stroke="#f3f3f3"/>')
                    else:
                        out.append(f'<line x1="{left}" y1="{ty(v):.1f}" x2="{left + pw}" y2="{ty(v):.1f}" stroke="#f3f3f3"/>')
    for t in xt:
        if x0 * (1 - 1e-9) <= t <= x1 * (1 + 1e-9) or (not logx and x0 <= t <= x1):
            X = tx(t)
            out.append(f'<line x1="{X:.1f}" y1="{top}" x2="{X:.1f}" y2="{top + ph}" stroke="#e4e4e4"/>')
            out.append(f'<text x="{X:.1f}" y="{top + ph + 17}" text-anchor="middle">{escape(_fmt(t))}</text>')
    for t in yt:
        if y0 * (1 - 1e-9) <= t <= y1 * (1 + 1e-9) or (not logy and y0 <= t <= y1):
            Y = ty(t)
            out.append(f'<line x1="{left}" y1="{Y:.1f}" x2="{left + pw}" y2="{Y:.1f}" stroke="#e4e4e4"/>')
            out.append(f'<text x="{left - 6}" y="{Y + 4:.1f}" text-anchor="end">{escape(_fmt(t))}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.1f}" y="{top + ph + 40}" text-anchor="middle" '
                   f'font-size="13">{escape(xlabel)}</text>')
    if ylabel:
        cy = top + ph / 2
        out.append(f'<text x="18" y="{cy:.1f}" text-anchor="middle" font-size="13" '
                   f'transform="rotate(-90 18 {cy:.1f})">{escape(ylabel)}</text>')
    if note:
        out.append(f'<text x="{left}" y="{height - 8}" font-size="10" fill="#555">{escape(note)}</text>')

    # series, clipped to the plot area
    out.append(f'<clipPath id="plotarea"><rect x="{left}" y="{top}" width="{pw}" height="{ph}"/></clipPath>')
    out.append('<g clip-path="url(#plotarea)">')
    for i, (label, xs, ys, st) in enumerate(norm):
        runs, cur = [], []
        for x, y in zip(xs, ys):
            if usable(x, y):
                cur.append((tx(x), ty(y)))
            elif cur:
                runs.append(cur)
                cur = []
        if cur:
            runs.append(cur)
        dash = ' stroke-dasharray="6,4"' if st["dash"] else ""
        for run in runs:
            if len(run) > 1:
                d = " ".join(f"{X:.1f},{Y:.1f}" for X, Y in run)
                out.append(f'<polyline points="{d}" fill="none" stroke="{st["color"]}" '
                           f'stroke-width="{st["width"]}"{dash}/>')
            if st["marker"]:
                for X, Y in run:
                    out.append(_marker(_MARKERS[i % len(_MARKERS)], X, Y, st["color"]))
    out.append("</g>")

    # legend
    lx, ly = left + pw + 16, top + 6
    for i, (label, _, _, st) in enumerate(norm):
        Y = ly + 20 * i + 8
        dash = ' stroke-dasharray="6,4"' if st["dash"] else ""
        out.append(f'<line x1="{lx}" y1="{Y}" x2="{lx + 26}" y2="{Y}" stroke="{st["color"]}" '
                   f'stroke-width="{st["width"]}"{dash}/>')
        if st["marker"]:
            out.append(_marker(_MARKERS[i % len(_MARKERS)], lx + 13, Y, st["color"]))
        out.append(f'<text x="{lx + 34}" y="{Y + 4}">{escape(label)}</text>')
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return path


if __name__ == "__main__":
    import sys
    ns = [2 ** k for k in range(6, 14)]
    line_plot(sys.argv[1] if len(sys.argv) > 1 else "svgplot_demo.svg",
              [("n^2", ns, [n * n * 1e-9 for n in ns]),
               ("n log n", ns, [n * math.log2(n) * 1e-8 for n in ns]),
               ("n", ns, [n * 1e-7 if n != 512 else None for n in ns]),
               ("slope 1 reference", ns, [n * 2e-7 for n in ns], {"dash": True, "marker": False})],
              title="svgplot demonstration", xlabel="n", ylabel="seconds", logx=True, logy=True,
              note="python3 experiments/svgplot.py")
