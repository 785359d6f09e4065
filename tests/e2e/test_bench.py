"""Whole-program tests of `autan bench`: the three output formats, the tests
the flags ask for, figures consistent with their samples and with the model
file (read by the independent reference GGUF reader), and flag validation."""
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import reference  # noqa: E402  (the NumPy reference's own GGUF reader)

AUTAN = os.environ["AUTAN_BIN"]
ARGS = ["-p", "16", "-n", "8", "-r", "2", "-t", "1,2"]
EXPECTED_TESTS = {(1, "pp16"), (1, "tg8"), (2, "pp16"), (2, "tg8")}


def run(*args):
    # No powercap: energy is the estimate on every machine, never a RAPL
    # counter too coarse for these short runs.
    env = dict(os.environ, AUTAN_POWERCAP_ROOT="/nonexistent/powercap")
    return subprocess.run([AUTAN, *args], capture_output=True, timeout=300, env=env)


def bench(model, *args):
    p = run("bench", "-m", model, *args)
    if p.returncode != 0:
        raise AssertionError(f"autan bench {' '.join(args)} failed: {p.stderr.decode()}")
    return p.stdout.decode()


class BenchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny-q8_0.gguf")
        p = run("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", cls.model)
        assert p.returncode == 0, p.stderr.decode()
        g = reference.load_gguf(cls.model)
        cls.n_params = sum(t.n_elements for t in g.tensors.values())
        embd = g.tensors["token_embd.weight"]
        row_bytes = embd.nbytes() // embd.dims[1]
        cls.decode_bytes = (sum(t.nbytes() for t in g.tensors.values())
                            - embd.nbytes() + row_bytes)
        cls.file_bytes = os.path.getsize(cls.model)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_record(self, r):
        n_prompt, n_gen = int(r["n_prompt"]), int(r["n_gen"])
        self.assertEqual(r["test"], f"pp{n_prompt}" if n_prompt else f"tg{n_gen}")
        self.assertEqual(n_prompt * n_gen, 0)
        self.assertEqual(int(r["model_size"]), self.file_bytes)
        self.assertEqual(int(r["model_n_params"]), self.n_params)
        self.assertEqual(int(r["decode_bytes_per_token"]), self.decode_bytes)
        self.assertEqual(r["model_type"], "llama Q8_0")
        self.assertEqual(r["kv_type"], "f16")
        avg_ts, avg_ns = float(r["avg_ts"]), float(r["avg_ns"])
        self.assertGreater(avg_ts, 0)
        self.assertGreater(avg_ns, 0)
        self.assertGreaterEqual(float(r["stddev_ts"]), 0)
        # The mean of per-run rates is at least the rate of the mean time
        # (arithmetic >= harmonic mean) and, on runs within a few times of
        # each other, not far above it (loose: a loaded machine spreads runs); a unit
        # slip would be off by 1000x.
        ratio = avg_ts / ((n_prompt + n_gen) * 1e9 / avg_ns)
        self.assertGreater(ratio, 1 - 1e-6)
        self.assertLess(ratio, 100)
        # Tokens per joule: the same relation between the mean of per-run
        # rates and the rate of the mean energy.
        self.assertEqual(r["energy_source"], "estimate")
        avg_tj, avg_joules = float(r["avg_tj"]), float(r["avg_joules"])
        self.assertGreater(avg_joules, 0)
        self.assertGreaterEqual(float(r["stddev_tj"]), 0)
        ratio = avg_tj / ((n_prompt + n_gen) / avg_joules)
        self.assertGreater(ratio, 1 - 1e-6)
        self.assertLess(ratio, 100)

    def test_json(self):
        records = json.loads(bench(self.model, *ARGS, "-o", "json"))
        self.assertEqual({(r["n_threads"], r["test"]) for r in records}, EXPECTED_TESTS)
        self.assertEqual(len(records), 4)
        for r in records:
            self.check_record(r)
            self.assertEqual(len(r["samples_ts"]), 2)
            self.assertAlmostEqual(r["avg_ts"], statistics.mean(r["samples_ts"]),
                                   delta=1e-3 * r["avg_ts"])
            self.assertAlmostEqual(r["stddev_ts"], statistics.stdev(r["samples_ts"]),
                                   delta=1e-3 * r["avg_ts"])

    def test_csv(self):
        rows = list(csv.DictReader(io.StringIO(bench(self.model, *ARGS, "-o", "csv"))))
        self.assertEqual(len(rows), 4)
        self.assertEqual({(int(r["n_threads"]), r["test"]) for r in rows}, EXPECTED_TESTS)
        for r in rows:
            self.check_record(r)

    def test_markdown(self):
        lines = bench(self.model, *ARGS).strip().split("\n")
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
        self.assertEqual(cells[0], ["model", "size", "params", "threads", "test", "t/s", "t/J"])
        self.assertTrue(all(set(c) <= set("-:") for c in cells[1]))
        rows = cells[2:]
        self.assertEqual(len(rows), 4)
        self.assertEqual({(int(r[3]), r[4]) for r in rows}, EXPECTED_TESTS)
        for model, size, params, _, _, tps, tpj in rows:
            # Without powercap the figure is an estimate, marked "~".
            self.assertTrue(tpj.startswith("~"), tpj)
            tj_mean, tj_stddev = (float(x) for x in tpj[1:].split("±"))
            self.assertGreater(tj_mean, 0)
            self.assertGreaterEqual(tj_stddev, 0)
            self.assertEqual(model, "llama Q8_0")
            self.assertEqual(size, "%.2f MiB" % (self.file_bytes / 2**20))
            self.assertEqual(params, "%.2f M" % (self.n_params / 1e6))
            mean, stddev = (float(x) for x in tps.split("±"))
            self.assertGreater(mean, 0)
            self.assertGreaterEqual(stddev, 0)

    def test_kv_type(self):
        records = json.loads(bench(self.model, "-p", "8", "-n", "4", "-r", "1", "-t", "1",
                                   "--kv-type", "q8_0", "-o", "json"))
        self.assertEqual([(r["test"], r["kv_type"]) for r in records],
                         [("pp8", "q8_0"), ("tg4", "q8_0")])
        lines = bench(self.model, "-p", "8", "-n", "0", "-r", "1", "-t", "1",
                      "--kv-type", "q8_0").strip().split("\n")
        header = [c.strip() for c in lines[0].strip("|").split("|")]
        row = [c.strip() for c in lines[2].strip("|").split("|")]
        self.assertEqual(header[4], "type_kv")
        self.assertEqual(row[4:6], ["q8_0", "pp8"])

    def test_zero_length_skips_a_test(self):
        records = json.loads(bench(self.model, "-p", "0", "-n", "4", "-r", "1", "-t", "1",
                                   "-o", "json"))
        self.assertEqual([(r["test"], r["n_gen"]) for r in records], [("tg4", 4)])

    def test_measured_time_accounts_for_the_run(self):
        # The timed repetitions are most of the process's life, so their sum
        # must fit in the wall time seen from outside and fill a good part of it.
        start = time.monotonic()
        records = json.loads(bench(self.model, "-p", "0", "-n", "48", "-r", "3", "-t", "1",
                                   "-o", "json"))
        wall_ns = (time.monotonic() - start) * 1e9
        timed_ns = sum(48 * 1e9 / ts for ts in records[0]["samples_ts"])
        self.assertLess(timed_ns, wall_ns)
        self.assertGreater(timed_ns, 0.3 * wall_ns)

    def test_bad_flags_exit_2(self):
        cases = [
            ["-t", "0"], ["-t", "one"], ["-t", "1,,x"], ["-p", "-1"], ["-n", "x"],
            ["-p", "0", "-n", "0"], ["-r", "0"], ["-o", "xml"], ["--kv-type", "q4_0"],
        ]
        for extra in cases:
            p = run("bench", "-m", self.model, *extra)
            self.assertEqual(p.returncode, 2, extra)
            self.assertGreater(len(p.stderr), 0, extra)
            self.assertEqual(p.stdout, b"", extra)
        for args in (["bench"], ["bench", "-m", os.path.join(self.tmp.name, "missing.gguf")]):
            p = run(*args)
            self.assertEqual(p.returncode, 2, args)


