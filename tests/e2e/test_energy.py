"""Whole-program tests of energy, carbon and cost: the usage fields of every
generation route against /metrics, the RAPL path on a fake powercap tree the
test drives, and daily quotas (per user, per personal key, per keys-file key)
enforced on /v1 and the web app's chat, kept across a restart."""
import csv
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import Server, cli  # noqa: E402

MODEL = "tiny-q8_0"
FILE_KEY = "sk-energy-file-key"
PASSWORD = "correct horse battery"
GRID, PUE, PRICE = 100.0, 1.5, 0.3


def labelled(text, name, model=MODEL):
    """The value of `name{model="..."}` in Prometheus text."""
    m = re.search(r'^%s\{model="%s"\} (\S+)$' % (re.escape(name), re.escape(model)), text, re.M)
    if not m:
        raise KeyError(name)
    return float(m.group(1))


def unlabelled(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1))


def synth(tmp):
    path = os.path.join(tmp, MODEL + ".gguf")
    cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "7", path)
    return path


class UsageAndMetricsTest(unittest.TestCase):
    """No readable powercap: every figure is an estimate, and says so."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = synth(cls.tmp.name)
        env = dict(os.environ, AUTAN_POWERCAP_ROOT=os.path.join(cls.tmp.name, "no-powercap"))
        cls.server = Server(cls.model, "--parallel", "2", "--cpu-watts", "10",
                            "--grid-gco2-per-kwh", str(GRID), "--pue", str(PUE),
                            "--kwh-price", str(PRICE), "--currency", "USD", env=env)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "autan serve exited %d" % code

    def check(self, usage):
        joules = usage["energy_joules"]
        self.assertGreater(joules, 0, usage)
        self.assertEqual(usage["energy_source"], "estimate")
        kwh = joules / 3.6e6
        self.assertAlmostEqual(usage["co2e_grams"], kwh * PUE * GRID, delta=1e-12 + 1e-9 * joules)
        self.assertAlmostEqual(usage["cost"], kwh * PUE * PRICE, delta=1e-12 + 1e-9 * joules)
        self.assertEqual(usage["cost_currency"], "USD")
        return joules

    def test_every_route_reports_energy_and_metrics_add_it_up(self):
        s = self.server
        self.assertTrue(any("energy estimated at 10.00 W per busy core" in line for line in s.log))
        total = 0.0
        status, chat, _ = s.post("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 8})
        self.assertEqual(status, 200, chat)
        total += self.check(chat["usage"])
        status, two, _ = s.post("/v1/completions", {"prompt": "Once upon a time", "max_tokens": 6,
                                                    "n": 2})
        self.assertEqual(status, 200, two)
        total += self.check(two["usage"])
        events, done = s.stream("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "Salut"}], "max_tokens": 5, "stream": True,
            "stream_options": {"include_usage": True}})
        self.assertTrue(done)
        total += self.check(events[-1]["usage"])
        status, emb, _ = s.post("/v1/embeddings", {"input": ["un", "deux trois"]})
        self.assertEqual(status, 200, emb)
        total += self.check(emb["usage"])

        text = s.request("GET", "/metrics")[1]
        self.assertIn("# TYPE autan_energy_joules_total counter", text)
        self.assertAlmostEqual(labelled(text, "autan_energy_joules_total"), total, delta=1e-5)
        tokens = (unlabelled(text, "autan_prompt_tokens_total")
                  + unlabelled(text, "autan_completion_tokens_total"))
        self.assertGreater(tokens, 0)
        self.assertAlmostEqual(labelled(text, "autan_energy_joules_per_token"),
                               labelled(text, "autan_energy_joules_total") / tokens, delta=1e-8)


class FakeRaplTest(unittest.TestCase):
    """A powercap tree the test advances: usage says "rapl" and adds up."""

    def test_measured_energy_comes_from_the_counters(self):
        with tempfile.TemporaryDirectory() as tmp:
            model = synth(tmp)
            zone = os.path.join(tmp, "powercap", "intel-rapl:0")
            os.makedirs(zone)
            for name, value in (("name", "package-0"), ("max_energy_range_uj", "262143328850"),
                                ("energy_uj", "0")):
                with open(os.path.join(zone, name), "w") as f:
                    f.write(value + "\n")
            stop = threading.Event()

            def advance():  # 5 W: 5000 uJ per millisecond, written atomically
                uj = 0
                while not stop.is_set():
                    uj += 5000
                    tmp_file = os.path.join(zone, "energy_uj.tmp")
                    with open(tmp_file, "w") as f:
                        f.write("%d\n" % uj)
                    os.replace(tmp_file, os.path.join(zone, "energy_uj"))
                    time.sleep(0.001)

            ticker = threading.Thread(target=advance, daemon=True)
            ticker.start()
            env = dict(os.environ, AUTAN_POWERCAP_ROOT=os.path.join(tmp, "powercap"))
            server = Server(model, "--parallel", "2", env=env)
            try:
                self.assertTrue(any("energy measured with RAPL" in line for line in server.log))
                total = 0.0
                for _ in range(3):
                    status, body, _ = server.post("/v1/chat/completions", {
                        "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 16})
                    self.assertEqual(status, 200, body)
                    self.assertEqual(body["usage"]["energy_source"], "rapl")
                    self.assertGreaterEqual(body["usage"]["energy_joules"], 0)
                    total += body["usage"]["energy_joules"]
                text = server.request("GET", "/metrics")[1]
                self.assertAlmostEqual(labelled(text, "autan_energy_joules_total"), total,
                                       delta=1e-5)
            finally:
                stop.set()
                ticker.join()
                self.assertEqual(server.stop(), 0)


class QuotaTest(unittest.TestCase):
    """Daily quotas set through the admin API, enforced and kept across a restart."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = synth(cls.tmp.name)
        cls.keys = os.path.join(cls.tmp.name, "keys")
        with open(cls.keys, "w") as f:
            f.write(hashlib.sha256(FILE_KEY.encode()).hexdigest() + " tests\n")
        cls.data = os.path.join(cls.tmp.name, "data")
        cls.start()

    @classmethod
    def start(cls):
        cls.server = Server(cls.model, "--parallel", "2", "--data-dir", cls.data,
                            "--api-keys", cls.keys)
        cls.cookie = cls.csrf = None

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def app(self, method, path, body=None):
        c = self.server.conn()
        h = {"Content-Type": "application/json", "Host": "127.0.0.1:%d" % self.server.port}
        if self.cookie:
            h["Cookie"] = "autan_session=" + self.cookie
            if method != "GET":
                h["X-CSRF-Token"] = self.csrf
        c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
        r = c.getresponse()
        raw = r.read()
        c.close()
        cookie = r.getheader("Set-Cookie")
        if cookie and cookie.startswith("autan_session="):
            type(self).cookie = cookie.split(";")[0].split("=", 1)[1]
        data = json.loads(raw) if r.getheader("Content-Type", "").startswith(
            "application/json") and raw else raw.decode()
        if isinstance(data, dict) and "csrf" in data:
            type(self).csrf = data["csrf"]
        return r.status, data, r

    def v1(self, key, max_tokens=4):
        return self.server.post("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": max_tokens},
            headers={"Authorization": "Bearer " + key})

    def check_429(self, status, body, r, who):
        self.assertEqual(status, 429, body)
        err = body["error"]
        self.assertEqual(err["type"], "insufficient_quota")
        self.assertEqual(err["code"], "daily_quota_exceeded")
        self.assertIn("daily quota exceeded for " + who, err["message"])
        self.assertRegex(err["message"], r"resets at \d{4}-\d\d-\d\dT00:00:00Z$")
        wait = int(r.getheader("Retry-After"))
        self.assertTrue(1 <= wait <= 86400, wait)

    def test_quotas(self):
        status, body, _ = self.app("POST", "/api/setup", {"username": "root", "password": PASSWORD})
        self.assertEqual(status, 200, body)
        root = body["user"]
        status, key, _ = self.app("POST", "/api/keys", {"label": "quota"})
        self.assertEqual(status, 201, key)
        secret, key_id = key["secret"], key["key"]["id"]

        # A keys-file key with a cap of 0 J is refused from its first request.
        file_name = "file:" + hashlib.sha256(FILE_KEY.encode()).hexdigest()[:16]
        self.assertEqual(self.v1(FILE_KEY)[0], 200)
        status, q, _ = self.app("PUT", "/api/admin/quotas",
                                {"subject": "key:" + file_name, "joules_per_day": 0})
        self.assertEqual((status, q), (200, {"subject": "key:" + file_name,
                                             "tokens_per_day": None, "joules_per_day": 0.0}))
        self.check_429(*self.v1(FILE_KEY), "this API key")
        self.assertEqual(self.server.request("GET", "/metrics", headers={
            "Authorization": "Bearer " + FILE_KEY})[0], 200)  # monitoring stays open

        # The user's cap counts personal keys and the web app together.
        status, q, _ = self.app("PUT", "/api/admin/quotas",
                                {"subject": "user:" + root["id"], "tokens_per_day": 40})
        self.assertEqual(status, 200, q)
        used, refused = 0, None
        for _ in range(20):
            status, body, r = self.v1(secret)
            if status != 200:
                refused = (status, body, r)
                break
            used += body["usage"]["total_tokens"]
            self.assertLess(used - body["usage"]["total_tokens"], 40)  # admitted under the cap
            time.sleep(0.2)  # usage is written after the answer, off the engine thread
        self.assertIsNotNone(refused, "never refused after %d tokens" % used)
        self.assertGreaterEqual(used, 40)
        self.check_429(*refused, "user 'root'")
        status, conv, _ = self.app("POST", "/api/conversations", {})
        self.assertEqual(status, 201, conv)
        status, body, r = self.app("POST", "/api/conversations/%s/messages" % conv["id"],
                                   {"content": "encore"})
        self.check_429(status, body, r, "user 'root'")
        status, mine, _ = self.app("GET", "/api/usage")
        self.assertEqual(status, 200, mine)
        self.assertEqual(mine["prompt_tokens"] + mine["completion_tokens"], used)
        self.assertEqual(mine["quota"]["tokens_per_day"], 40)

        # The administrator's view: JSON rows and the same as CSV.
        status, usage, _ = self.app("GET", "/api/admin/usage")
        self.assertEqual(status, 200, usage)
        rows = [r for r in usage["data"] if r["username"] == "root"]
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["prompt_tokens"] + rows[0]["completion_tokens"], used)
        self.assertGreater(rows[0]["energy_joules"], 0)
        status, text, r = self.app("GET", "/api/admin/usage?format=csv&from=%s&to=%s"
                                   % (usage["from"], usage["to"]))
        self.assertEqual(status, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/csv"))
        self.assertIn("attachment", r.getheader("Content-Disposition"))
        table = list(csv.DictReader(io.StringIO(text)))
        self.assertEqual([(t["day"], t["user"], t["requests"]) for t in table],
                         [(rows[0]["day"], "root", str(rows[0]["requests"]))])
        self.assertEqual(self.app("GET", "/api/admin/usage?from=2025-13-01")[0], 400)
        status, quotas, _ = self.app("GET", "/api/admin/quotas")
        self.assertEqual(sorted(q["subject"] for q in quotas["data"]),
                         sorted(["key:" + file_name, "user:" + root["id"]]))
        self.assertEqual(self.app("PUT", "/api/admin/quotas",
                                  {"subject": "group:x", "tokens_per_day": 1})[0], 400)

        # Usage and quotas are stored: a restart changes nothing.
        self.assertEqual(self.server.stop(), 0)
        type(self).start()
        self.check_429(*self.v1(FILE_KEY), "this API key")
        self.check_429(*self.v1(secret), "user 'root'")
        # Lifting the user's cap lets the personal key through again; the key has none.
        status, _, _ = self.app("POST", "/api/login", {"username": "root", "password": PASSWORD})
        self.assertEqual(status, 200)
        self.assertEqual(self.app("PUT", "/api/admin/quotas",
                                  {"subject": "user:" + root["id"], "tokens_per_day": None})[0],
                         200)
        self.assertEqual(self.v1(secret)[0], 200)
        self.assertEqual(key_id, self.app("GET", "/api/keys")[1]["data"][0]["id"])


if __name__ == "__main__":
    unittest.main()
