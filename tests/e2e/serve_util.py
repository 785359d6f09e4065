"""Starts `autan serve` on a free loopback port and talks to it with http.client."""
import http.client
import json
import os
import re
import subprocess
import tempfile
import threading
import time

AUTAN = os.environ["AUTAN_BIN"]


def cli(*args):
    """Runs `autan ARGS`; its stdout, or an AssertionError with its stderr."""
    p = subprocess.run([AUTAN, *args], capture_output=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(p.stderr.decode())
    return p.stdout.decode()


class Server:
    def __init__(self, model, *args, env=None, wrapper=()):
        """`wrapper`: a command that runs autan (strace, for one), with its options."""
        # The web app's data goes to a directory of the test's own, never to
        # the user's ~/.local/share/autan.
        self.data_home = tempfile.TemporaryDirectory()
        env = dict(os.environ if env is None else env)
        env.setdefault("XDG_DATA_HOME", self.data_home.name)
        self.proc = subprocess.Popen(
            [*wrapper, AUTAN, "serve", "-m", model, "--port", "0", "-t", "2", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        self.log = []
        deadline = time.time() + 60
        self.port = None
        while time.time() < deadline:
            line = self.proc.stderr.readline().decode()
            if not line:
                raise AssertionError("autan serve exited: " + "".join(self.log))
            self.log.append(line)
            m = re.search(r"on http://[^ ]+:(\d+) ", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            raise AssertionError("autan serve did not start")
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line.decode())

    def access_log(self):
        out = []
        for line in self.log:
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def conn(self, timeout=120):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, raw=None):
        c = self.conn()
        h = {"Content-Type": "application/json", **(headers or {})}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        c.close()
        ctype = r.getheader("Content-Type", "")
        parsed = json.loads(payload) if ctype.startswith("application/json") else payload.decode()
        return r.status, parsed, r

    def post(self, path, body, headers=None):
        return self.request("POST", path, body, headers)

    def stream(self, path, body, headers=None):
        """The JSON events of an SSE response, and whether it ended with [DONE]."""
        c = self.conn()
        c.request("POST", path, body=json.dumps(body),
                  headers={"Content-Type": "application/json", **(headers or {})})
        r = c.getresponse()
        assert r.status == 200, (r.status, r.read())
        assert r.getheader("Content-Type").startswith("text/event-stream")
        events, done = [], False
        for block in r.read().decode().split("\n\n"):
            if not block:
                continue
            assert block.startswith("data: "), block
            data = block[len("data: "):]
            if data == "[DONE]":
                done = True
            else:
                assert not done, "an event after [DONE]"
                events.append(json.loads(data))
        c.close()
        return events, done

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.proc.stderr.close()
        self.data_home.cleanup()
        return self.proc.returncode


def metric(text, name):
    """The value of an unlabelled sample in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)
