#!/usr/bin/python3
"""Records llama.cpp's llama-perplexity figures on synth models and
tests/goldens/perplexity_text.txt, as goldens for
tests/goldens/test_perplexity.py: the running perplexity after each chunk and
the final estimate, and the KL-divergence report of quantized models against
the same shape's f16 model.

Needs a llama.cpp build: LLAMA_CPP_BIN is the folder holding llama-perplexity.
The models come from `autan synth`, so both engines read the very same bytes;
each golden records the file's SHA-256 so a change to synth cannot go
unnoticed.

usage: LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin tools/llama_perplexity_goldens.py AUTAN OUT.json
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = os.path.join(HERE, "..", "tests", "goldens", "perplexity_text.txt")
SEED = 11
N_CTX = 128
CHUNKS = 4
PERPLEXITY = [("tiny", "f32"), ("tiny", "f16"), ("tiny", "q8_0"), ("small", "q4_k_m")]
# shape -> types compared with that shape's f16 model
KL = {"tiny": ["q8_0", "q4_k_m"], "small": ["q4_k_m"]}

# llama-perplexity's KL report lines -> golden keys (its second "99.0%" line is a 95 % slip).
KL_FIELDS = {
    "Mean PPL(Q)": "ppl", "Mean PPL(base)": "ppl_base", "Mean ln(PPL(Q)/PPL(base))": "ln_ppl_ratio",
    "Mean    KLD": "kld_mean", "Maximum KLD": "kld_max", "99.9%   KLD": "kld_p99.9",
    "99.0%   KLD": "kld_p99", "Median  KLD": "kld_median", "10.0%   KLD": "kld_p10",
    "5.0%   KLD": "kld_p5", "1.0%   KLD": "kld_p1", "Minimum KLD": "kld_min",
    "Mean    Δp": "p_diff_mean_pct", "RMS Δp": "p_diff_rms_pct", "Same top p": "same_top_pct",
}


def parse_kl_report(text):
    out = {}
    for line in text.splitlines():
        label, sep, rest = line.partition(":")
        label = label.strip()
        if sep and label in KL_FIELDS and KL_FIELDS[label] not in out:
            out[KL_FIELDS[label]] = float(re.match(r"\s*(-?[0-9.]+)", rest).group(1))
    return out


def synth(autan, tmp, shape, dtype):
    path = os.path.join(tmp, f"{shape}-{dtype}.gguf")
    if not os.path.exists(path):
        subprocess.run([autan, "synth", "--shape", shape, "--type", dtype, "--seed", str(SEED),
                        path], check=True, stderr=subprocess.DEVNULL)
    with open(path, "rb") as f:
        return path, hashlib.sha256(f.read()).hexdigest()


def llama_perplexity(binary, model, *extra):
    r = subprocess.run([binary, "-m", model, "-f", TEXT, "-c", str(N_CTX), "--chunks", str(CHUNKS),
                        "-t", "2", *extra], check=True, capture_output=True, text=True)
    return r.stdout + r.stderr


def main():
    autan, out = sys.argv[1], sys.argv[2]
    binary = os.path.join(os.environ["LLAMA_CPP_BIN"], "llama-perplexity")
    result = {"engine": "llama.cpp llama-perplexity", "seed": SEED, "n_ctx": N_CTX,
              "chunks": CHUNKS, "perplexity": [], "kl_divergence": []}
    with tempfile.TemporaryDirectory() as tmp:
        for shape, dtype in PERPLEXITY:
            model, digest = synth(autan, tmp, shape, dtype)
            text = llama_perplexity(binary, model)
            chunks = [float(v) for v in re.findall(r"\[\d+\]([0-9.]+),", text)]
            final = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", text)
            result["perplexity"].append({
                "shape": shape, "type": dtype, "sha256": digest, "chunks": chunks,
                "ppl": float(final.group(1)), "ppl_error": float(final.group(2))})
            print(f"perplexity {shape} {dtype}: {final.group(0)}", file=sys.stderr)
        for shape, types in KL.items():
            base_model, base_digest = synth(autan, tmp, shape, "f16")
            base = os.path.join(tmp, f"{shape}-f16.kld")
            llama_perplexity(binary, base_model, "--kl-divergence-base", base)
            for dtype in types:
                model, digest = synth(autan, tmp, shape, dtype)
                report = parse_kl_report(llama_perplexity(
                    binary, model, "--kl-divergence-base", base, "--kl-divergence"))
                result["kl_divergence"].append({
                    "shape": shape, "type": dtype, "sha256": digest, "base_sha256": base_digest,
                    "report": report})
                print(f"kl {shape} {dtype}: {report}", file=sys.stderr)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
