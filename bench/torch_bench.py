#!/usr/bin/python3
"""PyTorch's side of the benchmark: the model of torch_reference.py, loaded from the model
directory that `bench_engine init` wrote (same config, same weights), on the same batches and
sources. The same subcommands and options as bench_engine; one measurement a process, one JSON
line on stdout. Run with Debian's /usr/bin/python3 (python3-torch 1.13); bench/run.py drives it.

    torch_bench.py check  --model DIR --data FILE
    torch_bench.py train  --model DIR --data FILE --threads N [--warmup W] [--steps K] [--lr X]
    torch_bench.py decode --model DIR --src FILE --threads N --batch B [--beam K] [--length L]
                          [--iters R] [--warmup W] [--variant kvcache|recompute]
    torch_bench.py gemm   --n N --threads N [--iters R]

Thread settings come from outside as well: OPENBLAS_NUM_THREADS (Debian's torch does fp32
GEMMs in the system BLAS, which torch.set_num_threads does not control) and OMP_WAIT_POLICY
must be in the environment before torch is imported; run.py sets them.

torch_reference.py is found through $TFM_TORCH_REFERENCE (the file or its folder), else in
../shared/reference beside the repository.
"""
import argparse, json, math, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def import_reference():
    given = os.environ.get("TFM_TORCH_REFERENCE")
    folder = os.path.join(REPO, "..", "shared", "reference")
    if given:
        folder = os.path.dirname(given) if given.endswith(".py") else given
    if not os.path.isfile(os.path.join(folder, "torch_reference.py")):
        sys.exit(f"torch_bench: torch_reference.py not found in {os.path.abspath(folder)}; "
                 "set TFM_TORCH_REFERENCE to the file or its folder")
    sys.path.insert(0, os.path.abspath(folder))
    import torch_reference
    return torch_reference


def memory_mib(key):
    """Resident memory of this process in MiB: VmHWM (peak) or VmRSS (now), as bench_engine reads it."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def blas_loaded():
    """The BLAS library this process has mapped (where torch's fp32 GEMMs go)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.split()[-1] and "lapack" not in line}
    return ", ".join(sorted(libs))


def read_batches(path):
    """Batches of (src, tgt) id lists: one example a line, a blank line between batches."""
    batches, cur = [], []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line:
                if cur:
                    batches.append(cur)
                cur = []
                continue
            s, t = line.split("\t")
            cur.append(([int(x) for x in s.split()], [int(x) for x in t.split()]))
    if cur:
        batches.append(cur)
    return batches


def load_model(R, model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        c = dict(R.DEFAULTS, **json.load(f))
    model = R.Seq2SeqTransformer(c)
    model.load_state_dict(R.load_safetensors(os.path.join(model_dir, "model.safetensors")))
    return model, c


def train_tensors(R, torch, batch, c):
    """The reference's convention, as bench_engine's make_train_batch: src + [eos], [bos] + tgt,
    targets tgt + [eos], right-padded with pad."""
    pad, bos, eos = c["pad_id"], c["bos_id"], c["eos_id"]
    src = R.batch([s + [eos] for s, _ in batch], pad)
    tgt_in = R.batch([[bos] + t for _, t in batch], pad)
    tgt_out = R.batch([t + [eos] for _, t in batch], pad)
    return src, tgt_in, tgt_out, int((tgt_out != pad).sum())


def logits_of(torch, model, src, tgt_in):
    """Seq2SeqTransformer.forward without its final log_softmax: cross_entropy takes the logits
    (one log-softmax, as our cross_entropy does; log_softmax twice would cost PyTorch time)."""
    c = model.c
    pad = c["pad_id"]
    n = tgt_in.shape[1]
    causal = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
    h = model.transformer(
        model.embed(model.src_embed, src), model.embed(model.tgt_embed, tgt_in), tgt_mask=causal,
        src_key_padding_mask=src == pad, tgt_key_padding_mask=tgt_in == pad,
        memory_key_padding_mask=src == pad)
    return model.generator(h)


def cmd_check(R, torch, a):
    model, c = load_model(R, a.model)
    src, tgt_in, tgt_out, _ = train_tensors(R, torch, read_batches(a.data)[0], c)
    model.eval()  # no dropout
    with torch.no_grad():
        lg = logits_of(torch, model, src, tgt_in)
        loss = torch.nn.functional.cross_entropy(
            lg.reshape(-1, lg.shape[-1]), tgt_out.reshape(-1), ignore_index=c["pad_id"], label_smoothing=0.1)
    return {"mode": "check", "loss_no_dropout": loss.item()}


def cmd_train(R, torch, a):
    rss_start = memory_mib("VmRSS")
    model, c = load_model(R, a.model)
    batches = [train_tensors(R, torch, b, c) for b in read_batches(a.data)]
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.98), eps=1e-9)
    F = torch.nn.functional
    model.train()
    torch.manual_seed(1)
    losses, seconds, tokens = [], [], []
    for i in range(a.warmup + a.steps):
        src, tgt_in, tgt_out, ntok = batches[i % len(batches)]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)  # as ours drops its gradients; cheaper than zero-filling them
        lg = logits_of(torch, model, src, tgt_in)
        loss = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), tgt_out.reshape(-1),
                               ignore_index=c["pad_id"], label_smoothing=0.1)
        loss.backward()
        # The global gradient norm, as our training step computes it for its log.
        gn = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))
        opt.step()
        l, g = loss.item(), gn.item()
        dt = time.perf_counter() - t0
        if not (math.isfinite(l) and math.isfinite(g)):
            sys.exit(f"torch_bench: step {i}: loss {l}, gradient norm {g}")
        losses.append(l)
        if i >= a.warmup:
            seconds.append(dt)
            tokens.append(ntok)
    return {"mode": "train", "warmup": a.warmup, "steps": a.steps, "step_seconds": seconds,
            "target_tokens": tokens, "losses": losses, "rss_start_mib": rss_start}


