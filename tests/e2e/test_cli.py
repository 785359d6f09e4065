"""Whole-program tests of the autan binary: exit codes, determinism, errors."""
import os
import pty
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

AUTAN = os.environ["AUTAN_BIN"]
TESTDATA = os.environ["AUTAN_TESTDATA"]


def run(*args, stdin=None, check=False):
    p = subprocess.run([AUTAN, *args], input=stdin, capture_output=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"autan {' '.join(args)} failed: {p.stderr.decode()}")
    return p


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny-q8_0.gguf")
        run("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "3", cls.model, check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_synth_is_deterministic(self):
        other = os.path.join(self.tmp.name, "again.gguf")
        run("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "3", "-t", "1", other, check=True)
        with open(self.model, "rb") as a, open(other, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_generation_is_identical_across_thread_counts(self):
        outputs = set()
        for threads in ("1", "2", "3"):
            p = run("run", "-m", self.model, "-p", "Once upon a time", "-n", "24", "--seed", "42",
                    "--temp", "0.9", "-t", threads, check=True)
            outputs.add(p.stdout)
        self.assertEqual(len(outputs), 1, outputs)
        self.assertGreater(len(outputs.pop()), 0)

    def test_seed_changes_sampled_text(self):
        a = run("run", "-m", self.model, "-p", "Hello", "-n", "16", "--seed", "1", check=True).stdout
        b = run("run", "-m", self.model, "-p", "Hello", "-n", "16", "--seed", "2", check=True).stdout
        self.assertNotEqual(a, b)

    def test_logit_bias_bans_and_forces_tokens(self):
        prompt = run("tokenize", "-m", self.model, "--text", "Hello", "--ids", check=True)
        ids = prompt.stdout.decode().split()
        out = os.path.join(self.tmp.name, "hello.bin")
        run("logits", "-m", self.model, "--tokens", ",".join(ids), "--out", out, check=True)
        greedy_id = int(np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)[-1].argmax())
        greedy = run("run", "-m", self.model, "-p", "Hello", "-n", "1", "--temp", "0", check=True)
        banned = run("run", "-m", self.model, "-p", "Hello", "-n", "1", "--temp", "0",
                     "--logit-bias", f"{greedy_id}=-inf", check=True)
        self.assertNotEqual(banned.stdout, greedy.stdout)
        forced = run("run", "-m", self.model, "-p", "Hello", "-n", "3", "--temp", "0",
                     "--logit-bias", "8396=100", check=True)  # "▁Bon" wins every step
        self.assertEqual(forced.stdout.decode(), " Bon Bon Bon")
        self.assertEqual(run("run", "-m", self.model, "-p", "x", "--logit-bias", "7").returncode, 2)

    def test_quantize_progress_off_and_on_a_terminal(self):
        f32 = os.path.join(self.tmp.name, "tiny-f32.gguf")
        run("synth", "--shape", "tiny", "--type", "f32", "--seed", "3", f32, check=True)
        out = os.path.join(self.tmp.name, "tiny-q8.gguf")
        # Off a terminal: a plain line per tenth done (fewer when one tensor spans several).
        p = run("quantize", f32, out, "q8_0", "-t", "2", check=True)
        percents = [int(m) for m in re.findall(rb"autan: +(\d+)%", p.stderr)]
        self.assertGreaterEqual(len(percents), 3, p.stderr)
        self.assertLessEqual(len(percents), 10)
        self.assertEqual(percents, sorted(set(percents)))
        self.assertEqual(percents[-1], 100)
        self.assertNotIn(b"\r", p.stderr)
        # On a terminal: one bar redrawn in place, with the time left.
        primary, secondary = pty.openpty()
        proc = subprocess.Popen([AUTAN, "quantize", f32, out, "q8_0", "-t", "2"],
                                stdout=subprocess.DEVNULL, stderr=secondary)
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal closes with the process
                break
            if not chunk:
                break
            shown += chunk
        os.close(primary)
        self.assertEqual(proc.wait(), 0)
        self.assertIn(b"\r[", shown)
        self.assertRegex(shown, rb"100%  [0-9.]+ of [0-9.]+ GiB, \d+ s left")

    def test_stats_go_to_stderr(self):
        p = run("run", "-m", self.model, "-p", "Hi", "-n", "4", "--temp", "0", check=True)
        self.assertIn(b"generated", p.stderr)
        self.assertNotIn(b"generated", p.stdout)

    def test_prompt_longer_than_context_is_refused(self):
        p = run("run", "-m", self.model, "-p", "word " * 200, "-c", "64")
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"context", p.stderr)

    def test_tokenize_matches_vocabulary_vectors(self):
        vocab = os.path.join(TESTDATA, "vocab", "ggml-vocab-llama-spm.gguf")
        with open(vocab + ".inp", encoding="utf-8") as f:
            inputs = f.read().split("\n__ggml_vocab_test__\n")
        with open(vocab + ".out", encoding="utf-8") as f:
            expected = f.read().split("\n")
        checked = 0
        for text, ids in zip(inputs, expected):
            if not text or "\0" in text:
                continue
            p = run("tokenize", "-m", vocab, "--text", text, "--ids", "--no-add-special", check=True)
            self.assertEqual(p.stdout.decode().split(), ids.split(), repr(text))
            checked += 1
        self.assertGreater(checked, 10)

    def test_tokenize_adds_bos_by_default(self):
        p = run("tokenize", "-m", self.model, "--text", "Hello world", "--ids", check=True)
        self.assertEqual(p.stdout.decode().split()[0], "1")

    def test_tokenize_reads_bare_tokenizer_files(self):
        # SentencePiece's own file: Llama 2's well-known ids for "Hello world".
        spm = os.path.join(TESTDATA, "sentencepiece", "llama2-tokenizer.model")
        p = run("tokenize", "-m", spm, "--text", "Hello world", "--ids", check=True)
        self.assertEqual(p.stdout.decode().split(), ["1", "15043", "3186"])
        # A small tekken.json: 20 named special ids + 1 filler, the 256 bytes, then
        # "he" (277), "ll" (278), "hell" (279); "hello" -> hell + o.
        import base64
        import json
        vocab = [{"rank": b, "token_bytes": base64.b64encode(bytes([b])).decode(), "token_str": None}
                 for b in range(256)]
        for text in ("he", "ll", "hell"):
            vocab.append({"rank": len(vocab), "token_bytes": base64.b64encode(text.encode()).decode(),
                          "token_str": text})
        pattern = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
                   r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
        tekken = {"config": {"pattern": pattern, "num_vocab_tokens": len(vocab),
                             "default_vocab_size": 21 + len(vocab), "default_num_special_tokens": 21,
                             "version": "v3"},
                  "vocab": vocab}
        path = os.path.join(self.tmp.name, "tekken.json")
        with open(path, "w") as f:
            json.dump(tekken, f)
        p = run("tokenize", "-m", path, "--text", "hello", "--ids", check=True)
        self.assertEqual(p.stdout.decode().split(), ["1", "279", str(21 + ord("o"))])
        p = run("tokenize", "-m", path, "--text", "[INST]x", "--ids", "--parse-special",
                "--no-add-special", check=True)
        self.assertEqual(p.stdout.decode().split(), ["3", str(21 + ord("x"))])
        # Broken base64: exit 2 and a message naming the file and the field.
        vocab[257]["token_bytes"] = "l$=="
        with open(path, "w") as f:
            json.dump(tekken, f)
        p = run("tokenize", "-m", path, "--text", "hello")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"tekken.json: vocab[257].token_bytes: invalid base64", p.stderr)
        # A truncated SentencePiece model, likewise.
        bad = os.path.join(self.tmp.name, "tokenizer.model")
        with open(spm, "rb") as src, open(bad, "wb") as dst:
            dst.write(src.read()[:1001])
        p = run("tokenize", "-m", bad, "--text", "hello")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"tokenizer.model: pieces[", p.stderr)

    def test_bad_files_exit_2_with_a_message(self):
        cases = {
            "empty.gguf": b"",
            "magic.gguf": b"GGML" + b"\0" * 60,
            "truncated.gguf": open(self.model, "rb").read()[:5000],
        }
        for name, data in cases.items():
            path = os.path.join(self.tmp.name, name)
            with open(path, "wb") as f:
                f.write(data)
            for cmd in (["info", path], ["run", "-m", path, "-p", "x"], ["tokenize", "-m", path, "--text", "x"]):
                p = run(*cmd)
                self.assertEqual(p.returncode, 2, (name, cmd, p.stderr))
                self.assertTrue(p.stderr.startswith(b"autan: "), p.stderr)
        p = run("info", os.path.join(self.tmp.name, "missing.gguf"))
        self.assertEqual(p.returncode, 2)

    def test_bad_flags_exit_non_zero(self):
        self.assertNotEqual(run("run", "-m", self.model, "-p", "x", "--threads", "0").returncode, 0)
        self.assertNotEqual(run("synth", "--shape", "huge", "x.gguf").returncode, 0)
        self.assertNotEqual(run("run", "-m", self.model, "-p", "x", "--top-p", "7").returncode, 0)

    def test_info_reports_shape_and_memory(self):
        p = run("info", self.model, check=True)
        out = p.stdout.decode()
        self.assertIn("llama.embedding_length", out)
        self.assertIn("token_embd.weight", out)
        self.assertIn("KV cache", out)

    def test_interactive_chat_answers_each_turn(self):
        p = run("run", "-m", self.model, "-n", "8", "--seed", "5", stdin=b"Bonjour\nEt encore ?\n",
                check=True)
        self.assertEqual(p.stderr.count(b"generated"), 2, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
