"""What the training claims (seq2seq_length.py, positions.py) share: the string-reversal task,
training and decoding with the CLI one run per process, and scoring by input length.
Python 3 standard library only.

The task: a source of random lowercase letters (26), the target its reverse. Each model is
trained by `transformer train` from the same files with the same seed, and tested by
`transformer translate` (greedy unless told) on strings of every length.

Each run keeps its model directory and a run.json (times, parameters, validation curve) under
the work folder; a run whose run.json exists is not trained again unless --fresh.
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import time

from claims import log, replace_generated

ALPHABET = "abcdefghijklmnopqrstuvwxyz"


# ---------------------------------------------------------------- data

def reversal_pairs(seed, lengths):
    """One (source, reverse) pair per entry of `lengths`, letters drawn with random.Random(seed)."""
    r = random.Random(seed)
    out = []
    for n in lengths:
        s = "".join(r.choice(ALPHABET) for _ in range(n))
        out.append((s, s[::-1]))
    return out


def uniform_lengths(seed, count, lo, hi):
    r = random.Random(seed)
    return [r.randint(lo, hi) for _ in range(count)]


def write_tsv(path, pairs):
    with open(path, "w", encoding="utf-8") as f:
        for s, t in pairs:
            f.write(f"{s}\t{t}\n")


def make_data(work, train_count, valid_count, train_max, test_lengths, per_length):
    """Writes train.tsv (lengths uniform in 1..train_max, seed 1), valid.tsv (the same
    distribution, seed 2; the checkpoint kept is the best on it) and test.tsv (per_length strings
    of each length in test_lengths, seed 3). Returns the test pairs and how many test sources also
    occur in the training set (unavoidable for the shortest lengths: 26 strings of length 1)."""
    os.makedirs(work, exist_ok=True)
    train = reversal_pairs(1, uniform_lengths(11, train_count, 1, train_max))
    valid = reversal_pairs(2, uniform_lengths(12, valid_count, 1, train_max))
    test = reversal_pairs(3, [n for n in test_lengths for _ in range(per_length)])
    write_tsv(os.path.join(work, "train.tsv"), train)
    write_tsv(os.path.join(work, "valid.tsv"), valid)
    write_tsv(os.path.join(work, "test.tsv"), test)
    seen = {s for s, _ in train}
    return test, sum(s in seen for s, _ in test)


# ---------------------------------------------------------------- processes

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def snapshot_binary(bin_path, work):
    """Copies the CLI into the work folder, so a rebuild of the original during the hour of runs
    cannot mix two binaries; returns (copy, sha256 prefix, git commit of the checkout)."""
    os.makedirs(os.path.join(work, "bin"), exist_ok=True)
    dst = os.path.join(work, "bin", "transformer")
    shutil.copy2(bin_path, dst)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "src", "apps"],
                               capture_output=True, text=True).stdout.strip()
        commit += " (src/ or apps/ modified)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    built = datetime.datetime.fromtimestamp(os.path.getmtime(bin_path), datetime.timezone.utc)
    return dst, f"{sha256(dst)[:12]} ({bin_path} of {built:%Y-%m-%d %H:%M} UTC)", commit


def run_timed(argv, threads, stdin_path=None, stdout_path=None, stderr_path=None):
    """Runs argv to completion; returns (wall seconds, CPU seconds user + system of the child).
    OMP_WAIT_POLICY=passive: on a shared core spinning OpenMP threads waste time (README)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="passive")
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    fout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    ferr = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    try:
        start = time.monotonic()
        p = subprocess.Popen(list(map(str, argv)), stdin=fin, stdout=fout, stderr=ferr, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for f in (fin, fout, ferr):
            if hasattr(f, "close"):
                f.close()
    if p.returncode != 0:
        tail = ""
        if stderr_path:
            with open(stderr_path, encoding="utf-8", errors="replace") as f:
                tail = f.read()[-2000:]
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({p.returncode}): {tail}")
    return wall, usage.ru_utime + usage.ru_stime


def model_args(model):
    """--set KEY=VALUE for each key of a run's model config."""
    out = []
    for k, v in model.items():
        out += ["--set", f"{k}={v}"]
    return out


def train_args(train):
    out = []
    for k, v in train.items():
        out += [f"--{k.replace('_', '-')}", v]
    return out


VALID_RE = re.compile(r"^valid step (\d+): loss (\S+) nll (\S+) accuracy (\S+)%")


def train_run(exe, work, name, model, train, threads, fresh=False):
    """Trains one model (work/name) and returns its run record (also saved as run.json)."""
    d = os.path.join(work, name)
    rec_path = os.path.join(d, "run.json")
    if not fresh and os.path.exists(rec_path):
        with open(rec_path, encoding="utf-8") as f:
            rec = json.load(f)
        if rec.get("model") == model and rec.get("train") == train and rec.get("threads") == threads:
            log(f"{name}: trained before ({rec_path}), kept")
            return dict(rec, kept=True)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    argv = [exe, "--threads", threads, "train", "--model", d,
            "--train-tsv", os.path.join(work, "train.tsv"), "--valid-tsv", os.path.join(work, "valid.tsv"),
            "--tokenizer", "char", *model_args(model), *train_args(train)]
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    log(f"{name}: training ({' '.join(map(str, argv[1:]))})")
    wall, cpu = run_timed(argv, threads, stdout_path=os.path.join(d, "train.out"),
                          stderr_path=os.path.join(d, "train.log"))
    curve = []
    with open(os.path.join(d, "train.log"), encoding="utf-8") as f:
        for line in f:
            m = VALID_RE.match(line.strip())
            if m:
                curve.append([int(m[1]), float(m[3]), float(m[4])])
    info = subprocess.run([exe, "info", "--model", d], capture_output=True, text=True, check=True).stdout
    params = int(re.search(r"parameters: (\d+)", info)[1])
    best = min(curve, key=lambda c: c[1]) if curve else [None, None, None]
    rec = {"name": name, "model": model, "train": train, "threads": threads, "started": started,
           "cpus": ",".join(map(str, sorted(os.sched_getaffinity(0)))), "params": params,
           "train_wall_s": round(wall, 1), "train_cpu_s": round(cpu, 1), "valid_curve": curve,
           "best_step": best[0], "best_valid_nll": best[1], "best_valid_acc": best[2]}
    with open(rec_path, "w", encoding="utf-8") as f:
        json.dump(rec, f, indent=1)
    log(f"{name}: {params} parameters, {wall:.0f} s wall, {cpu:.0f} s CPU, best valid nll {best[1]} "
        f"(teacher-forced token accuracy {best[2]}%) at step {best[0]}")
    return rec


def decode_run(exe, work, name, sources, threads, beam=1, ratio=2.0, extra=10, batch=64):
    """Translates the sources with work/name; returns (outputs, wall, cpu)."""
    d = os.path.join(work, name)
    src = os.path.join(work, "test.src")
    with open(src, "w", encoding="utf-8") as f:
        f.writelines(s + "\n" for s in sources)
    hyp = os.path.join(d, f"test.beam{beam}.hyp")
    argv = [exe, "--threads", threads, "translate", "--model", d, "--beam", beam, "--batch", batch,
            "--max-len-ratio", ratio, "--max-len-extra", extra]
    wall, cpu = run_timed(argv, threads, stdin_path=src, stdout_path=hyp,
                          stderr_path=os.path.join(d, "translate.log"))
    with open(hyp, encoding="utf-8") as f:
        outs = [line.rstrip("\n") for line in f]
    if len(outs) != len(sources):
        raise RuntimeError(f"{hyp}: {len(outs)} lines for {len(sources)} sources")
    return outs, wall, cpu


def kept_note(recs):
    """A line for the CSV comments naming the runs trained by an earlier invocation."""
    by = {}
    for r in recs:
        if r.get("kept"):
            by.setdefault(r.get("invocation") or f"from {r.get('started', '?')} on CPUs {r.get('cpus', '?')}",
                          []).append(r["name"])
    return [f"trained by an earlier invocation and kept ({when}): {', '.join(names)}" for when, names in by.items()]


# ---------------------------------------------------------------- scores

def token_accuracy(hyp, ref):
    """Target positions i < |ref| where the output has the reference's symbol, over |ref|: a
    missing or extra symbol shifts nothing (reversal has one right symbol per position), and
    output beyond |ref| is not counted here (see length_ok)."""
    return sum(1 for a, b in zip(hyp, ref) if a == b) / len(ref)


def score_by_length(pairs, outs):
    """{length: dict(n, exact, token, length_ok)} with the fractions over that length's strings."""
    by = {}
    for (s, t), h in zip(pairs, outs):
        b = by.setdefault(len(s), {"n": 0, "exact": 0, "token": 0.0, "length_ok": 0})
        b["n"] += 1
        b["exact"] += h == t
        b["token"] += token_accuracy(h, t)
        b["length_ok"] += len(h) == len(t)
    for b in by.values():
        for k in ("exact", "token", "length_ok"):
            b[k] /= b["n"]
    return dict(sorted(by.items()))


def pooled(by_length, lo, hi):
    """Fractions over all strings with lo <= length <= hi (each length weighted by its count)."""
    rows = [b for n, b in by_length.items() if lo <= n <= hi]
    n = sum(b["n"] for b in rows)
    if n == 0:
        return None
    return {k: sum(b[k] * b["n"] for b in rows) / n for k in ("exact", "token", "length_ok")} | {"n": n}


def pct(x, digits=1):
    return "n/a" if x is None else f"{100 * x:.{digits}f}"


def fmt_time(s):
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.0f} s"


def run_parallel(jobs, fns):
    """Calls each fn (no arguments) with at most `jobs` at a time; results in order. The work
    is in child processes, so threads suffice."""
    if jobs <= 1:
        return [fn() for fn in fns]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        return list(ex.map(lambda fn: fn(), fns))


# ---------------------------------------------------------------- entry point

def claim_main(doc, work, command, page, script, measure, analyse):
    """The command line both training claims share: measure (unless --plots-only), analyse, and
    write the generated block of docs page `page` (a file name under --out)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/transformer")
    ap.add_argument("--out", default="docs/claims")
    ap.add_argument("--work", default=work, help="data, models and logs")
    ap.add_argument("--jobs", type=int, default=1, help="training runs at a time (1 thread each)")
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="300 steps, to try the pipeline")
    ap.add_argument("--fresh", action="store_true", help="train again even where run.json exists")
    ap.add_argument("--plots-only", action="store_true", help="re-analyse the CSV files already written")
    ap.add_argument("--command", default=command, help="the command named on the page")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if not a.plots_only:
        measure(a)
    text = analyse(a)
    replace_generated(os.path.join(a.out, page), script, text)
    log(text)
