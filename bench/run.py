#!/usr/bin/env python3
"""Runs our engine (bench_engine) and PyTorch (torch_bench.py) on the same configs, weights,
batches and thread counts, alternating, several repetitions each; prints medians and the ratio
ours/PyTorch, checks the targets of issue 4 (PASS/MISS, never a failure) and writes
bench/RESULTS.md. Standard library only: runs with any python3. See bench/README.md.

    bench/run.py [--quick] [--build DIR] [--threads 1,2] [--reps N] [--configs g2p,base] [--points CFG:NAME,...]
                 [--results FILE] [--smoke] [--dry-run]
"""
import argparse, datetime, json, os, platform, re, shlex, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Issue 4's targets, all at 2 threads.
TARGETS = {
    ("g2p", "train"): 1.5, ("base", "train"): 1.2,
    "greedy1": 5.0, "beam4": 2.0, "greedy64": 2.0,
    "base_train_utilisation": 0.60,
}
DECODE_LENGTH = 24  # output tokens, forced: every sentence decodes exactly this many steps
TUNE_ROUNDS = 2  # runs per thread setting when choosing one (see 4a in main)


class Measure:
    """One point of the benchmark: a config, a mode and the options of one process; `tune`: the
    shorter options of the runs that choose thread settings; `tune_from`: reuse the settings
    chosen for another point (name) instead of trying them again."""

    def __init__(self, config, name, kind, params, tune, title, tune_from=None, threads=None):
        self.config, self.name, self.kind, self.params, self.title = config, name, kind, params, title
        self.tune, self.tune_from, self.threads = tune, tune_from, threads


