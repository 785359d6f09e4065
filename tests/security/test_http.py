"""Hostile HTTP clients against a real `autan serve`: oversized headers and
bodies, conflicting or unsupported framing (request smuggling), clients that
send their headers a byte at a time (slowloris), floods of silent
connections, and a process out of file descriptors. Each time the server
answers the well-behaved client next to them at once."""
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from serve_util import AUTAN, Server, cli  # noqa: E402

MAX_BODY = 65536
IDLE = 3  # --idle-timeout, seconds
MAX_CONNECTIONS = 40
BODY = b'{"content":"hi"}'
SMUGGLED = b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n"


def exchange(port, data, timeout=5):
    """Sends `data` on a new connection; every byte the server sends back
    until it closes (or `timeout` seconds of silence)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    return out


def statuses(raw):
    return [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]


def cpu_seconds(pid):
    """User + system CPU time the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class HttpHardeningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", cls.model)
        cls.server = Server(cls.model, "--ctx", "256", "--max-body", str(MAX_BODY),
                            "--idle-timeout", str(IDLE), "--max-connections",
                            str(MAX_CONNECTIONS), "--data-dir", os.path.join(cls.tmp.name, "d"))
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "autan serve exited %d" % code

    def assert_serving(self, within=1.0):
        """A well-behaved request is answered, and quickly."""
        start = time.time()
        raw = exchange(self.port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(statuses(raw), [200], raw[:200])
        self.assertLess(time.time() - start, within)

    def post(self, headers, body):
        return b"POST /tokenize HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + body

    def test_oversized_headers_get_431(self):
        big = b"X-Big: " + b"a" * (70 << 10) + b"\r\n"
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(1000))
        for headers in (big, many):
            raw = exchange(self.port, b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
            self.assertEqual(statuses(raw), [431], raw[:200])
        target = b"/" + b"c" * (70 << 10)
        raw = exchange(self.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(statuses(raw), [431], raw[:200])
        self.assert_serving()

    def test_oversized_bodies_get_413(self):
        # Announced: refused before a byte of the body is read.
        raw = exchange(self.port, self.post(b"Content-Length: %d\r\n" % (MAX_BODY + 1), b""))
        self.assertEqual(statuses(raw), [413], raw[:200])
        raw = exchange(self.port, self.post(b"Content-Length: %d\r\n" % (1 << 40), b""))
        self.assertEqual(statuses(raw), [413], raw[:200])
        # Chunked: refused once the chunks pass the limit.
        chunk = b"%x\r\n%s\r\n" % (4096, b" " * 4096)
        raw = exchange(self.port, self.post(b"Transfer-Encoding: chunked\r\n",
                                            chunk * (MAX_BODY // 4096 + 2) + b"0\r\n\r\n"))
        self.assertEqual(statuses(raw), [413], raw[:200])
        # Just under the limit is served.
        padded = BODY[:-1] + b" " * (MAX_BODY - len(BODY) - 1) + b"}"
        raw = exchange(self.port, self.post(b"Content-Length: %d\r\nConnection: close\r\n"
                                            % len(padded), padded))
        self.assertEqual(statuses(raw), [200], raw[:200])

    def test_conflicting_or_unsupported_framing_is_refused_and_closes(self):
        """Each is answered 400 once and the connection closed: the smuggled
        request after it never runs."""
        cases = {
            "CL and TE": b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
            "TE and CL": b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
            "two lengths": b"Content-Length: 0\r\nContent-Length: %d\r\n" % len(SMUGGLED),
            "signed length": b"Content-Length: +%d\r\n" % len(SMUGGLED),
            "negative length": b"Content-Length: -1\r\n",
            "huge length": b"Content-Length: 99999999999999999999999\r\n",
            "TE gzip": b"Transfer-Encoding: gzip\r\n",
            "TE gzip and CL": b"Transfer-Encoding: gzip\r\nContent-Length: %d\r\n" % len(SMUGGLED),
            "TE identity": b"Transfer-Encoding: identity\r\n",
            "TE chunked, identity": b"Transfer-Encoding: chunked, identity\r\n",
            "TE xchunked": b"Transfer-Encoding: xchunked\r\n",
            "TE twice": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "TE with a space": b"Transfer-Encoding : chunked\r\n",
        }
        for name, headers in cases.items():
            raw = exchange(self.port, self.post(headers, SMUGGLED))
            self.assertEqual(statuses(raw), [400], (name, raw[:300]))
            self.assertNotIn(b'"version"', raw, name)
        raw = exchange(self.port, b"POST /tokenize HTTP/1.0\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED)
        self.assertEqual(statuses(raw), [400], raw[:300])
        # A bare LF ends no line; a chunk size past 64 bits is no size.
        raw = exchange(self.port, b"POST /tokenize HTTP/1.1\nHost: x\nContent-Length: 16\n\n" + BODY)
        self.assertEqual(statuses(raw), [400], raw[:300])
        raw = exchange(self.port, self.post(b"Transfer-Encoding: chunked\r\n",
                                            b"ffffffffffffffffff\r\n" + BODY))
        self.assertEqual(statuses(raw), [400], raw[:300])
        # Control: plain chunked framing is served, and pipelining works.
        ok = self.post(b"Transfer-Encoding: chunked\r\n", b"10\r\n" + BODY + b"\r\n0\r\n\r\n")
        raw = exchange(self.port, ok + SMUGGLED.replace(b"\r\n\r\n",
                                                         b"\r\nConnection: close\r\n\r\n"))
        self.assertEqual(statuses(raw), [200, 200], raw[:300])

    def test_slow_header_clients_are_cut_off(self):
        """Thirty clients dribble a header line a byte every 0.2 s: the
        server keeps answering others at once, and closes each slow one
        after --idle-timeout although it never stops sending."""
        n = 30
        socks = [socket.create_connection(("127.0.0.1", self.port)) for _ in range(n)]
        closed_after = [None] * n
        stop = threading.Event()

        def dribble():
            start = time.time()
            line = b"GET /health HTTP/1.1\r\nX-Slow: " + b"z" * 1000
            for i in range(len(line)):
                if stop.is_set():
                    return
                for j, s in enumerate(socks):
                    if closed_after[j] is None:
                        try:
                            s.send(line[i:i + 1])
                        except OSError:
                            closed_after[j] = time.time() - start
                if all(c is not None for c in closed_after):
                    return
                time.sleep(0.2)

        t = threading.Thread(target=dribble)
        t.start()
        try:
            for _ in range(6):
                self.assert_serving()
                time.sleep(0.3)
            t.join(IDLE + 10)
        finally:
            stop.set()
            t.join()
            for s in socks:
                s.close()
        # The server closed them: a send after its close fails (reset).
        self.assertTrue(all(c is not None for c in closed_after), closed_after)
        self.assertTrue(all(IDLE - 0.5 < c < IDLE + 3 for c in closed_after), closed_after)
        self.assert_serving()

    def test_connection_flood_gets_503_beyond_the_cap(self):
        socks = [socket.create_connection(("127.0.0.1", self.port))
                 for _ in range(MAX_CONNECTIONS + 20)]
        try:
            time.sleep(0.5)
            refused = 0
            for s in socks:
                s.settimeout(0.05)
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    continue
                self.assertEqual(statuses(data), [503], data[:200])
                self.assertIn(b"Retry-After: 1", data)
                refused += 1
            self.assertEqual(refused, 20)
            # Full: a new client is told so at once rather than hanging.
            raw = exchange(self.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(statuses(raw), [503])
        finally:
            for s in socks:
                s.close()
        time.sleep(0.5)
        self.assert_serving()


class OutOfDescriptorsTest(unittest.TestCase):
    def test_no_busy_loop_when_out_of_descriptors(self):
        """With 64 descriptors and a cap above that, accept() fails with
        EMFILE: the server waits instead of spinning a core, and serves again
        once the clients leave. With the default cap it never gets there."""
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "tiny.gguf")
            cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", model)
            for cap, expect in (["--max-connections", "1000"], None), ([], 503):
                proc = subprocess.Popen(
                    [AUTAN, "serve", "-m", model, "--port", "0", "-t", "1", "--ctx", "256",
                     "--data-dir", os.path.join(tmp, "d"), *cap],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)))
                try:
                    port = None
                    while port is None:
                        line = proc.stderr.readline().decode()
                        self.assertTrue(line, "autan serve exited")
                        m = re.search(r"on http://[^ ]+:(\d+) ", line)
                        port = int(m.group(1)) if m else None
                    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(80)]
                    time.sleep(0.5)
                    before = cpu_seconds(proc.pid)
                    time.sleep(2)
                    self.assertLess(cpu_seconds(proc.pid) - before, 0.3, cap)
                    if expect:
                        socks[-1].settimeout(2)
                        self.assertEqual(statuses(socks[-1].recv(4096)), [expect])
                    for s in socks:
                        s.close()
                    time.sleep(0.5)
                    raw = exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n"
                                   b"Connection: close\r\n\r\n")
                    self.assertEqual(statuses(raw), [200], (cap, raw[:200]))
                finally:
                    proc.terminate()
                    proc.wait(30)
                    proc.stderr.close()


if __name__ == "__main__":
    unittest.main()
