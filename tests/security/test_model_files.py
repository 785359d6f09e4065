"""Hostile model files through the programs users run on them, `autan info`
and `autan serve -m`: hand-written headers with impossible counts, 2^63
string and array lengths, too many dimensions, shapes whose element count
overflows, offsets past the end; and a valid model whose metadata or tensor
table was altered (zero heads, a vocabulary that disagrees with its
embeddings, token ids outside it, a template nested beyond reason).
Each must end in a clear error on stderr and a non-zero exit, never a
signal, a sanitizer report or a hang. The GGUF files of the fuzzers'
corpus and crash regressions (tests/fuzz) go the same way.
tests/formats/gguf_corrupt_test.cpp checks the GGUF reader itself on the same
kinds of damage."""
import glob
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
from gguf_file import ARRAY, STRING, Gguf, string  # noqa: E402
from serve_util import AUTAN, cli  # noqa: E402

U64_TOP = 1 << 63
MAGIC = struct.pack("<I", 0x46554747)


def header(n_tensors, n_kv, version=3):
    return MAGIC + struct.pack("<IQQ", version, n_tensors, n_kv)


def kv(key, vtype, payload):
    return string(key) + struct.pack("<I", vtype) + payload


def tensor(name, dims, ttype=0, offset=0):
    return (string(name) + struct.pack("<I", len(dims)) +
            b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ttype, offset))


ARCH = kv("general.architecture", STRING, string("llama"))

# Hand-written files: name -> bytes.
HANDWRITTEN = {
    "empty": b"",
    "three bytes": b"GGU",
    "wrong magic": b"GGML" + b"\0" * 60,
    "version 99": header(0, 0, version=99),
    "2^63 tensors": header(U64_TOP, 0),
    "2^63 keys": header(0, U64_TOP),
    "2^64-1 keys": header(0, (1 << 64) - 1),
    "2^63 key length": header(0, 1) + struct.pack("<Q", U64_TOP) + b"general.x",
    "2^63 string value": header(0, 1) + string("general.name") + struct.pack("<IQ", STRING, U64_TOP),
    "2^63 array": header(0, 1) + string("tokenizer.ggml.tokens") +
                  struct.pack("<IIQ", ARRAY, STRING, U64_TOP),
    "2^63 array of arrays": header(0, 1) + string("x") + struct.pack("<IIQ", ARRAY, ARRAY, U64_TOP),
    "array nested 10000 deep": header(0, 1) + string("x") +
                               struct.pack("<IIQ", ARRAY, ARRAY, 1) * 10000,
    "unknown value type": header(0, 1) + string("x") + struct.pack("<I", 77) + b"\0" * 8,
    "2^63 tensor name": header(1, 1) + ARCH + struct.pack("<Q", U64_TOP) + b"t",
    "5 dimensions": header(1, 1) + ARCH + tensor("t", [1, 1, 1, 1, 1]),
    "2^31 dimensions": header(1, 1) + ARCH + string("t") + struct.pack("<I", 1 << 31),
    "zero dimension": header(1, 1) + ARCH + tensor("t", [0, 4]),
    "elements overflow 64 bits": header(1, 1) + ARCH + tensor("t", [1 << 32, 1 << 32, 1 << 32]),
    "bytes overflow 64 bits": header(1, 1) + ARCH + tensor("t", [1 << 62, 2], ttype=0),
    "unknown tensor type": header(1, 1) + ARCH + tensor("t", [32], ttype=9999),
    "offset past the end": header(1, 1) + ARCH + tensor("t", [32], offset=1 << 40) + b"\0" * 64,
    "offset near 2^64": header(1, 1) + ARCH + tensor("t", [32], offset=(1 << 64) - 32),
    "alignment 0": header(0, 2) + ARCH + kv("general.alignment", 4, struct.pack("<I", 0)),
    "alignment 3": header(0, 2) + ARCH + kv("general.alignment", 4, struct.pack("<I", 3)),
}


class HostileModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", cls.model)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_autan(self, *args):
        p = subprocess.run([AUTAN, *args], capture_output=True, timeout=60,
                           env=dict(os.environ, XDG_DATA_HOME=self.tmp.name))
        return p.returncode, p.stderr.decode(errors="replace")

    def assert_refused(self, path, name, commands=("info", "serve")):
        for command in commands:
            args = ["info", path] if command == "info" else [
                "serve", "-m", path, "--port", "0", "--data-dir",
                os.path.join(self.tmp.name, "data")]
            code, err = self.run_autan(*args)
            where = (name, command, err[-600:])
            self.assertGreater(code, 0, where)  # a negative code is a signal
            self.assertLess(code, 128, where)   # so is 128 + N from a shell or sanitizer
            self.assertNotIn("Sanitizer", err, where)
            self.assertNotIn("runtime error", err, where)
            self.assertRegex(err, r"\S", where)
            self.assertNotIn("listening", err, where)

    def write(self, name, data):
        path = os.path.join(self.tmp.name, re.sub(r"\W+", "_", name) + ".gguf")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_handwritten_headers(self):
        for name, data in HANDWRITTEN.items():
            with self.subTest(name):
                self.assert_refused(self.write(name, data), name)

    def altered(self, name, change):
        g = Gguf(self.model)
        change(g)
        path = os.path.join(self.tmp.name, re.sub(r"\W+", "_", name) + ".gguf")
        g.write(path)
        return path

    def test_altered_valid_model(self):
        def set_kv(key, vtype, v):
            return lambda g: g.kv.__setitem__(key, (vtype, v))

        def tensor_field(i, field, v):
            return lambda g: g.tensors[i].__setitem__(field, v)

        def drop_tensor(name):
            return lambda g: g.tensors.__setitem__(
                slice(None), [t for t in g.tensors if t[0] != name])

        def shrink_array(key, n):
            return lambda g: g.kv.__setitem__(key, (ARRAY, (g.kv[key][1][0], g.kv[key][1][1][:n])))

        nested = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
        cases = {
            "zero heads": set_kv("llama.attention.head_count", 4, 0),
            "zero kv heads": set_kv("llama.attention.head_count_kv", 4, 0),
            "kv heads not dividing heads": set_kv("llama.attention.head_count_kv", 4, 3),
            "2^32-1 layers": set_kv("llama.block_count", 4, (1 << 32) - 1),
            "zero embedding": set_kv("llama.embedding_length", 4, 0),
            "2^31 embedding": set_kv("llama.embedding_length", 4, 1 << 31),
            "2^31 feed forward": set_kv("llama.feed_forward_length", 4, 1 << 31),
            "rope dimensions past the head": set_kv("llama.rope.dimension_count", 4, 1 << 20),
            "architecture as a number": set_kv("general.architecture", 4, 7),
            "unknown architecture": set_kv("general.architecture", STRING, "skynet"),
            "vocabulary of 2": shrink_array("tokenizer.ggml.tokens", 2),
            "scores shorter than tokens": shrink_array("tokenizer.ggml.scores", 100),
            "token types shorter": shrink_array("tokenizer.ggml.token_type", 5),
            "bos outside the vocabulary": set_kv("tokenizer.ggml.bos_token_id", 4, 1 << 31),
            "eos outside the vocabulary": set_kv("tokenizer.ggml.eos_token_id", 4, 32000),
            "unknown tokenizer": set_kv("tokenizer.ggml.model", STRING, "mystery"),
            "template nested 5000 deep": set_kv("tokenizer.chat_template", STRING, nested),
            "missing output norm": drop_tensor("output_norm.weight"),
            "missing embeddings": drop_tensor("token_embd.weight"),
            "embeddings transposed": tensor_field(0, 1, [32000, 256]),
            "embeddings with 3 dimensions": tensor_field(0, 1, [256, 32000, 1 << 20]),
            "embeddings past the end": tensor_field(0, 3, 1 << 40),
            "embeddings of another type": tensor_field(0, 2, 1),
        }
        for name, change in cases.items():
            with self.subTest(name):
                self.assert_refused(self.altered(name, change), name, commands=("serve",))

    def test_fuzz_corpus_and_regressions(self):
        """Every GGUF file of the fuzzers' corpus and crash regressions
        (tests/fuzz, see docs/FUZZING.md): valid ones may load, the others
        must fail cleanly."""
        fuzz = os.path.join(HERE, "..", "fuzz")
        paths = sorted(glob.glob(os.path.join(fuzz, "**", "gguf*", "**", "*"), recursive=True))
        paths = [p for p in paths if os.path.isfile(p)]
        if not paths:
            self.skipTest("no GGUF files under tests/fuzz")
        for path in paths:
            with self.subTest(os.path.relpath(path, fuzz)):
                code, err = self.run_autan("info", path)
                self.assert_clean_exit(code, err, path)
                proc = subprocess.Popen(
                    [AUTAN, "serve", "-m", path, "--port", "0", "--data-dir",
                     os.path.join(self.tmp.name, "data")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    env=dict(os.environ, XDG_DATA_HOME=self.tmp.name))
                err = ""
                for line in proc.stderr:  # until it serves (a valid model) or exits
                    err += line.decode(errors="replace")
                    if "on http://" in line.decode(errors="replace"):
                        proc.terminate()
                proc.stderr.close()
                code = proc.wait(60)
                if "on http://" not in err:
                    self.assert_clean_exit(code, err, path)

    def assert_clean_exit(self, code, err, where):
        self.assertGreaterEqual(code, 0, (where, err[-600:]))
        self.assertLess(code, 128, (where, err[-600:]))
        self.assertNotIn("Sanitizer", err, where)
        self.assertNotIn("runtime error", err, where)
        if code != 0:
            self.assertRegex(err, r"\S", where)

    def test_every_truncation_of_the_header(self):
        """The model cut inside its header (at strides through the metadata
        and tensor table) and inside its tensor data."""
        with open(self.model, "rb") as f:
            data = f.read()
        g = Gguf(self.model)
        head = len(g.header())
        cuts = sorted(set(list(range(0, 64)) + list(range(64, head, 4099)) +
                          [head - 1, head + 1, len(data) // 2, len(data) - 1]))
        path = os.path.join(self.tmp.name, "cut.gguf")
        for cut in cuts:
            with open(path, "wb") as f:
                f.write(data[:cut])
            with self.subTest(cut=cut):
                self.assert_refused(path, "cut at %d" % cut, commands=("info",)
                                    if cut < head and cut % 2 else ("info", "serve"))


if __name__ == "__main__":
    unittest.main()