def plan(mode, configs):
    """The measurements of a mode (full, quick, smoke), in order."""
    def train(cfg, file, warmup, steps, title, tune_from=None, threads=None):
        return Measure(cfg, "train_" + file.split("_")[1].split(".")[0], "train",
                       {"data": file, "warmup": warmup, "steps": steps},
                       {"data": file, "warmup": 1, "steps": max(1, min(steps, 4))}, title, tune_from, threads)

    def decode(cfg, name, batch, beam, iters, warmup, title):
        p = {"batch": batch, "beam": beam, "length": DECODE_LENGTH, "iters": iters, "warmup": warmup}
        return Measure(cfg, name, "decode", p, dict(p, iters=max(1, iters // 2)), title)

    out = []
    if mode == "smoke":  # plumbing only: the smallest runs of every kind
        out += [train("g2p", "train_fixed.txt", 1, 2, "g2p training, 64 x 24"),
                decode("g2p", "greedy1", 1, 1, 3, 1, "g2p greedy, batch 1"),
                decode("g2p", "greedy64", 64, 1, 1, 0, "g2p greedy, batch 64"),
                decode("g2p", "beam4", 32, 4, 1, 0, "g2p beam 4, batch 32"),
                train("base", "train_fixed.txt", 0, 1, "base training, 128 x 32")]
    elif mode == "quick":  # g2p, and one base training point (2 threads, g2p training's thread settings)
        out += [train("g2p", "train_fixed.txt", 1, 5, "g2p training, 64 x 24"),
                decode("g2p", "greedy1", 1, 1, 10, 2, "g2p greedy, batch 1 (latency)"),
                decode("g2p", "greedy64", 64, 1, 2, 1, "g2p greedy, batch 64"),
                decode("g2p", "beam4", 32, 4, 1, 1, "g2p beam 4, batch 32"),
                train("base", "train_fixed.txt", 1, 1, "base training, 128 x 32", tune_from="g2p train_fixed",
                      threads=[2])]
    else:
        out += [train("g2p", "train_fixed.txt", 2, 16, "g2p training, 64 x 24"),
                train("g2p", "train_words.txt", 2, 16, "g2p training, word-like, ~3k target tokens"),
                decode("g2p", "greedy1", 1, 1, 20, 2, "g2p greedy, batch 1 (latency)"),
                decode("g2p", "greedy64", 64, 1, 6, 1, "g2p greedy, batch 64"),
                decode("g2p", "beam4", 32, 4, 4, 1, "g2p beam 4, batch 32"),
                train("base", "train_fixed.txt", 1, 4, "base training, 128 x 32"),
                decode("base", "greedy1", 1, 1, 20, 2, "base greedy, batch 1 (latency)"),
                decode("base", "greedy64", 64, 1, 4, 1, "base greedy, batch 64"),
                decode("base", "beam4", 32, 4, 2, 1, "base beam 4, batch 32")]
    return [m for m in out if m.config in configs]


def candidates(side, n, smoke):
    """Thread settings tried at n threads: name -> (threads for the process, extra environment).
    PyTorch: its OpenMP pool (torch.set_num_threads) and OpenBLAS's own pthread pool
    (OPENBLAS_NUM_THREADS, where Debian's torch does fp32 GEMMs), and whether idle OpenMP
    threads spin (the default for a while) or sleep (OMP_WAIT_POLICY=passive)."""
    policies = ["passive"] if smoke or n == 1 else ["default", "passive"]
    out = {}
    for pol in policies:
        env = {} if pol == "default" else {"OMP_WAIT_POLICY": pol}
        if side == "ours":
            out[f"omp{n}-{pol}"] = (n, dict(env))
        else:
            for t, b in sorted({(n, n), (n, 1), (1, n)}, reverse=True):
                if n > 1 and pol == "default" and (t, b) == (1, n):
                    continue  # one OpenMP thread never waits: the policy does not matter there
                out[f"torch{t}-openblas{b}-{pol}"] = (t, dict(env, OPENBLAS_NUM_THREADS=str(b)))
    return out


class Runner:
    def __init__(self, a):
        self.a = a
        self.engine = os.path.join(a.build, "bench_engine")
        self.torch_py = [a.python, os.path.join(HERE, "torch_bench.py")]
        self.log = []

    def run(self, argv, env_extra, threads, label):
        env = dict(os.environ)
        for k in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.pop(k, None)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        env.update(env_extra)
        if self.a.force_passive:
            env["OMP_WAIT_POLICY"] = "passive"
        shown = " ".join(f"{k}={v}" for k, v in sorted(env_extra.items())) + " " + " ".join(map(shlex.quote, argv))
        if self.a.dry_run:
            print("  would run:", shown.strip())
            return {}
        t0 = time.time()
        p = subprocess.run(argv, env=env, capture_output=True, text=True)
        wall = time.time() - t0
        if p.returncode != 0:
            msg = (p.stderr.strip() or p.stdout.strip()).splitlines()[-1:] or ["?"]
            print(f"  FAILED ({label}): {shown.strip()}\n    {msg[0]}", flush=True)
            return {"error": msg[0]}
        out = json.loads(p.stdout.strip().splitlines()[-1])
        out["wall_seconds"] = wall
        self.log.append({"label": label, "command": shown.strip(), "result": out})
        return out

    def ours(self, cmd, opts, threads=None, env=None, label=""):
        argv = [self.engine, cmd] + [x for k, v in opts.items() for x in (f"--{k}", str(v))]
        if threads:
            argv += ["--threads", str(threads)]
        return self.run(argv, env or {}, threads, label)

    def torch(self, cmd, opts, threads=None, env=None, label=""):
        argv = self.torch_py + [cmd] + [x for k, v in opts.items() for x in (f"--{k}", str(v))]
        if threads:
            argv += ["--threads", str(threads)]
        return self.run(argv, env or {}, threads, label)


# ---- metrics ----

def tokens_per_second(m, r):
    """What a result is worth: target tokens/s for training, output tokens/s for decoding
    (batch 1: from the median latency of a sentence)."""
    if not r or "error" in r:
        return None
    if m.kind == "train":
        return sum(r["target_tokens"]) / sum(r["step_seconds"])
    per_iter = r["batch"] * r["length"]
    if r["batch"] == 1:
        return per_iter / statistics.median(r["iter_seconds"])
    return per_iter * len(r["iter_seconds"]) / sum(r["iter_seconds"])


def median_or_none(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    """Half the range of xs over its median: how far the repetitions disagree."""
    xs = [x for x in xs if x is not None]
    return (max(xs) - min(xs)) / 2 / statistics.median(xs) if len(xs) > 1 and statistics.median(xs) else None


def fmt(x, digits=1):
    return "-" if x is None else f"{x:,.{digits}f}"


def machine_info():
    info = {}
    with open("/proc/cpuinfo") as f:
        text = f.read()
    m = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    info["cpu"] = m.group(1) if m else platform.processor()
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    flags = set(flags.group(1).split()) if flags else set()
    info["avx512_bf16"] = "avx512_bf16" in flags
    info["avx512f"] = "avx512f" in flags
    info["cores"] = os.cpu_count()
    info["loadavg"] = open("/proc/loadavg").read().split()[:3]

    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO).stdout.strip()
        except OSError:
            return ""
    info["commit"] = sh(["git", "rev-parse", "--short=12", "HEAD"])
    changed = sh(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "bench", "CMakeLists.txt"])
    info["dirty"] = len(changed.splitlines())
    info["blas"] = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    info["onednn"] = sh(["dpkg-query", "-W", "-f=${Version}", "libdnnl-dev"])
    info["torch"] = sh(["dpkg-query", "-W", "-f=${Version}", "python3-torch"])
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return info


def sources_of_engine():
    """The files bench_engine is built from: the library's sources, its own, the build's rules."""
    out = [os.path.join(REPO, "CMakeLists.txt"), os.path.join(HERE, "bench_engine.cpp")]
    for root, _, files in os.walk(os.path.join(REPO, "src")):
        out += [os.path.join(root, f) for f in files if f.endswith((".cpp", ".h"))]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="g2p plus one base training point, fewer reps (minutes)")
    ap.add_argument("--smoke", action="store_true", help="plumbing check: tiny runs, 1 thread, 1 rep; "
                    "results go to the work folder, not bench/RESULTS.md")
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="the CMake build folder with bench_engine")
    ap.add_argument("--work", help="where models and data go (default BUILD/bench-work)")
    ap.add_argument("--threads", help="thread counts, e.g. 1,2 (default 1,2; --smoke: 1)")
    ap.add_argument("--reps", type=int, help="processes per side and point (default 5; --quick 3; --smoke 1)")
    ap.add_argument("--configs", help="g2p,base (default both)")
    ap.add_argument("--results", help="the report (default bench/RESULTS.md)")
    ap.add_argument("--python", default=os.environ.get("TFM_TORCH_PYTHON", "/usr/bin/python3"),
                    help="the python3 with torch (default /usr/bin/python3)")
    ap.add_argument("--gemm-n", type=int, default=4096, help="the size of the square GEMM (default 4096)")
    ap.add_argument("--force-passive", action="store_true",
                    help="OMP_WAIT_POLICY=passive for every process (a shared machine)")
    ap.add_argument("--points", help="only these points of the mode, as config:name, comma-separated (names: "
                    "train_fixed, train_words, greedy1, greedy64, beam4), e.g. base:greedy64,g2p:greedy1")
    ap.add_argument("--dry-run", action="store_true", help="print the processes, run nothing")
    ap.add_argument("--built-from", help="the commit BUILD's bench_engine was built from, when it is a clean export "
                    "(git archive) rather than this working tree; recorded in the report")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.work = os.path.abspath(a.work or os.path.join(a.build, "bench-work"))
    threads = [int(t) for t in (a.threads or ("1" if a.smoke else "1,2")).split(",")]
    reps = a.reps or (1 if a.smoke else 3 if a.quick else 5)
    configs = (a.configs or "g2p,base").split(",")
    results_path = a.results or (os.path.join(a.work, "RESULTS-smoke.md") if a.smoke else os.path.join(HERE, "RESULTS.md"))
    mode = "smoke" if a.smoke else "quick" if a.quick else "full"
    def shown(arg):  # paths inside the repository, relative to it: the command is run from its root
        p = os.path.abspath(arg)
        return os.path.relpath(p, REPO) if os.path.exists(p) and p.startswith(REPO + os.sep) else arg
    command = "bench/run.py " + " ".join(shlex.quote(shown(x)) for x in sys.argv[1:])

    if not a.dry_run and not os.path.isfile(os.path.join(a.build, "bench_engine")):
        sys.exit(f"run.py: {a.build}/bench_engine not found; build it (make bench, or cmake --build {a.build} "
                 "--target bench_engine)")
    if not a.dry_run and not a.built_from:
        # The report names the checkout's commit: a binary older than its sources would be
        # credited with changes it does not contain.
        built = os.path.getmtime(os.path.join(a.build, "bench_engine"))
        newer = [os.path.relpath(f, REPO) for f in sources_of_engine() if os.path.getmtime(f) > built]
        if newer:
            sys.exit(f"run.py: {a.build}/bench_engine is older than {newer[0]}"
                     f"{f' and {len(newer) - 1} more source file(s)' if len(newer) > 1 else ''}; rebuild it "
                     f"(cmake --build {a.build} --target bench_engine) so the report's commit is what runs")
    R = Runner(a)
    info = machine_info()
    started = time.time()
    print(f"benchmark ({mode}): threads {threads}, {reps} reps, configs {configs}; {info['cpu']}, "
          f"load average {' '.join(info['loadavg'])}", flush=True)

    # 1. Models and workloads: written by our side, read by both.
    dirs = {}
    for cfg in configs:
        dirs[cfg] = os.path.join(a.work, cfg)
        R.ours("init", {"config": cfg, "out": dirs[cfg]}, label=f"init {cfg}")

    measures = plan(mode, configs)
    if a.points:
        known = {f"{m.config}:{m.name}" for m in measures}
        wanted = set(a.points.split(","))
        if wanted - known:
            sys.exit(f"run.py: --points {','.join(sorted(wanted - known))}: not a point of the {mode} mode with configs "
                     f"{','.join(configs)}; its points are {','.join(sorted(known))}")
        measures = [m for m in measures if f"{m.config}:{m.name}" in wanted]

    # 2. Sanity: same model, same batches on both sides.
    sanity = []
    for cfg in configs:
        for data in sorted({m.params["data"] for m in measures if m.config == cfg and m.kind == "train"}):
            opts = {"model": dirs[cfg], "data": os.path.join(dirs[cfg], data)}
            o = R.ours("check", opts, threads=1, label="check")
            t = R.torch("check", opts, threads=1, env={"OPENBLAS_NUM_THREADS": "1"}, label="check")
            lo, lt = o.get("loss_no_dropout"), t.get("loss_no_dropout")
            diff = abs(lo - lt) if lo is not None and lt is not None else None
            sanity.append((f"{cfg} {data}: first-batch loss, no dropout", f"ours {fmt(lo, 6)}, PyTorch {fmt(lt, 6)}",
                           diff is not None and diff <= 1e-4 * max(1.0, abs(lt))))
            print(f"  sanity {cfg} {data}: loss ours {lo}, PyTorch {lt}", flush=True)
        if any(m.config == cfg and m.kind == "decode" for m in measures):
            opts = {"model": dirs[cfg], "src": os.path.join(dirs[cfg], "decode_src.txt"), "batch": 8,
                    "length": DECODE_LENGTH}
            t = R.torch("check-decode", opts, threads=1, env={"OPENBLAS_NUM_THREADS": "1"}, label="check-decode")
            d = t.get("max_abs_logprob_diff")
            sanity.append((f"{cfg}: PyTorch KV-cache decoder vs re-running the decoder", f"max |diff| {fmt(d, 7)}",
                           d is not None and d <= 1e-3))
            print(f"  sanity {cfg}: PyTorch KV cache vs recompute, max |diff| {d}", flush=True)

    # 3. The GEMM rate FLOP utilisation is measured against (and PyTorch's, for comparison): a
    # ceiling, so the fastest multiplication seen, over both wait policies, now and again at the
    # end of the run (this machine's speed drifts; one slow phase must not lower the ceiling).
    gemm = {n: [[], []] for n in threads}  # n -> [our rates, PyTorch's rates]

    def measure_gemm():
        iters = 3 if a.smoke else 5
        best = lambda r: r["flops"] / min(r["iter_seconds"]) if r and "error" not in r else None
        for n in threads:
            for env in ({}, {"OMP_WAIT_POLICY": "passive"}):
                gemm[n][0].append(best(R.ours("gemm", {"n": a.gemm_n, "iters": iters}, threads=n, env=env, label="gemm")))
            g = R.torch("gemm", {"n": a.gemm_n, "iters": iters}, threads=n,
                        env={"OMP_WAIT_POLICY": "passive", "OPENBLAS_NUM_THREADS": str(n)}, label="gemm")
            gemm[n][1].append(best(g))
            if g and "blas" in g:
                info["torch_blas_loaded"] = g["blas"]

    # 3b. The read rate of a buffer the size of a decoding step's weights: what one-sentence
    # decoding, which reads every weight once a step, is bound by (main memory when the weights
    # are larger than this machine's share of the L3 cache, the cache when they are not).
    step_bytes = {cfg: step_weight_bytes(os.path.join(dirs[cfg], "config.json")) for cfg in configs
                  if any(m.config == cfg and m.kind == "decode" and m.params["batch"] == 1 for m in measures)}
    bandwidth = {}  # (cfg, threads) -> fastest bytes/s seen

    def measure_bandwidth():
        for cfg, nbytes in step_bytes.items():
            mib = max(1, round(nbytes / 2**20))
            for n in threads:
                r = R.ours("bandwidth", {"mib": mib, "iters": 20}, threads=n, label="bandwidth")
                if r and "error" not in r:
                    bw = r["bytes"] / min(r["iter_seconds"])
                    bandwidth[(cfg, n)] = max(bandwidth.get((cfg, n), 0), bw)
    measure_bandwidth()

    def gemm_rate(n, side):
        return max((x for x in gemm[n][side] if x), default=None)
    measure_gemm()
    for n in threads:
        print(f"  GEMM {a.gemm_n}^3 at {n} thread(s): ours {fmt(gemm_rate(n, 0) and gemm_rate(n, 0) / 1e9)} GFLOP/s, "
              f"PyTorch {fmt(gemm_rate(n, 1) and gemm_rate(n, 1) / 1e9)} GFLOP/s", flush=True)

    # Training FLOPs of each batch, by the convention of models/flops.h.
    flops = {}
    for m in measures:
        if m.kind == "train" and (m.config, m.params["data"]) not in flops:
            flops[(m.config, m.params["data"])] = R.ours(
                "flops", {"model": dirs[m.config], "data": os.path.join(dirs[m.config], m.params["data"])}, label="flops")

    # 4. The measurements.
    rows, tuning, settings = [], [], {}
    for m in measures:
        d = dirs[m.config]

        def options(params):
            o = dict({"model": d}, **params)
            if m.kind == "train":
                o["data"] = os.path.join(d, o["data"])
            else:
                o["src"] = os.path.join(d, "decode_src.txt")
            return o
        opts, tune_opts = options(m.params), options(m.tune)
        cmd, torch_variants = ("train", [None]) if m.kind == "train" else ("decode", ["kvcache", "recompute"])
        for n in threads:
            if m.threads and n not in m.threads:
                continue
            key = f"{m.config} {m.name} {n}t"
            print(f"{m.title}, {n} thread(s):", flush=True)
            # 4a. Thread settings: each candidate once, on shorter runs, ranked. The repetitions
            # then run our best and PyTorch's best `keep` (one run per setting is at the mercy of
            # this machine's drift, and PyTorch's best two are often close); each loop's number
            # is the better median. A point with tune_from takes the ranking of that point.
            # PyTorch decoding is ranked on the KV-cache loop; its re-run loop uses the first.
            ranked = {}
            for side in ("ours", "torch"):
                cands = candidates(side, n, a.smoke or a.force_passive)
                reuse = settings.get((f"{m.tune_from} {n}t", side)) if m.tune_from else None
                if reuse:
                    ranked[side] = [x for x in reuse if x in cands]
                    continue
                if len(cands) == 1 or a.dry_run:
                    ranked[side] = list(cands)
                    continue
                # Two rounds, the second in reverse order; a setting is ranked by the better of its
                # two runs. One run a setting let a single slow process decide: base batch 64 once
                # kept the passive policy for our side at 678 against 545 tokens/s, where two
                # processes each by hand gave 936/927 for the default and 322/323 for passive.
                seen = {name: [] for name in cands}
                for rnd in range(TUNE_ROUNDS):
                    for name in (list(cands) if rnd % 2 == 0 else list(reversed(cands))):
                        t, env = cands[name]
                        o = dict(tune_opts, variant="kvcache") if side == "torch" and cmd == "decode" else tune_opts
                        r = (R.ours if side == "ours" else R.torch)(cmd, o, threads=t, env=env, label=f"tune {key}")
                        seen[name].append(tokens_per_second(m, r) or 0.0)
                        print(f"  tune {side:5s} {name:28s} {fmt(seen[name][-1])} tokens/s", flush=True)
                tried = [(max(v), name, v) for name, v in seen.items()]
                ranked[side] = [name for _, name, _ in sorted(tried, reverse=True)]
                tuning.append((key, side, tried, ranked[side][0]))
            for side in ranked:
                settings[(key, side)] = ranked[side]
            keep = 2 if mode == "full" or m.tune_from else 1
            # 4b. Repetitions, rotating which run goes first. PyTorch's re-run-the-decoder loop
            # runs once when it decodes a batch (there it is several times slower than its
            # KV-cache loop, so never the one compared against); at batch 1 every repetition.
            primary = torch_variants[0]
            runs = [("ours", None, ranked["ours"][0])]
            runs += [("torch", primary, name) for name in ranked["torch"][:keep]]
            runs += [("torch", v, ranked["torch"][0]) for v in torch_variants[1:]]
            res = {r: [] for r in runs}
            for rep in range(reps):
                k = rep % len(runs)
                for side, variant, name in runs[k:] + runs[:k]:
                    if variant == "recompute" and m.params["batch"] > 1 and res[(side, variant, name)]:
                        continue
                    t, env = candidates(side, n, a.smoke or a.force_passive)[name]
                    o = dict(opts, variant=variant) if variant else opts
                    probe = None
                    if m.kind == "train" and side == "ours":
                        # The GEMM rate of this minute, just before the process, with its threads
                        # and wait policy: the host's speed drifts, and a training median from a
                        # slow window against a ceiling from a fast one understates utilisation.
                        g = R.ours("gemm", {"n": a.gemm_n, "iters": 2 if a.smoke else 3}, threads=t, env=env,
                                   label=f"{key} rep {rep} gemm probe")
                        if g and "error" not in g:
                            probe = g["flops"] / min(g["iter_seconds"])
                            gemm[n][0].append(probe)  # one more sample of the ceiling
                    r = (R.ours if side == "ours" else R.torch)(cmd, o, threads=t, env=env, label=f"{key} rep {rep}")
                    if probe and r and "error" not in r:
                        r["gemm_probe_flops_s"] = probe
                    res[(side, variant, name)].append(r)
            row = {"measure": m, "threads": n, "chosen": {}}
            for (side, variant, name), rs in res.items():
                good = [r for r in rs if r and "error" not in r]
                summary = {
                    "setting": name,
                    "tps": median_or_none([tokens_per_second(m, r) for r in good]),
                    "spread": spread([tokens_per_second(m, r) for r in good]),
                    "peak": median_or_none([r.get("peak_rss_mib") for r in good]),
                    "start": median_or_none([r.get("rss_start_mib") for r in good]),
                    "latency_ms": median_or_none([1e3 * statistics.median(r["iter_seconds"]) for r in good])
                    if m.kind == "decode" else None,
                    "step_s": median_or_none([statistics.median(r["step_seconds"]) for r in good])
                    if m.kind == "train" else None,
                    "first": good[0] if good else None,
                    "errors": len(rs) - len(good),
                }
                row.setdefault("settings_measured", []).append((side, variant, name, summary["tps"]))
                old = row.get((side, variant))
                if old is None or (summary["tps"] or 0) > (old["tps"] or 0):
                    row[(side, variant)] = summary
                    if variant in (None, primary):
                        row["chosen"][side] = name
            torch_best = max((row[("torch", v)] for v in torch_variants), key=lambda x: x["tps"] or 0)
            row["torch_best"] = torch_best
            ours = row[("ours", None)]
            row["ratio"] = ours["tps"] / torch_best["tps"] if ours["tps"] and torch_best["tps"] else None
            if m.kind == "train":
                f = flops.get((m.config, m.params["data"]), {})
                if f and ours["first"]:
                    nb = len(f["train_flops"])
                    r0 = ours["first"]
                    idx = [i % nb for i in range(r0["warmup"], r0["warmup"] + r0["steps"])]
                    step_flops = sum(f["train_flops"][i] for i in idx) / len(idx)
                    step_tokens = sum(f["target_tokens"][i] for i in idx) / len(idx)
                    row["flops_per_step"] = step_flops
                    row["flops_per_token"] = step_flops / step_tokens
                    for side in [("ours", None), ("torch", None)]:
                        tps = row[side]["tps"]
                        row[side]["flops_s"] = tps * step_flops / step_tokens if tps else None
                    # Each of our processes against the GEMM measured just before it.
                    mine = [r for r in res[runs[0]] if r and "error" not in r and r.get("gemm_probe_flops_s")]
                    row["paired_utilisation"] = median_or_none(
                        [tokens_per_second(m, r) * step_flops / step_tokens / r["gemm_probe_flops_s"] for r in mine])
                    # Same work: both sides trained on the same batches.
                    tt = row[("torch", None)]["first"]
                    row["same_tokens"] = bool(tt) and tt["target_tokens"] == r0["target_tokens"]
                    row["first_losses"] = (r0["losses"][0], tt["losses"][0] if tt else None)
            rows.append(row)
            print(f"  => ours {fmt(ours['tps'])} tokens/s, PyTorch best {fmt(torch_best['tps'])} tokens/s, "
                  f"ratio {fmt(row['ratio'], 2)}; peak MiB ours {fmt(ours['peak'], 0)}, "
                  f"PyTorch {fmt(torch_best['peak'], 0)}; settings {row['chosen']}", flush=True)

    if a.dry_run:
        return
    measure_gemm()
    measure_bandwidth()
    ceiling = {n: (gemm_rate(n, 0), gemm_rate(n, 1)) for n in threads}
    floors = {key: (step_bytes[key[0]], bw) for key, bw in bandwidth.items()}
    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    info["minutes"] = (time.time() - started) / 60
    report = write_report(results_path, command, mode, info, threads, reps, a, sanity, ceiling, rows, tuning, floors)
    with open(os.path.join(a.work, f"raw-{mode}.jsonl"), "w") as f:
        for e in R.log:
            f.write(json.dumps(e) + "\n")
    print(report)
    print(f"wrote {results_path} (raw results: {os.path.join(a.work, f'raw-{mode}.jsonl')})")


