"""Model folders end to end: `autan synth --format` writes the same weights as
Hugging Face and Mistral folders, `autan run` on a folder generates what it
generates on the GGUF file, `autan convert` writes GGUF back, and bad folders
are refused with a message naming the file and the field."""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

import numpy as np

AUTAN = os.environ["AUTAN_BIN"]
PROMPT = "The capital of France is"


def run(*args, check=False):
    p = subprocess.run([AUTAN, *args], capture_output=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"autan {' '.join(args)} failed: {p.stderr.decode()}")
    return p


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    return header, data


def write_safetensors(path, tensors):
    """tensors: name -> (dtype name, shape, bytes), written in order."""
    header, offset = {}, 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(t[2] for t in tensors.values()))


class ConvertTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.gguf = cls.path("mixtral.gguf")
        base = ["synth", "--arch", "mixtral", "--shape", "tiny", "--type", "f16", "--seed", "4"]
        run(*base, cls.gguf, check=True)
        run(*base, "--format", "safetensors", "--shards", "2", cls.path("hf"), check=True)
        run(*base, "--format", "consolidated", cls.path("mistral"), check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp.name, name)

    def greedy(self, model):
        return run("run", "-m", model, "-p", PROMPT, "-n", "16", "--temp", "0", "-t", "2",
                   check=True).stdout

    def test_mixtral_folders_generate_what_the_gguf_file_generates(self):
        want = self.greedy(self.gguf)
        self.assertGreater(len(want.strip()), 0)
        for folder in ("hf", "mistral"):
            self.assertEqual(self.greedy(self.path(folder)), want, folder)
            out = self.path(folder + ".gguf")
            p = run("convert", self.path(folder), out, check=True)
            self.assertIn(b"[1/", p.stderr)  # progress, tensor by tensor
            self.assertEqual(self.greedy(out), want, out)

    def test_convert_type_rewrites_the_matrices(self):
        out = self.path("bf16.gguf")
        run("convert", self.path("mistral"), out, "--type", "bf16", check=True)
        info = run("info", out, check=True).stdout.decode()
        self.assertRegex(info, r"blk\.0\.ffn_up_exps\.weight.*bf16")
        self.assertRegex(info, r"blk\.0\.attn_norm\.weight.*f32")  # vectors stay f32
        tokens = run("tokenize", "-m", out, "--text", PROMPT, "--ids", check=True).stdout.split()
        logits = self.path("bf16.bin")
        run("logits", "-m", out, "--tokens", ",".join(t.decode() for t in tokens), "--out", logits,
            check=True)
        self.assertTrue(np.isfinite(np.fromfile(logits, dtype=np.float32)).all())

    def copy(self, folder, name):
        dst = self.path(name)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(self.path(folder), dst)
        return dst

    def refused(self, folder, *needles):
        p = run("convert", folder, self.path("refused.gguf"))
        self.assertEqual(p.returncode, 2, p.stderr)
        for needle in needles:
            self.assertIn(needle.encode(), p.stderr)
        self.assertFalse(os.path.exists(self.path("refused.gguf")))

    def test_unknown_architecture_is_refused(self):
        folder = self.copy("hf", "gpt2")
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        config["architectures"] = ["GPT2LMHeadModel"]
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f)
        self.refused(folder, "config.json", "'architectures'", "GPT2LMHeadModel")

    def test_missing_tokenizer_is_refused(self):
        folder = self.copy("mistral", "no-tokenizer")
        os.remove(os.path.join(folder, "tokenizer.model.v3"))
        self.refused(folder, "no-tokenizer", "no tokenizer")

    def test_types_it_cannot_keep_are_refused(self):
        # One expert in F32 among F16 ones: a stacked tensor has one type.
        folder = self.copy("mistral", "mixed")
        weights = os.path.join(folder, "consolidated.safetensors")
        header, data = read_safetensors(weights)
        header.pop("__metadata__", None)
        tensors = {}
        for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            raw = data[t["data_offsets"][0]:t["data_offsets"][1]]
            tensors[name] = (t["dtype"], t["shape"], raw)
        name = "layers.1.feed_forward.experts.3.w1.weight"
        dtype, shape, raw = tensors[name]
        tensors[name] = ("F32", shape, np.frombuffer(raw, np.float16).astype(np.float32).tobytes())
        write_safetensors(weights, tensors)
        self.refused(folder, "mixed", "layer 1, expert 3", "f32", "--type")
        # --type makes them one type, so that converts.
        run("convert", folder, self.path("mixed.gguf"), "--type", "f16", check=True)
        # A dtype that is no float at all cannot be converted.
        dtype, shape, raw = tensors[name]
        tensors[name] = ("F64", shape, np.frombuffer(raw, np.float32).astype(np.float64).tobytes())
        write_safetensors(weights, tensors)
        self.refused(folder, name, "F64")

    def test_synth_folders_hold_only_float_weights(self):
        p = run("synth", "--type", "q4_0", "--format", "consolidated", self.path("q4"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"q4_0", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
