"""Soak: drives `autan serve` at saturation with a mix of streamed and whole
chat completions, web-app chats, embeddings, clients that hang up mid-stream
and invalid requests, for SOAK_SECONDS (default 1800; `make test` runs a
120 s smoke). Passes when the server answered no request with a 5xx, never
died, and its RSS and open descriptors after the run are within 5 % of what
they were after the warm-up (both measured with no request in flight).
Prints p50/p99 latencies and writes them, with the rest, to
$SOAK_OUT/soak.json and soak.md (default build/soak) for bench/RESULTS.md.

Environment: AUTAN_BIN, SOAK_SECONDS, SOAK_CLIENTS (default 16),
SOAK_MODEL (default: a synthesized tiny model), SOAK_OUT, SOAK_RSS_LIMIT."""
import http.client
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from serve_util import Server, cli  # noqa: E402
from test_app import PASSWORD, Client  # noqa: E402

SECONDS = float(os.environ.get("SOAK_SECONDS", "1800"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "16"))
KEY = "sk-soak"
# RSS and descriptors after the run against after the warm-up. The 2-minute
# smoke's warm-up is too short for the allocator and SQLite's page cache to
# settle, so `make test` passes SOAK_RSS_LIMIT=0.25 and only `make soak`
# holds RSS to 5 %.
RSS_LIMIT = float(os.environ.get("SOAK_RSS_LIMIT", "0.05"))
FD_LIMIT = 0.05


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}   # kind -> [seconds]
        self.statuses = {}  # status -> count
        self.server_errors = []

    def record(self, kind, status, seconds, detail=""):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500:
                self.server_errors.append((kind, status, detail[:300]))
            if seconds is not None and status < 400:
                self.latency.setdefault(kind, []).append(seconds)


class Driver:
    def __init__(self, server, stats, users):
        self.server, self.stats, self.users = server, stats, users
        self.auth = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}
        self.paused = threading.Event()
        self.idle = threading.Semaphore(0)
        self.stop = threading.Event()

    def post(self, path, body, headers=None, raw=None):
        c = self.server.conn(timeout=300)
        c.request("POST", path, body=raw if raw is not None else json.dumps(body),
                  headers=headers or self.auth)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def whole(self, rng):
        start = time.time()
        status, data = self.post("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "tell me %d" % rng.randrange(1000)}],
            "max_tokens": rng.randrange(1, 16)})
        self.stats.record("chat", status, time.time() - start, data.decode(errors="replace"))

    def streamed(self, rng, hang_up=False):
        start = time.time()
        c = self.server.conn(timeout=300)
        c.request("POST", "/v1/chat/completions", body=json.dumps({
            "messages": [{"role": "user", "content": "stream %d" % rng.randrange(1000)}],
            "max_tokens": rng.randrange(4, 32), "stream": True}), headers=self.auth)
        r = c.getresponse()
        if r.status != 200:
            self.stats.record("stream", r.status, None, r.read().decode(errors="replace"))
            return c.close()
        first, events = None, 0
        while True:
            line = r.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                events += 1
                if line.startswith(b"data: [DONE]"):
                    break
                choices = json.loads(line[len(b"data: "):]).get("choices") or [{}]
                if first is None and choices[0].get("delta", {}).get("content"):
                    first = time.time() - start  # the first piece of text, not the role
                if hang_up and events >= 3:
                    c.sock.shutdown(socket.SHUT_RDWR)
                    c.close()
                    self.stats.record("hang-up", 200, None)
                    return
        c.close()
        self.stats.record("stream", 200, time.time() - start)
        if first is not None:
            self.stats.record("stream first token", 200, first)

    def invalid(self, rng):
        cases = [
            ("/v1/chat/completions", None, b"{not json"),
            ("/v1/chat/completions", {"messages": "nope"}, None),
            ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                      "max_tokens": -4}, None),
            ("/v1/chat/completions", {"messages": [{"role": "wizard", "content": "x"}]}, None),
            ("/v1/nothing", {}, None),
            ("/v1/embeddings", {"input": []}, None),
        ]
        path, body, raw = rng.choice(cases)
        status, data = self.post(path, body, raw=raw)
        self.stats.record("invalid", status, None, data.decode(errors="replace"))
        if not 400 <= status < 500:
            self.stats.record("invalid answered %d" % status, 500, None, path)
        status, _ = self.post("/v1/models", {}, headers={"Authorization": "Bearer wrong"})
        self.stats.record("invalid", status, None)

    def embedding(self, rng):
        start = time.time()
        status, data = self.post("/v1/embeddings", {"input": "soak %d" % rng.randrange(1000)})
        self.stats.record("embedding", status, time.time() - start, data.decode(errors="replace"))

    def app_chat(self, rng, client, conv_id):
        start = time.time()
        c, r = client.open_stream("/api/conversations/%s/messages" % conv_id, {
            "content": "app %d" % rng.randrange(1000),
            "parameters": {"max_tokens": rng.randrange(1, 32)}})
        body = r.read().decode(errors="replace")
        c.close()
        status = r.status
        if status == 200 and '"type":"error"' in body.replace(" ", ""):
            status = 500  # an error event inside a 200 stream is a server error too
        self.stats.record("app chat", status, time.time() - start, body[-300:])

    def worker(self, seed):
        rng = random.Random(seed)
        client = Client(self.server)
        client.login(self.users[seed % len(self.users)])
        status, conv, _ = client.request("POST", "/api/conversations", {"title": "soak"})
        assert status == 201, conv
        turns = 0
        while not self.stop.is_set():
            if self.paused.is_set():
                self.idle.release()
                while self.paused.is_set() and not self.stop.is_set():
                    time.sleep(0.05)
                continue
            try:
                pick = rng.random()
                if pick < 0.30:
                    self.whole(rng)
                elif pick < 0.55:
                    self.streamed(rng)
                elif pick < 0.65:
                    self.streamed(rng, hang_up=True)
                elif pick < 0.75:
                    self.invalid(rng)
                elif pick < 0.80:
                    self.embedding(rng)
                else:
                    turns += 1
                    if turns % 20 == 0:  # keep prompts inside the context
                        status, conv, _ = client.request("POST", "/api/conversations",
                                                         {"title": "soak"})
                    self.app_chat(rng, client, conv["id"])
            except (OSError, http.client.HTTPException) as e:
                self.stats.record("connection", 599, None, repr(e))

    def quiet(self, n_workers):
        """Stops every worker between requests and waits for the server to settle."""
        self.paused.set()
        for _ in range(n_workers):
            self.idle.acquire()
        time.sleep(2)

    def resume(self):
        self.paused.clear()