# ---- decoding ----

class KVCacheDecoder:
    """Incremental decoding of nn.TransformerDecoder (post-norm, batch_first) with a hand-written
    KV cache, as ours does it: per layer, the self-attention keys and values of earlier
    positions are kept in preallocated (rows, heads, max_steps, dh) buffers, and the
    encoder-decoder keys and values are computed once per sentence. Equal to re-running the
    decoder (`check-decode` prints the largest difference)."""

    def __init__(self, torch, model, src, copies, max_steps):
        self.torch, self.model, self.c = torch, model, model.c
        F = torch.nn.functional
        c = self.c
        assert not c["norm_first"] and c["activation"] == "relu", "KVCacheDecoder: post-norm, ReLU only"
        C, H = c["d_model"], c["heads"]
        self.H, self.dh = H, C // H
        pad = src == c["pad_id"]
        memory = model.transformer.encoder(model.embed(model.src_embed, src), src_key_padding_mask=pad)
        B, S = memory.shape[0], memory.shape[1]
        R = B * copies
        self.t = 0
        # (R, 1, 1, S): -inf on padded source positions.
        mask = torch.zeros(B, 1, 1, S).masked_fill(pad[:, None, None, :], float("-inf"))
        self.mem_mask = mask.repeat_interleave(copies, dim=0) if copies > 1 else mask
        self.layers = []
        for layer in model.transformer.decoder.layers:
            W, b = layer.multihead_attn.in_proj_weight, layer.multihead_attn.in_proj_bias
            k, v = F.linear(memory, W[C:], b[C:]).split(C, dim=-1)  # (B, S, C) each
            ck, cv = (x.reshape(B, S, H, self.dh).transpose(1, 2) for x in (k, v))
            if copies > 1:
                ck, cv = ck.repeat_interleave(copies, dim=0), cv.repeat_interleave(copies, dim=0)
            self.layers.append({"k": torch.empty(R, H, max_steps, self.dh), "v": torch.empty(R, H, max_steps, self.dh),
                                "ck": ck, "cv": cv})

    def heads(self, x):  # (R, 1, C) -> (R, H, 1, dh)
        return x.reshape(x.shape[0], 1, self.H, self.dh).transpose(1, 2)

    def attend(self, q, k, v, mask=None):
        """softmax(q k^T / sqrt(dh) + mask) v, heads concatenated: (R, 1, C)."""
        torch = self.torch
        s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.dh))
        if mask is not None:
            s = s + mask
        o = torch.matmul(torch.softmax(s, dim=-1), v)  # (R, H, 1, dh)
        return o.transpose(1, 2).reshape(o.shape[0], 1, self.H * self.dh)

    def step(self, tokens):
        """tokens (R,) at position t -> log-probabilities (R, V)."""
        torch, model, c = self.torch, self.model, self.c
        F = torch.nn.functional
        C, t = c["d_model"], self.t
        x = model.tgt_embed(tokens[:, None]) * math.sqrt(C) + model.pe[t:t + 1]
        for layer, cache in zip(model.transformer.decoder.layers, self.layers):
            sa = layer.self_attn
            q, k, v = F.linear(x, sa.in_proj_weight, sa.in_proj_bias).split(C, dim=-1)
            cache["k"][:, :, t:t + 1] = self.heads(k)
            cache["v"][:, :, t:t + 1] = self.heads(v)
            a = self.attend(self.heads(q), cache["k"][:, :, :t + 1], cache["v"][:, :, :t + 1])
            x = layer.norm1(x + F.linear(a, sa.out_proj.weight, sa.out_proj.bias))
            ca = layer.multihead_attn
            q = F.linear(x, ca.in_proj_weight[:C], ca.in_proj_bias[:C])
            a = self.attend(self.heads(q), cache["ck"], cache["cv"], self.mem_mask)
            x = layer.norm2(x + F.linear(a, ca.out_proj.weight, ca.out_proj.bias))
            x = layer.norm3(x + layer.linear2(F.relu(layer.linear1(x))))
        if model.transformer.decoder.norm is not None:
            x = model.transformer.decoder.norm(x)
        self.t += 1
        return torch.log_softmax(model.generator(x[:, 0]), dim=-1)

    def reorder(self, rows):
        """Row i continues row rows[i]. Only the filled positions are copied. The encoder-decoder
        keys and values are not moved: beams never leave their sentence, whose rows hold equal ones."""
        t = self.t
        for cache in self.layers:
            for key in ("k", "v"):
                buf = cache[key]
                new = self.torch.empty_like(buf)
                new[:, :, :t] = buf[:, :, :t].index_select(0, rows)
                cache[key] = new


