"""autan perplexity's figures against a NumPy computation (float64) from the
logits autan itself dumps (`autan logits`) for the very same chunk inputs:
the per-chunk running perplexity and final estimate, and the KL-divergence
report of a q4_k_m model against its f16 base.

The base file keeps each log-probability in 16 bits over [max - 16, max]
(llama.cpp's layout), so each is off by at most half a step, 16 / 65535 / 2
= 1.22e-4. That moves -log p_base(token) by at most that much, and each
token's KL by at most about that much times (1 + sum p |log p - log q|),
below 1.3e-4 here: the KL figures are held to 1.3e-4 (0.3 % of the q4_k_m
mean KLD of ~0.04), and "same top" may differ only on tokens whose base
top-2 gap is within a step.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

AUTAN = os.environ["AUTAN_BIN"]
HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = os.path.join(HERE, "..", "goldens", "perplexity_text.txt")
N_CTX, CHUNKS, BOS = 64, 3, 1
FIRST = N_CTX // 2
KL_TOL = 1.3e-4
STEP = 16 / 65535


def run(*args):
    return subprocess.run([AUTAN, *args], check=True, capture_output=True, text=True).stdout


def field(report, label):
    m = re.search(re.escape(label) + r"\s*:\s*(-?[0-9.]+)", report)
    return float(m.group(1))


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


class PerplexityOracleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.models = {}
        for t in ("f16", "q4_k_m"):
            cls.models[t] = os.path.join(d, f"tiny-{t}.gguf")
            run("synth", "--shape", "tiny", "--type", t, "--seed", "7", cls.models[t])
        # perplexity drops one final newline, as llama.cpp's -f does; tokenize the same text.
        with open(TEXT, encoding="utf-8") as f:
            text = f.read().removesuffix("\n")
        cls.text = os.path.join(d, "text.txt")
        with open(cls.text, "w", encoding="utf-8") as f:
            f.write(text)
        ids = run("tokenize", "-m", cls.models["f16"], "--file", cls.text, "--ids")
        cls.tokens = [int(t) for t in re.findall(r"\d+", ids)]
        cls.base = os.path.join(d, "base.kld")
        cls.ppl_out = run("perplexity", "-m", cls.models["f16"], "-f", cls.text, "-c", str(N_CTX),
                          "--chunks", str(CHUNKS), "-t", "2", "--kl-divergence-base", cls.base)
        cls.kl_out = run("perplexity", "-m", cls.models["q4_k_m"], "--kl-divergence-base",
                         cls.base, "--kl-divergence", "-t", "2")
        # Log-probabilities of the scored positions and their targets, chunk by chunk.
        cls.lp = {t: [] for t in cls.models}
        cls.targets = []
        for c in range(CHUNKS):
            chunk = cls.tokens[c * N_CTX:(c + 1) * N_CTX]
            inp = [BOS] + chunk[1:-1]
            cls.targets.append(np.array(chunk[FIRST + 1:]))
            for t, model in cls.models.items():
                out = os.path.join(d, f"logits-{t}-{c}.bin")
                run("logits", "-m", model, "--tokens", ",".join(map(str, inp)), "--out", out,
                    "-t", "2")
                logits = np.fromfile(out, dtype=np.float32).reshape(len(inp), -1)
                cls.lp[t].append(log_softmax(logits[FIRST:]))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def nll(self, t):
        return [-lp[np.arange(len(tg)), tg] for lp, tg in zip(self.lp[t], self.targets)]

    def test_perplexity_per_chunk_and_final(self):
        printed = [float(v) for v in re.findall(r"\[\d+\]([0-9.]+),", self.ppl_out)]
        nll = self.nll("f16")
        self.assertEqual(len(printed), CHUNKS)
        for c in range(CHUNKS):
            want = np.exp(np.concatenate(nll[:c + 1]).mean())
            self.assertLess(abs(printed[c] / want - 1), 1e-5, (c, printed[c], want))
        all_nll = np.concatenate(nll)
        ppl = np.exp(all_nll.mean())
        err = np.sqrt(all_nll.var() / (len(all_nll) - 1)) * ppl
        final = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", self.ppl_out)
        self.assertLess(abs(float(final.group(1)) / ppl - 1), 1e-5)
        self.assertLess(abs(float(final.group(2)) / err - 1), 1e-3)
        print(f"PPL {final.group(0)}; NumPy {ppl:.4f} +/- {err:.5f}")

    def test_kl_divergence_report(self):
        r = self.kl_out
        base, q = np.concatenate(self.lp["f16"]), np.concatenate(self.lp["q4_k_m"])
        targets = np.concatenate(self.targets)
        rows = np.arange(len(targets))
        kld = (np.exp(base) * (base - q)).sum(axis=1)
        self.assertAlmostEqual(field(r, "Mean    KLD"), kld.mean(), delta=KL_TOL)
        self.assertGreater(kld.mean(), 100 * KL_TOL)  # the tolerance can tell q4_k_m from f16
        for label, pct in (("Maximum KLD", 100), ("99.0%   KLD", 99), ("Median  KLD", 50),
                           ("10.0%   KLD", 10), ("Minimum KLD", 0)):
            self.assertAlmostEqual(field(r, label), np.percentile(kld, pct), delta=KL_TOL,
                                   msg=label)
        nll_q, nll_base = -q[rows, targets], -base[rows, targets]
        self.assertLess(abs(field(r, "Mean PPL(Q)") / np.exp(nll_q.mean()) - 1), 1e-5)
        self.assertLess(abs(field(r, "Mean PPL(base)") / np.exp(nll_base.mean()) - 1), KL_TOL)
        self.assertAlmostEqual(field(r, "Mean ln(PPL(Q)/PPL(base))"),
                               nll_q.mean() - nll_base.mean(), delta=KL_TOL)
        top = np.sort(base, axis=1)
        near_tie = int((top[:, -1] - top[:, -2] < STEP).sum())
        same = int((base.argmax(axis=1) == q.argmax(axis=1)).sum())
        printed_same = field(r, "Same top p") / 100 * len(targets)
        self.assertLessEqual(abs(printed_same - same), near_tie + 0.01)
        print(f"mean KLD {field(r, 'Mean    KLD')}, NumPy {kld.mean():.6f}; "
              f"same top {printed_same:.0f} of {len(targets)}, NumPy {same}")

    def test_kl_divergence_checks_its_inputs(self):
        # A model of another vocabulary size, a text that is not the base's, a context mismatch.
        other_text = os.path.join(self.tmp.name, "other.txt")
        with open(other_text, "w") as f:
            f.write("Something else entirely. " * 200)
        for args, message in (
                (["-f", other_text], "not the text it was made from"),
                (["-c", "128"], "written with a context of 64"),
        ):
            r = subprocess.run([AUTAN, "perplexity", "-m", self.models["q4_k_m"],
                                "--kl-divergence-base", self.base, "--kl-divergence", *args],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)
        truncated = os.path.join(self.tmp.name, "truncated.kld")
        with open(self.base, "rb") as f, open(truncated, "wb") as g:
            g.write(f.read()[:-2])
        r = subprocess.run([AUTAN, "perplexity", "-m", self.models["q4_k_m"],
                            "--kl-divergence-base", truncated, "--kl-divergence"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("truncated", r.stderr)
        short = os.path.join(self.tmp.name, "short.txt")
        with open(short, "w") as f:
            f.write("Too short.")
        r = subprocess.run([AUTAN, "perplexity", "-m", self.models["f16"], "-f", short],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs at least 1024", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