class MembwTest(unittest.TestCase):
    def test_json_report(self):
        p = subprocess.run([os.environ["AUTAN_MEMBW"], "--size-mib", "64", "--passes", "2",
                            "--threads", "1,2", "--json"], capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        report = json.loads(p.stdout)
        self.assertEqual(report["buffer_bytes"], 64 << 20)
        self.assertEqual([r["threads"] for r in report["results"]], [1, 2])
        for r in report["results"]:
            self.assertEqual(len(r["samples"]), 2)
            self.assertGreater(r["gbps"], 0)
            self.assertAlmostEqual(r["gbps_max"], max(r["samples"]), places=2)

    def test_bad_flags_exit_2(self):
        for args in (["--threads", "0"], ["--passes", "x"], ["--size-mib"], ["--bogus"]):
            p = subprocess.run([os.environ["AUTAN_MEMBW"], *args], capture_output=True,
                               timeout=60)
            self.assertEqual(p.returncode, 2, args)


class CompareReportTest(unittest.TestCase):
    """bench/compare_report.py on hand-made run files with known answers."""

    def test_ratios_and_roofline(self):
        script = os.path.join(os.path.dirname(__file__), "..", "..", "bench",
                              "compare_report.py")
        with tempfile.TemporaryDirectory() as d:
            def write(name, obj):
                with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                    json.dump(obj, f)

            write("membw.json", {"results": [{"threads": 2, "gbps": 50.0}]})
            # Per round: llama tg 20 t/s then 25; autan 30 then 25 -> ratios
            # 1.5 and 1.0, median 1.25. Roofline: 50e9 / 1e9 = 50 t/s.
            for rnd, (llama_ts, autan_ts) in enumerate([(20.0, 30.0), (25.0, 25.0)], 1):
                base = {"n_prompt": 0, "n_gen": 64, "n_threads": 2}
                write(f"m-t2-r{rnd}-llama.json", [{**base, "avg_ts": llama_ts}])
                write(f"m-t2-r{rnd}-autan.json",
                      [{**base, "avg_ts": autan_ts, "decode_bytes_per_token": 10**9}])
            p = subprocess.run([sys.executable, script, d], capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [[c.strip() for c in line.strip("|").split("|")]
                for line in p.stdout.splitlines() if line.startswith("| m |")]
        self.assertEqual(len(rows), 1, p.stdout)
        _, threads, test, llama, autan, ratio, roof, llama_pct, autan_pct, _ = rows[0]
        self.assertEqual((threads, test), ("2", "tg64"))
        self.assertEqual((llama, autan, ratio), ("22.50", "27.50", "1.25x"))
        self.assertEqual((roof, llama_pct, autan_pct), ("50.0", "45%", "55%"))


if __name__ == "__main__":
    unittest.main()