class RecomputeDecoder:
    """The usual PyTorch loop (nn.Transformer has no KV cache): the encoder once, then the whole
    decoder over the prefix at every step, the generator on the last position."""

    def __init__(self, torch, model, src, copies, max_steps):
        self.torch, self.model, self.c = torch, model, model.c
        pad = src == model.c["pad_id"]
        self.memory = model.transformer.encoder(model.embed(model.src_embed, src), src_key_padding_mask=pad)
        self.pad = pad
        if copies > 1:  # beams never leave their sentence: these rows are not reordered
            self.memory = self.memory.repeat_interleave(copies, dim=0)
            self.pad = pad.repeat_interleave(copies, dim=0)
        self.prefix = torch.empty(self.memory.shape[0], 0, dtype=torch.long)

    def step(self, tokens):
        torch, model = self.torch, self.model
        self.prefix = torch.cat([self.prefix, tokens[:, None]], dim=1)
        n = self.prefix.shape[1]
        causal = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        h = model.transformer.decoder(model.embed(model.tgt_embed, self.prefix), self.memory, tgt_mask=causal,
                                      memory_key_padding_mask=self.pad)
        return torch.log_softmax(model.generator(h[:, -1]), dim=-1)

    def reorder(self, rows):
        self.prefix = self.prefix.index_select(0, rows)


