#!/usr/bin/env python3
"""An independent PyTorch implementation of cptui's GPT-NeoX model, for cross-checks and benchmarks.

Written from the architecture description (not from cptui's Swift code): pre-LayerNorm parallel
residual x + attn(LN1 x) + mlp(LN2 x), rotary embedding (rotate-half) on the first rotary_dims of each
head, exact GELU, untied embeddings, Hugging Face GPT-NeoX parameter names and layouts.

Subcommands:
  reference --fixture DIR            loss and gradients of DIR/tiny.safetensors on DIR/batch.bin,
                                     written to DIR/torch-reference.safetensors (the unit tests read it)
  compare --fixture DIR --cptui BIN  runs `cptui dev gradients` and prints relative errors against torch
  eval --checkpoint CK --tokens F    mean loss over windows of T+1 uint16 ids, as `cptui eval`
  widen --fixture DIR --out DIR2     a fixture of DIR's blocks with a 20000-token vocabulary and
                                     context 128 (new random embeddings, a random batch of 3 rows), so
                                     that `compare` sees cptui's output projection run in two blocks
  bench --layers … --threads N       training tokens/s of this model (AdamW, fp32, eager), JSON

Needs: pip install torch safetensors numpy
"""
import argparse
import json
import math
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from safetensors import safe_open


