"""Claim 2 of issue 3: the fixed context vector, measured. Accuracy against input length of an
RNN encoder-decoder without attention (Sutskever et al., 2014: the decoder sees the source only
through the encoder's final state), with attention (Luong's dot score, Bahdanau's additive
score) and of the Transformer, on string reversal, same data, steps and batch size.

    python3 experiments/seq2seq_length.py --bin build/transformer --out docs/claims [--jobs 2] [--quick]

Trains each model with `transformer train` (one thread per run; --jobs runs that many at once),
reverses 50 test strings of every length 1..40 greedily with `transformer translate`, and writes
fixed_context_runs.csv, fixed_context_by_length.csv, the SVG plots and the generated block of
fixed_context.md. Models and logs stay in --work. `make claim-context` runs it pinned to CPU 0.
--quick: 300 steps, to try the pipeline. --plots-only: redo tables and plots from the CSV files.
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
PER_LENGTH = 50
BUCKET = 5

# name, label, model keys. Sizes chosen for similar parameter counts (375k-432k); the model
# without attention gets the widest state (d 160), so its fixed vector is not the smallest.
RUNS = [
    ("lstm-none", "LSTM, no attention (fixed context)",
     {"arch": "rnn", "rnn_cell": "lstm", "attention": "none", "d_model": 160,
      "encoder_layers": 1, "decoder_layers": 1, "max_len": 64}),
    ("lstm-dot", "LSTM + dot attention (Luong)",
     {"arch": "rnn", "rnn_cell": "lstm", "attention": "dot", "heads": 1, "d_model": 128,
      "encoder_layers": 1, "decoder_layers": 1, "max_len": 64}),
    ("lstm-additive", "LSTM + additive attention (Bahdanau)",
     {"arch": "rnn", "rnn_cell": "lstm", "attention": "additive", "heads": 1, "d_model": 128,
      "encoder_layers": 1, "decoder_layers": 1, "max_len": 64}),
    ("transformer", "Transformer (2+2 layers)",
     {"arch": "transformer", "d_model": 96, "heads": 4, "d_ff": 256,
      "encoder_layers": 2, "decoder_layers": 2, "max_len": 64}),
]
# The same budget with half the peak learning rate, for the Transformer only: at 0.002 its
# validation loss jumps about (0.03 at step 3,750, 0.45 at 4,000; post-norm layers without
# enough warm-up are known to be touchy), so this row tells a length effect from an
# optimisation one. Only the learning rate differs (steps, batch tokens and seed are the same).
EXTRA = [("transformer-lr1e-3", "Transformer, peak lr 0.001", RUNS[-1][2], {"lr": 0.001})]
EXTRA_NAMES = {e[0] for e in EXTRA}

# One training recipe for every model: Adam, inverse-square-root schedule (linear warm-up to
# the peak, then lr ~ 1/sqrt(step)), no label smoothing, gradient norm clipped at 1.
TRAIN = {"steps": 4000, "max_tokens": 2000, "schedule": "inverse_sqrt", "lr": 0.002, "warmup": 200,
         "label_smoothing": 0.0, "clip_norm": 1.0, "seed": 1, "validate_every": 250,
         "save_every": 1000, "log_every": 250}

RUNS_HEADER = ["name", "label", "params", "config", "lr", "train_wall_s", "train_cpu_s", "best_step",
               "best_valid_nll", "best_valid_acc", "decode_wall_s", "decode_cpu_s", "exact", "token"]
LEN_HEADER = ["name", "length", "n", "exact", "token", "length_ok"]
CURVE_HEADER = ["name", "step", "valid_nll", "valid_acc"]


def measure(a):
    exe, bin_sha, commit = snapshot_binary(a.bin, a.work)
    train = dict(TRAIN, steps=300 if a.quick else TRAIN["steps"])
    start = f"started {now()}; {machine()}"
    pairs, seen = make_data(a.work, 50000, 500, TRAIN_MAX, range(1, TRAIN_MAX + 1), PER_LENGTH)

    def one(name, model, more):
        def fn():
            rec = train_run(exe, a.work, name, model, dict(train, **more), 1, a.fresh)
            outs, wall, cpu = decode_run(exe, a.work, name, [s for s, _ in pairs], 1, beam=a.beam)
            return rec, score_by_length(pairs, outs), wall, cpu
        return fn

    all_runs = [(name, label, model, {}) for name, label, model in RUNS] + ([] if a.quick else EXTRA)
    results = run_parallel(a.jobs, [one(name, model, more) for name, _, model, more in all_runs])
    runs, by_len, curves = [], [], []
    for (name, label, model, more), (rec, by, wall, cpu) in zip(all_runs, results):
        tot = pooled(by, 1, TRAIN_MAX)
        cfg = " ".join(f"{k}={v}" for k, v in model.items())
        runs.append([name, label, rec["params"], cfg, rec["train"]["lr"], rec["train_wall_s"], rec["train_cpu_s"], rec["best_step"],
                     rec["best_valid_nll"], rec["best_valid_acc"], round(wall, 1), round(cpu, 1),
                     f"{tot['exact']:.4f}", f"{tot['token']:.4f}"])
        by_len += [[name, n, b["n"], f"{b['exact']:.4f}", f"{b['token']:.4f}", f"{b['length_ok']:.4f}"]
                   for n, b in by.items()]
        curves += [[name, *c] for c in rec["valid_curve"]]
    train_line = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in train.items())
    meta = [start, f"finished {now()}, load average {load_average()} at the end",
            f"binary sha256 {bin_sha}, checkout {commit} at the start; {a.jobs} run(s) at a time, 1 thread each",
            *kept_note([r[0] for r in results]),
            f"train: {train_line}; tokenizer char", f"decode: greedy" if a.beam == 1 else f"decode: beam {a.beam}",
            f"test: {PER_LENGTH} strings of each length 1..{TRAIN_MAX}, {seen} of them also in the training set"]
    write_csv(os.path.join(a.out, "fixed_context_runs.csv"), RUNS_HEADER, runs, meta)
    write_csv(os.path.join(a.out, "fixed_context_by_length.csv"), LEN_HEADER, by_len, meta)
    write_csv(os.path.join(a.out, "fixed_context_valid.csv"), CURVE_HEADER, curves, meta)


def analyse(a):
    runs = read_csv(os.path.join(a.out, "fixed_context_runs.csv"))
    rows = read_csv(os.path.join(a.out, "fixed_context_by_length.csv"))
    curves = read_csv(os.path.join(a.out, "fixed_context_valid.csv"))
    meta = csv_comments(os.path.join(a.out, "fixed_context_runs.csv"))
    labels = {r["name"]: r["label"] for r in runs}
    by = {}
    for r in rows:
        by.setdefault(r["name"], {})[int(r["length"])] = {"n": int(r["n"]), "exact": float(r["exact"]),
                                                           "token": float(r["token"]),
                                                           "length_ok": float(r["length_ok"])}
    lengths = sorted({int(r["length"]) for r in rows})
    top = lengths[-1]
    md = [f"Measured by `{a.command}`: " + "; ".join(meta) + ".", ""]

    md += ["### The runs", "",
           md_table(["model", "config (`--set`)", "parameters", "peak lr", "training: wall", "CPU",
                     "best validation nll (step)", "teacher-forced token accuracy", "decoding 2000 strings: wall"],
                    [[r["label"], f"`{r['config']}`", f"{int(r['params']):,}", r.get("lr") or TRAIN["lr"], fmt_time(float(r["train_wall_s"])),
                      fmt_time(float(r["train_cpu_s"])), f"{float(r['best_valid_nll']):.4f} ({r['best_step']})",
                      f"{float(r['best_valid_acc']):.2f}%", fmt_time(float(r["decode_wall_s"]))] for r in runs]), ""]

    buckets = [(lo, min(lo + BUCKET - 1, top)) for lo in range(1, top + 1, BUCKET)]
    for what, title in (("exact", "Exact match (whole output equals the reverse), %"),
                        ("token", "Per-token accuracy (output position i equals the reference's, over |reference|), %")):
        table = []
        for lo, hi in buckets:
            table.append([f"{lo}-{hi}"] + [pct(pooled(by[r["name"]], lo, hi)[what]) for r in runs])
        table.append([f"**all 1-{top}**"] + [f"**{pct(pooled(by[r['name']], 1, top)[what])}**" for r in runs])
        md += [f"### {title}, by input length", "",
               f"{PER_LENGTH} strings per length, so {PER_LENGTH * BUCKET} per row.", "",
               md_table(["length"] + [labels[r["name"]] for r in runs], table), ""]

    # The longest length each model still reverses exactly at least 90% / 50% of the time.
    def last_at(name, level):
        ok = [n for n in lengths if by[name][n]["exact"] >= level]
        return max(ok) if ok else 0
    md += ["### Where exact match falls", "",
           md_table(["model", "longest length with exact match >= 90%", ">= 50%",
                     "first length below 50%", "output of the right length, all lengths"],
                    [[labels[r["name"]], last_at(r["name"], 0.9), last_at(r["name"], 0.5),
                      next((n for n in lengths if by[r["name"]][n]["exact"] < 0.5), "none"),
                      pct(pooled(by[r["name"]], 1, top)["length_ok"])] for r in runs]), ""]

    note = f"{PER_LENGTH} test strings per length; greedy; trained on lengths 1-{top}; {a.command}"
    for what, ylabel, fname in (("exact", "exact match", "fixed_context_exact.svg"),
                                ("token", "per-token accuracy", "fixed_context_token.svg")):
        line_plot(os.path.join(a.out, fname),
                  [(labels[r["name"]], lengths, [by[r["name"]][n][what] for n in lengths],
                    {"dash": r["name"] in EXTRA_NAMES}) for r in runs],
                  title=f"String reversal: {ylabel} against input length", xlabel="input length (letters)",
                  ylabel=ylabel, ylim=(0, 1.0), note=note)
    series = []
    for r in runs:
        pts = [(int(c["step"]), float(c["valid_nll"])) for c in curves if c["name"] == r["name"]]
        series.append((labels[r["name"]], [p[0] for p in pts], [p[1] for p in pts],
                       {"dash": r["name"] in EXTRA_NAMES}))
    line_plot(os.path.join(a.out, "fixed_context_valid.svg"), series,
              title="Validation loss during training (lengths 1-40)", xlabel="step",
              ylabel="nll per target token (nats)", logy=True, note=a.command)
    return "\n".join(md)


def main():
    claim_main(__doc__, "build-claims/context", "make claim-context", "fixed_context.md", "experiments/seq2seq_length.py", measure, analyse)


if __name__ == "__main__":
    main()