def step_weight_bytes(config_path):
    """The fp32 weights one decoding step multiplies by, read once: every decoder layer's
    self-attention (query, key, value, output), feed-forward and LayerNorms, the final norm and the
    generator. The encoder-decoder attention's query and output projections are left out (a lower
    bound: for short sources our fused step folds them into the encoder's keys and values, and
    reads less than them); its keys and values are per sentence, not weights. Where the first
    layer's query, key and value come from tables (post-norm, target vocabulary + positions <=
    d_model: IncrementalDecoder::set_fold_embedding), its 3C x C weight is left out too and the
    two table rows of 3C floats a step counted instead."""
    with open(config_path) as f:
        c = json.load(f)
    C, F, V, layers = c["d_model"], c["d_ff"], c["tgt_vocab_size"], c["decoder_layers"]
    per_layer = 4 * C * C + 4 * C + 2 * C * F + F + C + 3 * 2 * C + 2 * C  # + the cross-attention's bias of q, o
    floats = layers * per_layer + 2 * C + V * C + V
    if not c.get("norm_first", False) and c.get("positional", "sinusoidal") in ("sinusoidal", "learned") \
            and V + c["max_len"] <= C:
        floats -= 3 * C * C + 3 * C - 2 * 3 * C
    return 4 * floats