class SoakTest(unittest.TestCase):
    def test_soak(self):
        out_dir = os.environ.get("SOAK_OUT", os.path.join(HERE, "..", "..", "build", "soak"))
        os.makedirs(out_dir, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            model = os.environ.get("SOAK_MODEL") or os.path.join(tmp, "tiny.gguf")
            if not os.environ.get("SOAK_MODEL"):
                cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", model)
            keys = os.path.join(tmp, "keys")
            with open(keys, "w") as f:
                f.write(cli("serve", "--hash-key", KEY))
            server = Server(model, "--ctx", "1024", "--parallel", "4", "--max-queue", "256",
                            "--data-dir", os.path.join(tmp, "data"), "--api-keys", keys)
            admin = Client(server)
            self.assertEqual(admin.request("POST", "/api/setup", {
                "username": "root", "password": PASSWORD})[0], 200)
            users = ["u%d" % i for i in range(4)]
            for name in users:
                self.assertEqual(admin.request("POST", "/api/admin/users", {
                    "username": name, "password": PASSWORD})[0], 201)
            stats = Stats()
            driver = Driver(server, stats, users)
            threads = [threading.Thread(target=driver.worker, args=(i,), daemon=True)
                       for i in range(CLIENTS)]
            started = time.time()
            for t in threads:
                t.start()
            warm_up = min(300.0, max(20.0, SECONDS * 0.2))
            samples = []
            time.sleep(warm_up)
            driver.quiet(CLIENTS)
            warm = {"rss_kib": rss_kib(server.proc.pid), "fds": open_fds(server.proc.pid)}
            driver.resume()
            while time.time() - started < SECONDS:
                time.sleep(min(10.0, max(0.0, SECONDS - (time.time() - started))))
                self.assertIsNone(server.proc.poll(), "autan serve died")
                samples.append((round(time.time() - started), rss_kib(server.proc.pid),
                                open_fds(server.proc.pid)))
            driver.quiet(CLIENTS)
            end = {"rss_kib": rss_kib(server.proc.pid), "fds": open_fds(server.proc.pid)}
            driver.stop.set()
            driver.resume()
            for t in threads:
                t.join(120)
            self.assertIsNone(server.proc.poll(), "autan serve died")
            code = server.stop()
        summary = {
            "seconds": round(time.time() - started), "clients": CLIENTS,
            "warm_up_seconds": warm_up, "after_warm_up": warm, "at_end": end,
            "rss_growth": end["rss_kib"] / warm["rss_kib"] - 1,
            "fd_growth": end["fds"] / warm["fds"] - 1,
            "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
            "server_errors": stats.server_errors[:20],
            "latency_ms": {kind: {"n": len(v), "p50": round(1000 * percentile(v, 50), 1),
                                  "p99": round(1000 * percentile(v, 99), 1)}
                           for kind, v in sorted(stats.latency.items())},
            "samples": samples, "exit_code": code,
        }
        with open(os.path.join(out_dir, "soak.json"), "w") as f:
            json.dump(summary, f, indent=1)
        lines = ["| requests | n | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
        for kind, l in summary["latency_ms"].items():
            lines.append("| %s | %d | %.1f | %.1f |" % (kind, l["n"], l["p50"], l["p99"]))
        lines.append("")
        lines.append("%d s, %d clients; statuses %s; RSS %d -> %d KiB (%+.1f %%), fds %d -> %d "
                     "(%+.1f %%)" % (summary["seconds"], CLIENTS, summary["statuses"],
                                    warm["rss_kib"], end["rss_kib"], 100 * summary["rss_growth"],
                                    warm["fds"], end["fds"], 100 * summary["fd_growth"]))
        with open(os.path.join(out_dir, "soak.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print("\n".join(lines))
        self.assertEqual(stats.server_errors, [])
        self.assertEqual(code, 0)
        self.assertGreater(sum(stats.statuses.values()), CLIENTS * 2)
        self.assertGreater(stats.statuses.get(400, 0), 0)  # the invalid requests did arrive
        self.assertLess(summary["rss_growth"], RSS_LIMIT, summary)
        self.assertLess(summary["fd_growth"], FD_LIMIT, summary)


if __name__ == "__main__":
    unittest.main()
