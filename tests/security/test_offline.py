"""The offline guarantee: `autan serve`, its API and the web app work in a
network namespace that has only loopback (`unshare -n`), and strace sees the
server attempt no connection and send no datagram anywhere but loopback:
no telemetry, no update check, no DNS lookup, no font or script from a CDN.

The test re-runs itself inside the namespace; it is skipped (with the
reason) where unshare or strace is not permitted."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from serve_util import Server, cli  # noqa: E402
from test_app import PASSWORD, Client, streamed_text  # noqa: E402

INSIDE = "AUTAN_OFFLINE_NAMESPACE"
KEY = "sk-offline-test-key"
# connect(5, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}, 16)
ADDRESS = re.compile(r'sa_family=(AF_\w+)(.*?)(?:\}|$)')


def namespace_problem():
    """Why the test cannot run here, or None."""
    for tool in ("unshare", "strace", "ip"):
        if shutil.which(tool) is None:
            return tool + " is not installed (scripts/setup.sh installs it)"
    p = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if p.returncode != 0:
        return "unshare -n is not permitted here: " + p.stderr.strip()
    p = subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True, text=True)
    if p.returncode != 0:
        return "strace is not permitted here: " + p.stderr.strip()
    return None


def foreign_addresses(trace):
    """The strace lines whose socket address is neither loopback nor a Unix socket."""
    bad = []
    for line in trace.splitlines():
        for family, rest in ADDRESS.findall(line):
            if family == "AF_UNIX" or family == "AF_NETLINK" or family == "AF_UNSPEC":
                continue
            if family == "AF_INET" and 'inet_addr("127.' in rest:
                continue
            if family == "AF_INET6" and ('"::1"' in rest or '"::ffff:127.' in rest):
                continue
            bad.append(line)
    return bad


class OfflineTest(unittest.TestCase):
    def test_in_a_namespace_with_only_loopback(self):
        if os.environ.get(INSIDE) != "1":
            problem = namespace_problem()
            if problem:
                self.skipTest(problem)
            p = subprocess.run(
                ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
                 sys.executable, __file__, "-v", "Inside.test_inside"],
                env=dict(os.environ, **{INSIDE: "1"}), capture_output=True, text=True,
                timeout=600)
            sys.stderr.write(p.stderr[-3000:])
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            self.assertIn("test_inside (__main__.Inside.test_inside) ... ok", p.stderr)


class Inside(unittest.TestCase):
    """Runs only in the namespace, started by OfflineTest."""

    def setUp(self):
        if os.environ.get(INSIDE) != "1":
            self.skipTest("runs inside the namespace only")

    def test_inside(self):
        # The namespace really is cut off: only lo, and the world unreachable.
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        self.assertEqual(re.findall(r"^\d+: (\w+)", links, re.M), ["lo"])
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "tiny.gguf")
            cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", model)
            keys = os.path.join(tmp, "keys")
            with open(keys, "w") as f:
                f.write(hashlib.sha256(KEY.encode()).hexdigest() + "\n")
            trace = os.path.join(tmp, "trace")
            server = Server(model, "--ctx", "256", "--data-dir", os.path.join(tmp, "data"),
                            "--api-keys", keys,
                            wrapper=["strace", "-f", "-qq", "-e", "trace=network", "-o", trace])
            try:
                self.use_everything(server)
            finally:
                # strace holds SIGTERM back from itself: the server gets it, and
                # strace ends with the server's exit status.
                with open("/proc/%d/task/%d/children" % (server.proc.pid, server.proc.pid)) as f:
                    os.kill(int(f.read().split()[0]), signal.SIGTERM)
                server.proc.wait(60)
                self.assertEqual(server.stop(), 0)
            with open(trace) as f:
                text = f.read()
            calls = re.findall(r"\b(connect|sendto|sendmsg|bind)\(", text)
            self.assertIn("bind", calls)  # strace saw the server's sockets
            self.assertEqual(foreign_addresses(text), [])
            self.assertNotRegex(text, r"htons\(53\)")  # no DNS, not even to loopback

    def use_everything(self, server):
        admin = Client(server)
        self.assertEqual(admin.request("POST", "/api/setup", {
            "username": "root", "password": PASSWORD})[0], 200)
        status, index, _ = server.request("GET", "/")
        self.assertEqual(status, 200)
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', index)
        self.assertTrue(assets)
        for path in assets:  # every script, style and icon the page loads is served here
            c = server.conn()
            c.request("GET", path)
            r = c.getresponse()
            self.assertEqual((r.status, len(r.read()) > 0), (200, True), path)
            c.close()
        self.assertNotRegex(index, r'(?:src|href)="(?:https?:)?//')
        conv = admin.request("POST", "/api/conversations", {"title": "offline"})[1]
        events = admin.stream("/api/conversations/%s/messages" % conv["id"],
                              {"content": "hello", "parameters": {"max_tokens": 8}})
        self.assertEqual(events[-1]["type"], "done")
        self.assertEqual(events[-1]["message"]["content"], streamed_text(events))
        auth = {"Authorization": "Bearer " + KEY}
        status, body, _ = server.request("POST", "/v1/chat/completions", {
            "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}, headers=auth)
        self.assertEqual(status, 200, body)
        events, done = server.stream("/v1/chat/completions", {
            "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "stream": True},
            headers=auth)
        self.assertTrue(done)
        status, body, _ = server.request("POST", "/v1/embeddings", {"input": "x"}, headers=auth)
        self.assertEqual(status, 200, body)
        self.assertEqual(server.request("GET", "/metrics", headers=auth)[0], 200)
        status, info, _ = admin.request("GET", "/api/info")
        self.assertEqual(status, 200, json.dumps(info))


if __name__ == "__main__":
    unittest.main()