def target_of(row):
    m = row["measure"]
    if m.kind == "train":
        return TARGETS.get((m.config, "train"))
    return TARGETS.get(m.name)


def write_report(path, command, mode, info, threads, reps, a, sanity, gemm, rows, tuning, floors):
    L = []
    L.append("# Benchmark: our engine against PyTorch\n")
    if mode != "full":
        L.append(f"**Mode: `{mode}`** ({'plumbing check; the numbers mean nothing' if mode == 'smoke' else 'fewer configs and repetitions than the full run'}).\n")
    if a.built_from:
        source = f"bench_engine built from a clean export of commit `{a.built_from}`"
    else:
        source = (f"commit `{info['commit']}`"
                  + (f" with {info['dirty']} uncommitted file(s) in src/, bench/ or CMakeLists.txt" if info["dirty"] else ""))
    L.append(f"Made by `{command}` ({info['minutes']:.1f} min), {info['date']}, {source}.\n")
    L.append("| machine | |\n| --- | --- |")
    L.append(f"| CPU | {info['cpu']}, {info['cores']} cores |")
    L.append(f"| avx512_bf16 | {'present' if info['avx512_bf16'] else 'absent'} (avx512f {'present' if info['avx512f'] else 'absent'}) |")
    L.append(f"| threads measured | {', '.join(map(str, threads))}; {reps} processes per side and point, alternating |")
    L.append(f"| ours | oneDNN {info['onednn']} sgemm, OpenMP |")
    L.append(f"| PyTorch | python3-torch {info['torch']}; fp32 GEMMs in libblas.so.3 = `{info['blas']}` |")
    if info.get("torch_blas_loaded"):
        L.append(f"| PyTorch's process mapped | `{info['torch_blas_loaded']}` |")
    if "openblas" not in info.get("torch_blas_loaded", info["blas"]):
        L.append("| **warning** | PyTorch's BLAS is not OpenBLAS: its GEMMs are the reference BLAS's, the comparison "
                 "is unfair to it (scripts/setup.sh --bench installs OpenBLAS) |")
    L.append(f"| load average | at start {' '.join(info['loadavg'])}, at end {' '.join(info['loadavg_end'])} |\n")

    L.append("## Sanity: the two sides do the same work\n")
    for what, value, ok in sanity:
        L.append(f"- {what}: {value} ({'agree' if ok else '**DISAGREE**'})")
    for row in rows:
        m = row["measure"]
        if m.kind == "decode":
            o, t = row[("ours", None)]["first"], row[("torch", "kvcache")]["first"]
            if o and t:
                same = o["first_tokens"] == t["first_tokens"]
                L.append(f"- {m.title}, {row['threads']}t: the first row's {len(o['first_tokens'])} output tokens "
                         f"{'equal' if same else 'differ (near-ties of a random model can do that)'} on both sides")
        if row.get("first_losses"):
            lo, lt = row["first_losses"]
            L.append(f"- {row['measure'].title}, {row['threads']}t: first step's loss with dropout 0.1 "
                     f"(different masks): ours {fmt(lo, 4)}, PyTorch {fmt(lt, 4)}; "
                     f"same target tokens per step: {'yes' if row.get('same_tokens') else '**no**'}")
    L.append("")

    L.append(f"## fp32 GEMM rate ({a.gemm_n} x {a.gemm_n} x {a.gemm_n})\n")
    L.append("The fastest single multiplication seen, measured at the start and at the end of the run (ours: "
             "with and without OMP_WAIT_POLICY=passive): the ceiling FLOP utilisation is measured against.\n")
    L.append("| threads | ours: oneDNN sgemm, GFLOP/s | PyTorch: torch.mm (system BLAS), GFLOP/s |\n| --- | --- | --- |")
    for n, (o, t) in gemm.items():
        L.append(f"| {n} | {fmt(o and o / 1e9)} | {fmt(t and t / 1e9)} |")
    L.append("")

    L.append("## Results (medians over processes; tokens/s: target tokens for training, output tokens for decoding)\n")
    L.append("Tokens/s ± half the range over the repetitions; batch 1 also gives the median latency of a sentence.\n")
    L.append("| measure | threads | ours tokens/s | PyTorch tokens/s | PyTorch, re-run decoder | ours / PyTorch | "
             "target | | peak MiB ours | peak MiB PyTorch | settings (ours; PyTorch) |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    verdicts = []
    for row in rows:
        m = row["measure"]
        ours, tb = row[("ours", None)], row["torch_best"]
        if m.kind == "train":
            t_main, t_re = row[("torch", None)], None
        else:
            t_main, t_re = row[("torch", "kvcache")], row[("torch", "recompute")]
        target = target_of(row)
        verdict = ""
        if target and row["threads"] == 2 and row["ratio"] is not None:
            verdict = "PASS" if row["ratio"] >= target else "MISS"
            verdicts.append((f"{m.title}: ours/PyTorch >= {target}x", f"{row['ratio']:.2f}x", verdict))
        if row["threads"] == 2 and ours["peak"] and tb["peak"]:
            ok = ours["peak"] <= tb["peak"]
            verdicts.append((f"{m.title}: peak memory <= PyTorch's", f"{ours['peak']:.0f} vs {tb['peak']:.0f} MiB",
                             "PASS" if ok else "MISS"))
        def tps(x):  # tokens/s, +- half the range of the repetitions
            s = f" ±{100 * x['spread']:.0f}%" if x.get("spread") is not None else ""
            if m.kind == "decode" and m.params["batch"] == 1 and x["latency_ms"]:
                s += f" ({fmt(x['latency_ms'])} ms)"
            return fmt(x["tps"]) + s
        L.append(f"| {m.title} | {row['threads']} | {tps(ours)} | "
                 f"{tps(t_main)}{' (KV cache)' if t_re else ''} | {tps(t_re) if t_re else ''} | "
                 f"{fmt(row['ratio'], 2)} | {f'>= {target}x' if target else ''} | {verdict} | "
                 f"{fmt(ours['peak'], 0)} | {fmt(tb['peak'], 0)} ({fmt(tb['start'], 0)} at start) | "
                 f"{row['chosen']['ours']}; {row['chosen']['torch']} |")
    L.append("")
    L.append("Ratios are against PyTorch's faster loop. Errors (processes that failed): "
             + (", ".join(f"{r['measure'].title} {r['threads']}t" for r in rows
                          if any(r[k]["errors"] for k in r if isinstance(k, tuple))) or "none") + ".\n")

    trains = [r for r in rows if r["measure"].kind == "train" and r.get("flops_per_step")]
    if trains:
        L.append("## Training FLOPs and utilisation\n")
        L.append("Model FLOPs of a step: 3x the forward's matmul FLOPs, attention included, embeddings excluded, "
                 "over the padded shapes (models/flops.h). Utilisation: achieved FLOP/s over our measured "
                 "sgemm rate at the same thread count.\n")
        L.append("Paired: each of our processes against a 4096^3 sgemm run just before it with the same threads "
                 "and wait policy, the median over processes. It shows how much of a low utilisation is the host "
                 "slowing down during the run; the target's verdict uses the utilisation against the run's fastest GEMM.\n")
        L.append("| measure | threads | GFLOP a step | ours GFLOP/s | ours utilisation | ours, paired | PyTorch GFLOP/s | "
                 "PyTorch utilisation (of our GEMM rate) |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
        for row in trains:
            rate = gemm.get(row["threads"], (None, None))[0]
            o, t = row[("ours", None)].get("flops_s"), row[("torch", None)].get("flops_s")
            uo = o / rate if o and rate else None
            ut = t / rate if t and rate else None
            up = row.get("paired_utilisation")
            L.append(f"| {row['measure'].title} | {row['threads']} | {fmt(row['flops_per_step'] / 1e9)} | "
                     f"{fmt(o and o / 1e9)} | {fmt(uo and 100 * uo)}% | {fmt(up and 100 * up)}% | "
                     f"{fmt(t and t / 1e9)} | {fmt(ut and 100 * ut)}% |")
            if row["measure"].config == "base" and row["threads"] == 2 and uo is not None:
                goal = TARGETS["base_train_utilisation"]
                verdicts.append((f"{row['measure'].title}: FLOP utilisation >= {goal:.0%} of the GEMM rate",
                                 f"{uo:.0%}", "PASS" if uo >= goal else "MISS"))
        L.append("")

    ones = [r for r in rows if r["measure"].kind == "decode" and r["measure"].params["batch"] == 1
            and (r["measure"].config, r["threads"]) in floors]
    if ones:
        L.append("## One-sentence decoding against the machine's read rate\n")
        L.append(f"A step of one sentence multiplies one row by every weight of the decoder, so it reads them all: "
                 f"the floor below is {DECODE_LENGTH} steps x those bytes (fp32; the encoder-decoder attention's query "
                 "and output projections not counted, nor the first layer's query-key-value projection where our "
                 "step reads it from tables) / the fastest read of a buffer that size (`bench_engine "
                 "bandwidth`, every thread its block, measured at the start and the end). The encoder's time is "
                 "not in the floor. PyTorch / floor is the most any fp32 engine could be ahead of PyTorch here.\n")
        L.append("| measure | threads | MB read a step | read rate, GB/s | floor, ms a sentence | ours, ms | "
                 "ours / floor | PyTorch, ms | PyTorch / floor |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for row in ones:
            nbytes, bw = floors[(row["measure"].config, row["threads"])]
            floor_ms = 1e3 * DECODE_LENGTH * nbytes / bw
            o, t = row[("ours", None)]["latency_ms"], row["torch_best"]["latency_ms"]
            L.append(f"| {row['measure'].title} | {row['threads']} | {fmt(nbytes / 1e6)} | {fmt(bw / 1e9)} | "
                     f"{fmt(floor_ms)} | {fmt(o)} | {fmt(o and o / floor_ms, 2)} | {fmt(t)} | {fmt(t and t / floor_ms, 2)} |")
        L.append("")

    L.append("## Targets (issue 4, at 2 threads)\n")
    if verdicts:
        L.append("| target | measured | |\n| --- | --- | --- |")
        for what, value, v in verdicts:
            L.append(f"| {what} | {value} | {v} |")
    else:
        L.append("Not measured in this run (the targets are for 2 threads).")
    L.append("")

    if tuning:
        L.append(f"## Thread settings tried ({TUNE_ROUNDS} shorter runs each, the second round in reverse order; "
                 "ranked by the better run; the first carried into the repetitions)\n")
        L.append("| point | side | tokens/s by setting (each run) | kept |\n| --- | --- | --- | --- |")
        for key, side, tried, best in tuning:
            L.append(f"| {key} | {side} | " + ", ".join(f"{n}: " + " / ".join(fmt(x) for x in v)
                                                          for _, n, v in tried) + f" | {best} |")
        L.append("")
    multi = [r for r in rows if len({x[2] for x in r.get("settings_measured", []) if x[0] == "torch"}) > 1]
    if multi:
        L.append("## PyTorch settings carried into the repetitions (medians; the better one is reported)\n")
        L.append("| point | threads | tokens/s by setting |\n| --- | --- | --- |")
        for r in multi:
            ms = [x for x in r["settings_measured"] if x[0] == "torch" and x[1] in (None, "kvcache")]
            L.append(f"| {r['measure'].title} | {r['threads']} | " + ", ".join(f"{x[2]}: {fmt(x[3])}" for x in ms) + " |")
        L.append("")
    L.append("What is measured and the fairness rules: bench/README.md.\n")
    text = "\n".join(L)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return text


if __name__ == "__main__":
    main()