def decode_batch(R, torch, model, Decoder, src_rows, K, L):
    """As bench_engine's decode_batch: exactly L steps from bos; greedy, or beam search of width K
    (summed log-probabilities, top K of the K x V candidates of each sentence). Returns row 0's tokens."""
    c = model.c
    B = len(src_rows)
    src = R.batch([s + [c["eos_id"]] for s in src_rows], c["pad_id"])
    dec = Decoder(torch, model, src, K, L)
    tokens = torch.full((B * K,), c["bos_id"], dtype=torch.long)
    score = torch.full((B, K), float("-inf"))
    score[:, 0] = 0
    score = score.reshape(-1)
    base = torch.arange(B)[:, None] * K
    first = []
    for t in range(L):
        lp = dec.step(tokens)
        if K == 1:
            tokens = lp.argmax(dim=-1)
        else:
            V = lp.shape[-1]
            top, idx = (score[:, None] + lp).reshape(B, K * V).topk(K, dim=-1)
            rows = (base + torch.div(idx, V, rounding_mode="floor")).reshape(-1)
            tokens = (idx % V).reshape(-1)
            score = top.reshape(-1)
            if t + 1 < L:
                dec.reorder(rows)
        first.append(int(tokens[0]))
    return first


def cmd_decode(R, torch, a):
    rss_start = memory_mib("VmRSS")
    model, c = load_model(R, a.model)
    model.eval()
    src = R.read_ids(a.src)
    Decoder = {"kvcache": KVCacheDecoder, "recompute": RecomputeDecoder}[a.variant]
    seconds, first, nxt = [], None, 0
    with torch.inference_mode():
        for i in range(a.warmup + a.iters):
            batch = [src[(nxt + b) % len(src)] for b in range(a.batch)]
            nxt += a.batch
            t0 = time.perf_counter()
            tokens = decode_batch(R, torch, model, Decoder, batch, a.beam, a.length)
            dt = time.perf_counter() - t0
            if i == 0:
                first = tokens
            if i >= a.warmup:
                seconds.append(dt)
    return {"mode": "decode", "variant": a.variant, "batch": a.batch, "beam": a.beam, "length": a.length,
            "iter_seconds": seconds, "first_tokens": first, "rss_start_mib": rss_start}


def cmd_check_decode(R, torch, a):
    """The KV-cache decoder against re-running the decoder: the largest log-probability
    difference over L greedy steps of a batch."""
    model, c = load_model(R, a.model)
    model.eval()
    src_rows = R.read_ids(a.src)[: a.batch]
    src = R.batch([s + [c["eos_id"]] for s in src_rows], c["pad_id"])
    worst = 0.0
    with torch.inference_mode():
        kv = KVCacheDecoder(torch, model, src, 1, a.length)
        rc = RecomputeDecoder(torch, model, src, 1, a.length)
        tokens = torch.full((len(src_rows),), c["bos_id"], dtype=torch.long)
        for _ in range(a.length):
            x, y = kv.step(tokens), rc.step(tokens)
            worst = max(worst, float((x - y).abs().max()))
            tokens = y.argmax(dim=-1)
    return {"mode": "check-decode", "max_abs_logprob_diff": worst}


def cmd_gemm(R, torch, a):
    n = a.n
    g = torch.Generator().manual_seed(7)
    A, B = torch.rand(n, n, generator=g) - 0.5, torch.rand(n, n, generator=g) - 0.5
    C = torch.empty(n, n)
    torch.mm(A, B, out=C)
    seconds = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        torch.mm(A, B, out=C)
        seconds.append(time.perf_counter() - t0)
    return {"mode": "gemm", "n": n, "flops": 2.0 * n ** 3, "iter_seconds": seconds}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmd", choices=["check", "train", "decode", "check-decode", "gemm"])
    ap.add_argument("--model")
    ap.add_argument("--data")
    ap.add_argument("--src")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--length", type=int, default=24)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--variant", choices=["kvcache", "recompute"], default="kvcache")
    ap.add_argument("--n", type=int, default=2048)
    a = ap.parse_args()
    if a.warmup is None:
        a.warmup = 2 if a.cmd == "train" else 1

    R = import_reference()
    import torch
    torch.set_num_threads(a.threads)
    out = {"side": "torch", "threads": torch.get_num_threads(),
           "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
           "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}
    out.update({"check": cmd_check, "train": cmd_train, "decode": cmd_decode, "check-decode": cmd_check_decode,
                "gemm": cmd_gemm}[a.cmd](R, torch, a))
    out["peak_rss_mib"] = memory_mib("VmHWM")
    out["blas"] = blas_loaded()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
