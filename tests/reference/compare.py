#!/usr/bin/python3
"""Compare engine logits against the float64 NumPy reference.

Usage:
  compare.py --model M.gguf --tokens 1,2,3 --actual autan_logits.bin
             [--sliding-window N] [--tol-rel 1e-4] [--min-top1 1.0]
  compare.py --embedding --model M.gguf --tokens 1,2,3 --actual autan_embedding.bin
             [--tol-rel 1e-4] [--min-cos 0.9999]

--actual is raw float32 little-endian [n_tokens][n_vocab], or [dim] for an
embedding (mean of the final normed hidden states, unit length).
Exit 0 on pass, 1 on mismatch, 2 if the reference itself cannot run.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402


def compare(ref, actual, tol_rel, min_top1):
    """Returns (ok, report line)."""
    if actual.shape != ref.shape:
        return False, "FAIL shape mismatch: actual %s vs reference %s" % (actual.shape, ref.shape)
    if not np.all(np.isfinite(actual)):
        return False, "FAIL actual logits contain %d non-finite values" % int(
            np.sum(~np.isfinite(actual)))
    max_abs = float(np.max(np.abs(actual - ref)))
    std = float(np.std(ref))
    rel = max_abs / std if std > 0 else (0.0 if max_abs == 0 else float("inf"))

    # Positions whose top two reference logits are closer than the error are
    # effectively ties, so their argmax carries no signal.
    top2 = np.sort(ref, axis=1)[:, -2:] if ref.shape[1] > 1 else None
    if top2 is None:
        considered = np.ones(ref.shape[0], dtype=bool)
    else:
        considered = (top2[:, 1] - top2[:, 0]) >= max_abs
    agree = np.argmax(actual, axis=1) == np.argmax(ref, axis=1)
    n_considered = int(considered.sum())
    top1 = float(agree[considered].mean()) if n_considered else 1.0

    ok = rel <= tol_rel and top1 >= min_top1
    line = ("%s max_abs_err=%.6g rel_err=%.6g (tol %.3g, ref std %.6g) "
            "top1=%.4f (%d/%d positions, %d near-ties skipped; min %.3g)"
            % ("PASS" if ok else "FAIL", max_abs, rel, tol_rel, std, top1,
               int(agree[considered].sum()), n_considered,
               ref.shape[0] - n_considered, min_top1))
    return ok, line


def compare_embedding(ref, actual, tol_rel, min_cos):
    """Embeddings: elementwise error over the reference's spread, direction and unit length."""
    if actual.shape != ref.shape:
        return False, "FAIL shape mismatch: actual %s vs reference %s" % (actual.shape, ref.shape)
    if not np.all(np.isfinite(actual)):
        return False, "FAIL actual embedding contains non-finite values"
    max_abs = float(np.max(np.abs(actual - ref)))
    std = float(np.std(ref))
    rel = max_abs / std if std > 0 else (0.0 if max_abs == 0 else float("inf"))
    norm = float(np.linalg.norm(actual))
    cos = float(actual @ ref / (norm * np.linalg.norm(ref))) if norm > 0 else 0.0
    ok = rel <= tol_rel and cos >= min_cos and abs(norm - 1.0) <= 1e-4
    line = ("%s max_abs_err=%.6g rel_err=%.6g (tol %.3g, ref std %.6g) cosine=%.8f (min %.8g) "
            "norm=%.7f" % ("PASS" if ok else "FAIL", max_abs, rel, tol_rel, std, cos, min_cos,
                           norm))
    return ok, line


def main(argv=None):
    ap = argparse.ArgumentParser(description="check engine logits against the reference")
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--actual", required=True, help="float32 [n_tokens][n_vocab] file")
    ap.add_argument("--sliding-window", type=int, default=None,
                    help="override llama.attention.sliding_window for every layer (0 = none)")
    ap.add_argument("--tol-rel", type=float, default=1e-4,
                    help="max |actual-ref| / std(ref) allowed")
    ap.add_argument("--min-top1", type=float, default=1.0,
                    help="min fraction of non-tied positions whose argmax agrees")
    ap.add_argument("--embedding", action="store_true",
                    help="--actual is the embedding of the tokens, float32 [dim]")
    ap.add_argument("--min-cos", type=float, default=0.9999,
                    help="embeddings: min cosine similarity to the reference")
    args = ap.parse_args(argv)

    try:
        tokens = reference.parse_tokens(args.tokens)
        run = reference.run_embedding if args.embedding else reference.run_reference
        ref = run(args.model, tokens, args.sliding_window)
    except (reference.ReferenceError, OSError) as e:
        print("compare: reference error: %s" % e, file=sys.stderr)
        return 2

    try:
        flat = np.fromfile(args.actual, dtype="<f4").astype(np.float64)
    except OSError as e:
        print("FAIL cannot read %s: %s" % (args.actual, e))
        return 1
    if flat.size != ref.size:
        print("FAIL shape mismatch: actual has %d floats, reference has %s = %d"
              % (flat.size, "x".join(map(str, ref.shape)), ref.size))
        return 1
    if args.embedding:
        ok, line = compare_embedding(ref, flat, args.tol_rel, args.min_cos)
    else:
        ok, line = compare(ref, flat.reshape(ref.shape), args.tol_rel, args.min_top1)
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