class Config:
    def __init__(self, layers, heads, width, context, vocab, rotaryFraction=0.25, rotaryBase=10000.0):
        self.layers, self.heads, self.width = layers, heads, width
        self.context, self.vocab = context, vocab
        self.head_size = width // heads
        dims = int(self.head_size * rotaryFraction)
        self.rotary_dims = dims - dims % 2
        self.rotary_base = rotaryBase


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.query_key_value = nn.Linear(cfg.width, 3 * cfg.width)
        self.dense = nn.Linear(cfg.width, cfg.width)
        rot = cfg.rotary_dims
        if rot > 0:
            inv_freq = 1.0 / (cfg.rotary_base ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))
            t = torch.arange(cfg.context, dtype=torch.float64)
            freqs = torch.outer(t, inv_freq)
            self.register_buffer("cos", freqs.cos().float(), persistent=False)
            self.register_buffer("sin", freqs.sin().float(), persistent=False)

    def rotate(self, x):  # x: [B, H, T, hs]
        rot = self.cfg.rotary_dims
        if rot == 0:
            return x
        T = x.shape[2]
        half = rot // 2
        cos, sin = self.cos[:T], self.sin[:T]
        x1, x2, rest = x[..., :half], x[..., half:rot], x[..., rot:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], dim=-1)

    def forward(self, x):
        B, T, C = x.shape
        H, hs = self.cfg.heads, self.cfg.head_size
        qkv = self.query_key_value(x).view(B, T, H, 3 * hs).permute(0, 2, 1, 3)
        q, k, v = qkv[..., :hs], qkv[..., hs:2 * hs], qkv[..., 2 * hs:]
        q, k = self.rotate(q), self.rotate(k)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.dense(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg.width, 4 * cfg.width)
        self.dense_4h_to_h = nn.Linear(4 * cfg.width, cfg.width)

    def forward(self, x):
        return self.dense_4h_to_h(F.gelu(self.dense_h_to_4h(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(cfg.width, eps=1e-5)
        self.post_attention_layernorm = nn.LayerNorm(cfg.width, eps=1e-5)
        self.attention = Attention(cfg)
        self.mlp = MLP(cfg)

    def forward(self, x):
        return x + self.attention(self.input_layernorm(x)) + self.mlp(self.post_attention_layernorm(x))


class Trunk(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_in = nn.Embedding(cfg.vocab, cfg.width)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.final_layer_norm = nn.LayerNorm(cfg.width, eps=1e-5)


class GPTNeoX(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.gpt_neox = Trunk(cfg)
        self.embed_out = nn.Linear(cfg.width, cfg.vocab, bias=False)

    def forward(self, idx, targets):
        x = self.gpt_neox.embed_in(idx)
        for block in self.gpt_neox.layers:
            x = block(x)
        logits = self.embed_out(self.gpt_neox.final_layer_norm(x))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def load_checkpoint(path):
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    cfg = Config(**json.loads(meta["cptui.model"]))
    model = GPTNeoX(cfg)
    tensors = {k: v for k, v in load_file(path).items() if not k.startswith("optimizer.")}
    model.load_state_dict(tensors, strict=True)
    return model, cfg


def read_batch(path, batch):
    ids = np.fromfile(path, dtype="<i4").reshape(batch, -1)
    t = torch.from_numpy(ids.astype(np.int64))
    return t[:, :-1], t[:, 1:]


def loss_and_grads(model, idx, targets):
    model.zero_grad()
    loss = model(idx, targets)
    loss.backward()
    return loss.item(), {n: p.grad.detach().clone().contiguous() for n, p in model.named_parameters()}


def cmd_reference(args):
    model, _ = load_checkpoint(f"{args.fixture}/tiny.safetensors")
    idx, targets = read_batch(f"{args.fixture}/batch.bin", args.batch)
    loss, grads = loss_and_grads(model, idx, targets)
    save_file(grads, f"{args.fixture}/torch-reference.safetensors",
              metadata={"loss": repr(loss), "torch": torch.__version__})
    print(f"torch loss {loss:.8f}; wrote {args.fixture}/torch-reference.safetensors "
          f"({len(grads)} gradient tensors)")
    if args.transformers:
        check_against_transformers(f"{args.fixture}/tiny.safetensors", idx, targets, loss)


def check_against_transformers(path, idx, targets, loss):
    """Optional: the same checkpoint in Hugging Face's GPTNeoXForCausalLM gives the same loss."""
    try:
        from transformers import GPTNeoXConfig, GPTNeoXForCausalLM
    except ImportError:
        print("transformers not installed: skipping the Hugging Face check")
        return
    with safe_open(path, "pt") as f:
        c = json.loads(f.metadata()["cptui.model"])
    hf = GPTNeoXForCausalLM(GPTNeoXConfig(
        vocab_size=c["vocab"], hidden_size=c["width"], num_hidden_layers=c["layers"],
        num_attention_heads=c["heads"], intermediate_size=4 * c["width"], hidden_act="gelu",
        rotary_pct=c["rotaryFraction"], rotary_emb_base=c["rotaryBase"],
        max_position_embeddings=c["context"], layer_norm_eps=1e-5, use_parallel_residual=True,
        tie_word_embeddings=False, attention_dropout=0.0, hidden_dropout=0.0))
    state = {k: v for k, v in load_file(path).items() if not k.startswith("optimizer.")}
    missing, unexpected = hf.load_state_dict(state, strict=False)
    logits = hf(idx).logits
    hf_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)).item()
    print(f"transformers GPTNeoXForCausalLM loss {hf_loss:.8f} (ours {loss:.8f}); "
          f"missing {list(missing)}, unexpected {list(unexpected)}")


def relative_error(a, b):
    """‖a − b‖∞ / max(‖b‖∞, 1e-12): per-tensor error that near-zero elements cannot blow up."""
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-12)


def cmd_compare(args):
    model, _ = load_checkpoint(f"{args.fixture}/tiny.safetensors")
    idx, targets = read_batch(f"{args.fixture}/batch.bin", args.batch)
    loss, grads = loss_and_grads(model, idx, targets)
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/cptui-grads.safetensors"
        subprocess.run([args.cptui, "dev", "gradients", "--checkpoint", f"{args.fixture}/tiny.safetensors",
                        "--batch-file", f"{args.fixture}/batch.bin", "--batch", str(args.batch),
                        "--out", out], check=True, stdout=subprocess.DEVNULL)
        with safe_open(out, "pt") as f:
            cptui_loss = float(f.metadata()["loss"])
        cptui = load_file(out)
    loss_err = abs(cptui_loss - loss) / abs(loss)
    worst = max((relative_error(cptui[n], g), n) for n, g in grads.items())
    print(f"loss: cptui {cptui_loss:.8f} torch {loss:.8f} relative error {loss_err:.2e} (limit 1e-4)")
    for n, g in grads.items():
        print(f"  {relative_error(cptui[n], g):.2e}  {n}")
    print(f"worst gradient relative error {worst[0]:.2e} ({worst[1]}) (limit 1e-3)")
    ok = loss_err < 1e-4 and worst[0] < 1e-3
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


def cmd_eval(args):
    model, cfg = load_checkpoint(args.checkpoint)
    T = args.context or cfg.context
    ids = torch.from_numpy(np.fromfile(args.tokens, dtype="<u2").astype(np.int64))
    windows = (len(ids) - 1) // T if len(ids) > T else 0
    if windows == 0:
        sys.exit(f"{args.tokens}: too few tokens for one window of {T + 1}")
    total = 0.0
    with torch.no_grad():
        for w in range(0, windows, args.batch):
            rows = min(args.batch, windows - w)
            chunk = torch.stack([ids[(w + r) * T:(w + r) * T + T + 1] for r in range(rows)])
            total += model(chunk[:, :-1], chunk[:, 1:]).item() * rows
    print(f"loss {total / windows:.6f} over {windows} windows of {T} tokens ({windows * T} predictions)")


def cmd_widen(args):
    import os
    src = f"{args.fixture}/tiny.safetensors"
    with safe_open(src, "pt") as f:
        meta = f.metadata()
    cfg = json.loads(meta["cptui.model"])
    cfg["vocab"], cfg["context"] = args.vocab, args.context  # rotary has no parameters: any T works
    meta = dict(meta, **{"cptui.model": json.dumps(cfg)})
    tensors = {k: v for k, v in load_file(src).items() if not k.startswith("optimizer.")}
    g = torch.Generator().manual_seed(5)
    for name in ("gpt_neox.embed_in.weight", "embed_out.weight"):
        tensors[name] = (torch.randn(args.vocab, cfg["width"], generator=g) * 0.5).contiguous()
    os.makedirs(args.out, exist_ok=True)
    save_file(tensors, f"{args.out}/tiny.safetensors", metadata=meta)
    ids = np.random.default_rng(5).integers(0, args.vocab, size=(args.batch, args.context + 1))
    ids.astype("<i4").tofile(f"{args.out}/batch.bin")
    print(f"wrote {args.out}: vocab {args.vocab}, {args.batch}×{args.context} rows")


def cmd_bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = Config(args.layers, args.heads, args.width, args.context, args.vocab, args.rotary_fraction)
    model = GPTNeoX(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)

    def step():
        idx = torch.randint(0, cfg.vocab, (args.batch, cfg.context + 1))
        opt.zero_grad(set_to_none=True)
        loss = model(idx[:, :-1], idx[:, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    tps = args.batch * cfg.context * args.steps / seconds
    rss_kib = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss_kib = int(line.split()[1])
    print(json.dumps({"tokens_per_second": tps, "ms_per_step": 1000 * seconds / args.steps,
                      "threads": args.threads, "torch": torch.__version__, "peak_rss_kib": rss_kib}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reference")
    r.add_argument("--fixture", default="Tests/ModelTests/Fixtures")
    r.add_argument("--batch", type=int, default=3)
    r.add_argument("--transformers", action="store_true", help="also check against HF transformers")
    c = sub.add_parser("compare")
    c.add_argument("--fixture", default="Tests/ModelTests/Fixtures")
    c.add_argument("--batch", type=int, default=3)
    c.add_argument("--cptui", default=".build/release/cptui")
    e = sub.add_parser("eval")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--tokens", required=True)
    e.add_argument("--context", type=int)
    e.add_argument("--batch", type=int, default=8)
    w = sub.add_parser("widen")
    w.add_argument("--fixture", default="Tests/ModelTests/Fixtures")
    w.add_argument("--out", required=True)
    w.add_argument("--vocab", type=int, default=20000)
    w.add_argument("--context", type=int, default=128)
    w.add_argument("--batch", type=int, default=3)
    b = sub.add_parser("bench")
    for name, default in [("layers", 4), ("heads", 4), ("width", 128), ("context", 128), ("vocab", 512),
                          ("batch", 16), ("steps", 10), ("warmup", 2), ("threads", 1)]:
        b.add_argument(f"--{name}", type=int, default=default)
    b.add_argument("--rotary-fraction", type=float, default=0.25)
    args = p.parse_args()
    commands = {"reference": cmd_reference, "compare": cmd_compare, "eval": cmd_eval, "widen": cmd_widen,
                "bench": cmd_bench}
    commands[args.cmd](args)


if __name__ == "__main__":
    main()
