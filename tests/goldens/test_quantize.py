"""autan quantize against llama.cpp's llama-quantize (goldens recorded by
tools/llama_quantize_goldens.py): on the same synth f32 file, every tensor
gets the same type and the very same bytes."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import reference  # noqa: E402  (a GGUF reader that shares no code with autan)

AUTAN = os.environ["AUTAN_BIN"]


class QuantizeGoldenTest(unittest.TestCase):
    def test_same_tensors_as_llama_quantize(self):
        with open(os.path.join(HERE, "llama_quantize.json")) as f:
            goldens = json.load(f)
        with tempfile.TemporaryDirectory() as tmp:
            for entry in goldens["models"]:
                f32 = os.path.join(tmp, f"{entry['shape']}-f32.gguf")
                subprocess.run([AUTAN, "synth", "--shape", entry["shape"], "--type", "f32",
                                "--seed", str(goldens["seed"]), f32], check=True)
                with open(f32, "rb") as f:
                    self.assertEqual(hashlib.sha256(f.read()).hexdigest(), entry["sha256"],
                                     "autan synth output changed: regenerate the goldens")
                for qtype, want in entry["types"].items():
                    with self.subTest(shape=entry["shape"], type=qtype):
                        out = os.path.join(tmp, f"{entry['shape']}-{qtype}.gguf")
                        subprocess.run([AUTAN, "quantize", f32, out, qtype, "-t", "2"],
                                       check=True, stderr=subprocess.DEVNULL)
                        g = reference.load_gguf(out)
                        self.assertEqual(sorted(g.tensors), sorted(want))
                        for name, (ggml_type, sha) in want.items():
                            self.assertEqual(g.tensors[name].ggml_type, ggml_type, name)
                            self.assertEqual(hashlib.sha256(bytes(g.raw(name))).hexdigest(), sha,
                                             name)
                print(f"{entry['shape']}: {len(entry['types'])} types, same tensors as "
                      f"llama-quantize")


if __name__ == "__main__":
    unittest.main(verbosity=2)
