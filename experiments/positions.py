"""Claim 3 of issue 3: relative against absolute positions, measured on length generalisation.
Transformers with sinusoidal positions (the paper, section 3.5), learned position embeddings,
and relative positions (Shaw et al., 2018, as in the Music Transformer: self-attention adds
learned embeddings of the distance j - i, clipped at max_relative_distance) are trained to
reverse strings of 1..40 letters and tested on 1..100.

    python3 experiments/positions.py --bin build/transformer --out docs/claims [--jobs 2] [--quick]

Trains each model with `transformer train` (one thread per run; --jobs runs that many at once),
reverses 20 test strings of every length 1..100 greedily with `transformer translate`, and writes
positions_runs.csv, positions_by_length.csv, positions_by_position.csv, the SVG plots and the
generated block of positions.md. Models and logs stay in --work. `make claim-positions` runs it
pinned to CPU 0. --quick: 300 steps. --plots-only: redo tables and plots from the CSV files.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from claims import csv_comments, load_average, log, machine, md_table, now, read_csv, replace_generated, write_csv  # noqa: E402
from seq2seq_runs import (claim_main, decode_run, fmt_time, make_data, pct, pooled, run_parallel, score_by_length,  # noqa: E402
                          kept_note, snapshot_binary, train_run)
from svgplot import line_plot  # noqa: E402

TRAIN_MAX = 40
TEST_MAX = 100
PER_LENGTH = 20
BUCKETS = [(1, 20), (21, 40), (41, 50), (51, 60), (61, 70), (71, 80), (81, 90), (91, 100)]

# max_len 128: length-100 sources (101 tokens with eos) and outputs fit; learned positions have
# a 128-row table of which rows past 41 are never trained (they keep their initial values).
BASE = {"arch": "transformer", "d_model": 64, "heads": 4, "d_ff": 256, "encoder_layers": 2,
        "decoder_layers": 2, "max_len": 128}
RUNS = [
    ("sinusoidal", "sinusoidal", dict(BASE, positional="sinusoidal")),
    ("learned", "learned", dict(BASE, positional="learned")),
    ("relative-16", "relative, clip 16", dict(BASE, positional="relative", max_relative_distance=16)),
    ("relative-32", "relative, clip 32", dict(BASE, positional="relative", max_relative_distance=32)),
]
# At the recipe's peak lr 0.002 the absolute-position models train unstably (validation loss
# 0.05 and 0.11 at step 3,750, then 2.0 and 0.56 at 4,000; the relative ones reach 0.004), so
# they are also trained with half the peak, all else the same: then their in-distribution
# accuracy is no longer the weaker side of the comparison.
EXTRA = [("sinusoidal-lr1e-3", "sinusoidal, lr 0.001", RUNS[0][2], {"lr": 0.001}),
         ("learned-lr1e-3", "learned, lr 0.001", RUNS[1][2], {"lr": 0.001})]
EXTRA_NAMES = {e[0] for e in EXTRA}

# The recipe of experiments/seq2seq_length.py (claim 2).
TRAIN = {"steps": 4000, "max_tokens": 2000, "schedule": "inverse_sqrt", "lr": 0.002, "warmup": 200,
         "label_smoothing": 0.0, "clip_norm": 1.0, "seed": 1, "validate_every": 250,
         "save_every": 1000, "log_every": 250}

RUNS_HEADER = ["name", "label", "params", "config", "lr", "train_wall_s", "train_cpu_s", "best_step",
               "best_valid_nll", "best_valid_acc", "decode_wall_s", "decode_cpu_s"]
LEN_HEADER = ["name", "length", "n", "exact", "token", "length_ok"]
POS_HEADER = ["name", "position", "n", "correct"]


def by_position(pairs, outs, lo):
    """Over test strings of length >= lo: for each output position i (0-based), the fraction of
    strings longer than i whose output has the right symbol at i."""
    acc = {}
    for (s, t), h in zip(pairs, outs):
        if len(s) < lo:
            continue
        for i, c in enumerate(t):
            a = acc.setdefault(i, [0, 0])
            a[0] += 1
            a[1] += i < len(h) and h[i] == c
    return {i: (n, ok / n) for i, (n, ok) in sorted(acc.items())}


def measure(a):
    exe, bin_sha, commit = snapshot_binary(a.bin, a.work)
    train = dict(TRAIN, steps=300 if a.quick else TRAIN["steps"])
    start = f"started {now()}; {machine()}"
    pairs, seen = make_data(a.work, 50000, 500, TRAIN_MAX, range(1, TEST_MAX + 1), PER_LENGTH)

    def one(name, model, more):
        def fn():
            rec = train_run(exe, a.work, name, model, dict(train, **more), 1, a.fresh)
            # Outputs may be as long as 2 |source| + 10 and max_len - 1 = 127: room for 100 + eos.
            outs, wall, cpu = decode_run(exe, a.work, name, [s for s, _ in pairs], 1, beam=a.beam,
                                         ratio=2.0, extra=10)
            return rec, score_by_length(pairs, outs), by_position(pairs, outs, TRAIN_MAX + 1), wall, cpu
        return fn

    all_runs = [(name, label, model, {}) for name, label, model in RUNS] + ([] if a.quick else EXTRA)
    results = run_parallel(a.jobs, [one(name, model, more) for name, _, model, more in all_runs])
    runs, by_len, by_pos = [], [], []
    for (name, label, model, more), (rec, by, pos, wall, cpu) in zip(all_runs, results):
        cfg = " ".join(f"{k}={v}" for k, v in model.items())
        runs.append([name, label, rec["params"], cfg, rec["train"]["lr"], rec["train_wall_s"], rec["train_cpu_s"], rec["best_step"],
                     rec["best_valid_nll"], rec["best_valid_acc"], round(wall, 1), round(cpu, 1)])
        by_len += [[name, n, b["n"], f"{b['exact']:.4f}", f"{b['token']:.4f}", f"{b['length_ok']:.4f}"]
                   for n, b in by.items()]
        by_pos += [[name, i, n, f"{c:.4f}"] for i, (n, c) in pos.items()]
    train_line = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in train.items())
    meta = [start, f"finished {now()}, load average {load_average()} at the end",
            f"binary sha256 {bin_sha}, checkout {commit} at the start; {a.jobs} run(s) at a time, 1 thread each",
            *kept_note([r[0] for r in results]),
            f"train: {train_line}; tokenizer char; lengths 1..{TRAIN_MAX}",
            "decode: greedy" if a.beam == 1 else f"decode: beam {a.beam}",
            f"test: {PER_LENGTH} strings of each length 1..{TEST_MAX}, {seen} of them also in the training set"]
    write_csv(os.path.join(a.out, "positions_runs.csv"), RUNS_HEADER, runs, meta)
    write_csv(os.path.join(a.out, "positions_by_length.csv"), LEN_HEADER, by_len, meta)
    write_csv(os.path.join(a.out, "positions_by_position.csv"), POS_HEADER, by_pos, meta)


def analyse(a):
    runs = read_csv(os.path.join(a.out, "positions_runs.csv"))
    rows = read_csv(os.path.join(a.out, "positions_by_length.csv"))
    prow = read_csv(os.path.join(a.out, "positions_by_position.csv"))
    meta = csv_comments(os.path.join(a.out, "positions_runs.csv"))
    labels = {r["name"]: r["label"] for r in runs}
    by = {}
    for r in rows:
        by.setdefault(r["name"], {})[int(r["length"])] = {"n": int(r["n"]), "exact": float(r["exact"]),
                                                           "token": float(r["token"]),
                                                           "length_ok": float(r["length_ok"])}
    lengths = sorted({int(r["length"]) for r in rows})
    md = [f"Measured by `{a.command}`: " + "; ".join(meta) + ".", ""]
    md += ["### The runs", "",
           md_table(["positions", "config (`--set`)", "parameters", "peak lr", "training: wall", "CPU",
                     "best validation nll (step)", "teacher-forced token accuracy",
                     f"decoding {sum(b['n'] for b in by[runs[0]['name']].values())} strings: wall"],
                    [[r["label"], f"`{r['config']}`", f"{int(r['params']):,}", r.get("lr") or TRAIN["lr"], fmt_time(float(r["train_wall_s"])),
                      fmt_time(float(r["train_cpu_s"])), f"{float(r['best_valid_nll']):.4f} ({r['best_step']})",
                      f"{float(r['best_valid_acc']):.2f}%", fmt_time(float(r["decode_wall_s"]))] for r in runs]), ""]
    for what, title in (("exact", "Exact match, %"),
                        ("token", "Per-token accuracy (output position i equals the reference's, over |reference|), %"),
                        ("length_ok", "Output of the right length, %")):
        table = []
        for lo, hi in BUCKETS:
            mark = "" if hi <= TRAIN_MAX else " (unseen)"
            table.append([f"{lo}-{hi}{mark}"] + [pct(pooled(by[r["name"]], lo, hi)[what]) for r in runs])
        md += [f"### {title}, by input length", "",
               f"{PER_LENGTH} strings per length; trained on lengths 1-{TRAIN_MAX}.", "",
               md_table(["length"] + [labels[r["name"]] for r in runs], table), ""]

    pos = {}
    for r in prow:
        pos.setdefault(r["name"], {})[int(r["position"])] = float(r["correct"])
    marks = [0, 9, 19, 29, 39, 40, 49, 59, 79, 99]
    md += [f"### Which output positions go wrong (test lengths {TRAIN_MAX + 1}-{TEST_MAX})", "",
           "Fraction of outputs with the right letter at output position i (1-based here), over the "
           "test strings longer than i; position i of the reverse is source position n + 1 - i.", "",
           md_table(["output position"] + [labels[r["name"]] for r in runs],
                    [[i + 1] + [pct(pos[r["name"]].get(i)) for r in runs] for i in marks]), ""]

    note = f"{PER_LENGTH} test strings per length; greedy; trained on lengths 1-{TRAIN_MAX}; {a.command}"
    for what, ylabel, fname in (("exact", "exact match", "positions_exact.svg"),
                                ("token", "per-token accuracy", "positions_token.svg"),
                                ("length_ok", "output of the right length", "positions_length.svg")):
        s = [(labels[r["name"]], lengths, [by[r["name"]][n][what] for n in lengths],
              {"marker": False, "dash": r["name"] in EXTRA_NAMES})
             for r in runs]
        s.append((f"longest trained ({TRAIN_MAX})", [TRAIN_MAX, TRAIN_MAX], [0, 1],
                  {"dash": True, "marker": False, "color": "#888888"}))
        line_plot(os.path.join(a.out, fname), s, title=f"Reversal, trained on 1-{TRAIN_MAX}: {ylabel} against length",
                  xlabel="input length (letters)", ylabel=ylabel, ylim=(0, 1.0), note=note)
    s = []
    for r in runs:
        xs = sorted(pos[r["name"]])
        s.append((labels[r["name"]], [i + 1 for i in xs], [pos[r["name"]][i] for i in xs],
                  {"marker": False, "dash": r["name"] in EXTRA_NAMES}))
    line_plot(os.path.join(a.out, "positions_by_position.svg"), s,
              title=f"Test lengths {TRAIN_MAX + 1}-{TEST_MAX}: right letter at output position i",
              xlabel="output position i", ylabel="fraction correct", ylim=(0, 1.0), note=note)
    return "\n".join(md)


def main():
    claim_main(__doc__, "build-claims/positions", "make claim-positions", "positions.md", "experiments/positions.py", measure, analyse)


if __name__ == "__main__":
    main()
