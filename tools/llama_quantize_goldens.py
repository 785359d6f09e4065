#!/usr/bin/python3
"""Records what llama.cpp's llama-quantize makes of synth f32 models: each
tensor's type and the SHA-256 of its bytes, as goldens for
tests/goldens/test_quantize.py (autan quantize must write the same bytes).

usage: LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin tools/llama_quantize_goldens.py AUTAN OUT.json
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "reference"))
import reference  # noqa: E402  (an independent GGUF reader)

SEED = 11
SHAPES = ["tiny", "small"]
# autan type -> llama-quantize type
TYPES = {"q8_0": "Q8_0", "q4_0": "Q4_0", "q4_k_m": "Q4_K_M", "q5_k_m": "Q5_K_M", "q6_k": "Q6_K"}


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tensor_hashes(path):
    g = reference.load_gguf(path)
    return {name: [t.ggml_type, hashlib.sha256(bytes(g.raw(name))).hexdigest()]
            for name, t in sorted(g.tensors.items())}


def main():
    autan, out = sys.argv[1], sys.argv[2]
    quantize = os.path.join(os.environ["LLAMA_CPP_BIN"], "llama-quantize")
    result = {"engine": "llama.cpp llama-quantize (no imatrix)", "seed": SEED, "models": []}
    with tempfile.TemporaryDirectory() as tmp:
        for shape in SHAPES:
            f32 = os.path.join(tmp, f"{shape}-f32.gguf")
            subprocess.run([autan, "synth", "--shape", shape, "--type", "f32", "--seed", str(SEED),
                            f32], check=True)
            entry = {"shape": shape, "sha256": digest(f32), "types": {}}
            for ours, theirs in TYPES.items():
                q = os.path.join(tmp, f"{shape}-{ours}.gguf")
                subprocess.run([quantize, f32, q, theirs, "2"], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                entry["types"][ours] = tensor_hashes(q)
            result["models"].append(entry)
            print(f"{shape}: done", file=sys.stderr)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
