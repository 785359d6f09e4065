"""`autan pull` against a Hugging Face-like hub on 127.0.0.1: downloads,
resume after a dropped or stalled connection, SHA-256 and GGUF checks, tokens,
and names that try to leave the store. Nothing here touches the internet.

The hub answers HEAD/GET /OWNER/REPO/resolve/REV/FILE as huggingface.co does
for LFS files: a 302 to a CDN (another origin, so a token must not follow)
with `X-Linked-Etag: "<sha256>"` and `X-Linked-Size`. The CDN serves bytes
with Range support and can be told to cut or stall a transfer midway."""
import fcntl
import hashlib
import json
import http.server
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from serve_util import Server

AUTAN = os.environ["AUTAN_BIN"]
GOOD_TOKEN = "hf_good_token_0123456789"


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, no request log."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Hub:
    """Two loopback servers: the hub (metadata, redirects, auth) and the CDN."""

    def __init__(self):
        self.files = {}        # "owner/repo/file" -> bytes the CDN serves
        self.announced = {}    # "owner/repo/file" -> sha256 the hub announces
        self.gated = set()     # repos that need GOOD_TOKEN
        self.requests = []     # (server, method, path, headers)
        self.drop_once = None  # cut the next full-body GET after this many bytes
        self.stall_once = None  # stall the next GET after this many bytes
        self.bad_range = False  # answer ranges with a wrong Content-Range
        self.ignore_range = False  # answer ranges with the whole file (200)
        self.redirect_to = None  # the hub redirects here instead of to the CDN
        self.hide_etag = False  # resolve answers without X-Linked-Etag (as some mirrors do)
        self.tree_api = True    # /api/models/REPO/tree/REV/DIR lists files with their LFS digest
        self.busy_once = set()  # servers ("hub", "cdn") that answer their next request 503
        self.lock = threading.Lock()
        self.cdn = self._serve(self._cdn_handler())
        self.hub = self._serve(self._hub_handler())
        # "localhost", not 127.0.0.1: another origin than the endpoint.
        self.cdn_base = "http://localhost:%d" % self.cdn.server_address[1]
        self.endpoint = "http://127.0.0.1:%d" % self.hub.server_address[1]

    def _serve(self, handler):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def close(self):
        for s in (self.hub, self.cdn):
            s.shutdown()
            s.server_close()

    def add(self, key, data, announced=None):
        self.files[key] = data
        self.announced[key] = announced or hashlib.sha256(data).hexdigest()

    def seen(self, server, method=None):
        with self.lock:
            return [r for r in self.requests if r[0] == server and (method is None or r[1] == method)]

    def _record(self, name, handler):
        """Logs a request; True when the server is to answer it 503."""
        with self.lock:
            self.requests.append((name, handler.command, handler.path, dict(handler.headers)))
            if name in self.busy_once:
                self.busy_once.discard(name)
                return True
        return False

    def _hub_handler(self):
        hub = self

        class Handler(QuietHandler):
            def do_HEAD(self):
                self.answer()

            def do_GET(self):
                self.answer()

            def answer(self):
                if hub._record("hub", self):
                    return self.reply(503)
                parts = self.path.split("?")[0].split("/")
                # /api/models/owner/repo/tree/rev[/dir...]
                if parts[1:3] == ["api", "models"] and len(parts) >= 7 and parts[5] == "tree":
                    return self.tree(parts[3] + "/" + parts[4], "/".join(parts[7:]))
                # /owner/repo/resolve/rev/file...
                if len(parts) < 6 or parts[3] != "resolve":
                    return self.reply(404)
                repo = parts[1] + "/" + parts[2]
                key = repo + "/" + "/".join(parts[5:])
                if repo in hub.gated and self.headers.get("Authorization") != "Bearer " + GOOD_TOKEN:
                    return self.reply(401)
                if key not in hub.files:
                    return self.reply(404)
                self.send_response(302)
                self.send_header("Location", hub.redirect_to or hub.cdn_base + "/cdn/" + key)
                if not hub.hide_etag:
                    self.send_header("X-Linked-Etag", '"%s"' % hub.announced[key])
                    self.send_header("X-Linked-Size", str(len(hub.files[key])))
                self.send_header("X-Repo-Commit", "0" * 40)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def tree(self, repo, folder):
                if not hub.tree_api:
                    return self.reply(404)
                prefix = repo + "/" + (folder + "/" if folder else "")
                entries = []
                for key, data in sorted(hub.files.items()):
                    if key.startswith(prefix) and "/" not in key[len(prefix):]:
                        entries.append({"type": "file", "oid": "0" * 40, "size": len(data),
                                        "path": key[len(repo) + 1:],
                                        "lfs": {"oid": hub.announced[key], "size": len(data),
                                                "pointerSize": 134}})
                body = json.dumps(entries).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _cdn_handler(self):
        hub = self

        class Handler(QuietHandler):
            def do_HEAD(self):
                self.answer(body=False)

            def do_GET(self):
                self.answer(body=True)

            def answer(self, body):
                busy = hub._record("cdn", self)
                path = self.path.split("?")[0]
                key = path[len("/cdn/"):] if path.startswith("/cdn/") else path[len("/plain/"):]
                data = hub.files.get(key)
                if data is None or busy:
                    self.send_response(503 if busy else 404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and not hub.ignore_range:
                    start = int(rng[len("bytes="):].rstrip("-"))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    first = start + 1 if hub.bad_range else start
                    self.send_header("Content-Range",
                                     "bytes %d-%d/%d" % (first, len(data) - 1, len(data)))
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if not body:
                    return
                try:
                    self.send_body(data, start)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on purpose (a refused range)

            def send_body(self, data, start):
                drop, stall = hub.drop_once, hub.stall_once
                hub.drop_once = hub.stall_once = None
                cut = drop if drop is not None else stall
                if cut is None:
                    self.wfile.write(data[start:])
                    return
                self.wfile.write(data[start:start + cut])
                self.wfile.flush()
                if stall is not None:
                    time.sleep(8)  # longer than the client's --stall-timeout
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

        return Handler


def autan(*args, env, timeout=120):
    p = subprocess.run([AUTAN, *args], capture_output=True, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class PullTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model_path = os.path.join(cls.tmp.name, "tiny.gguf")
        subprocess.run([AUTAN, "synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5",
                        cls.model_path], check=True, capture_output=True, timeout=300)
        with open(cls.model_path, "rb") as f:
            cls.model = f.read()
        cls.sha = hashlib.sha256(cls.model).hexdigest()
        cls.hub = Hub()

    @classmethod
    def tearDownClass(cls):
        cls.hub.close()
        cls.tmp.cleanup()

    def setUp(self):
        self.hub.requests.clear()
        self.hub.gated.clear()
        self.hub.bad_range = False
        self.hub.ignore_range = False
        self.hub.busy_once.clear()
        self.hub.redirect_to = None
        self.hub.hide_etag = False
        self.hub.tree_api = True
        self.work = tempfile.TemporaryDirectory(dir=self.tmp.name)
        self.store = os.path.join(self.work.name, "store")
        self.env = dict(os.environ, AUTAN_MODELS=self.store, HF_ENDPOINT=self.hub.endpoint)
        self.env.pop("HF_TOKEN", None)

    def tearDown(self):
        self.work.cleanup()

    def store_files(self):
        return sorted(os.listdir(self.store)) if os.path.isdir(self.store) else []

    def stored(self, name):
        with open(os.path.join(self.store, name), "rb") as f:
            return f.read()

    def test_short_name_pulls_then_runs_by_name(self):
        repo_file = "bartowski/Mistral-7B-Instruct-v0.3-GGUF/Mistral-7B-Instruct-v0.3-Q4_K_M.gguf"
        self.hub.add(repo_file, self.model)
        rc, out, err = autan("pull", "mistral-7b-instruct", env=self.env)
        self.assertEqual(rc, 0, err)
        name = "bartowski--Mistral-7B-Instruct-v0.3-GGUF--Mistral-7B-Instruct-v0.3-Q4_K_M.gguf"
        self.assertEqual(out.strip(), os.path.join(self.store, name))
        self.assertEqual(self.store_files(), [name])
        self.assertEqual(self.stored(name), self.model)
        self.assertIn(self.sha, err)
        # Not a terminal: a line per tenth of the file, not a redrawn bar.
        self.assertIn("autan: 100%", err)
        self.assertNotIn("\r", err)
        # The metadata came from the hub, the bytes from the CDN it redirected to.
        self.assertEqual([r[2] for r in self.hub.seen("hub", "HEAD")],
                         ["/" + repo_file.replace("GGUF/", "GGUF/resolve/main/")])
        self.assertEqual(len(self.hub.seen("cdn", "GET")), 1)

        args = ["-p", "Once upon a time", "-n", "8", "--temp", "0", "-t", "1"]
        rc, by_name, err = autan("run", "-m", "mistral-7b-instruct", *args, env=self.env)
        self.assertEqual(rc, 0, err)
        rc, by_path, err = autan("run", "-m", self.model_path, *args, env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(by_name, by_path)
        self.assertGreater(len(by_name), 0)
        rc, info, err = autan("info", name[:-len(".gguf")], env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertIn("architecture llama", info)

        # Served by name, under the name the clients asked for.
        server = Server("mistral-7b-instruct", env=self.env)
        try:
            status, models, _ = server.request("GET", "/v1/models")
            self.assertEqual(status, 200, models)
            self.assertEqual([m["id"] for m in models["data"]], ["mistral-7b-instruct"])
        finally:
            self.assertEqual(server.stop(), 0)

        rc, listing, _ = autan("pull", "--list", env=self.env)
        self.assertEqual(rc, 0)
        line = next(l for l in listing.splitlines() if l.split()[:1] == ["mistral-7b-instruct"])
        self.assertIn("pulled", line)
        self.assertIn(name, listing)

        # A second pull downloads nothing.
        before = len(self.hub.requests)
        rc, _, err = autan("pull", "mistral-7b-instruct", env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertIn("already in the store", err)
        self.assertEqual(len(self.hub.requests), before)

    def test_a_name_not_pulled_is_not_downloaded_implicitly(self):
        rc, _, err = autan("run", "-m", "mistral-nemo", "-p", "x", env=self.env)
        self.assertEqual(rc, 2)
        self.assertIn("autan pull mistral-nemo", err)
        rc, _, err = autan("serve", "-m", "mixtral-8x7b", env=self.env)
        self.assertEqual(rc, 2)
        self.assertIn("autan pull mixtral-8x7b", err)
        self.assertEqual(self.hub.requests, [])

    def test_dropped_connection_resumes_with_a_range_request(self):
        self.hub.add("o/r/m.gguf", self.model)
        half = len(self.model) // 2
        self.hub.drop_once = half
        rc, out, err = autan("pull", "hf://o/r/m.gguf", env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertIn("retrying", err)
        gets = self.hub.seen("cdn", "GET")
        self.assertEqual(len(gets), 2, gets)
        self.assertNotIn("Range", gets[0][3])
        self.assertEqual(gets[1][3].get("Range"), "bytes=%d-" % half)
        self.assertEqual(self.stored("o--r--m.gguf"), self.model)
        self.assertEqual(self.store_files(), ["o--r--m.gguf"])

    def test_interrupted_pull_resumes_on_the_next_run(self):
        self.hub.add("o/r/m.gguf", self.model)
        third = len(self.model) // 3
        self.hub.drop_once = third
        rc, _, err = autan("pull", "hf://o/r/m.gguf", "--retries", "0", env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("run the same command again to resume", err)
        self.assertEqual(self.store_files(), ["o--r--m.gguf.part"])
        self.assertEqual(self.stored("o--r--m.gguf.part"), self.model[:third])
        rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertIn("resuming", err)
        self.assertEqual(self.hub.seen("cdn", "GET")[-1][3].get("Range"), "bytes=%d-" % third)
        self.assertEqual(self.stored("o--r--m.gguf"), self.model)
        self.assertEqual(self.store_files(), ["o--r--m.gguf"])

    def test_busy_servers_are_retried(self):
        self.hub.add("o/r/m.gguf", self.model)
        self.hub.busy_once.update({"hub", "cdn"})
        rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertIn("127.0.0.1: HTTP 503; retrying", err)
        self.assertIn("HTTP 503 from localhost at 0.0 MiB; retrying", err)
        self.assertEqual(self.stored("o--r--m.gguf"), self.model)

    def test_a_second_pull_of_the_same_file_waits_its_turn(self):
        self.hub.add("o/r/m.gguf", self.model)
        os.makedirs(self.store)
        with open(os.path.join(self.store, "o--r--m.gguf.part"), "wb") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # as a running pull holds it
            rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("another `autan pull` is downloading this file", err)
        self.assertEqual(self.hub.seen("cdn"), [])
        rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env)
        self.assertEqual(rc, 0, err)

    def test_stalled_connection_times_out_and_resumes(self):
        self.hub.add("o/r/m.gguf", self.model)
        self.hub.stall_once = 4096
        start = time.time()
        rc, _, err = autan("pull", "hf://o/r/m.gguf", "--stall-timeout", "2", env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertLess(time.time() - start, 8)  # did not wait for the server to give up
        self.assertEqual(self.hub.seen("cdn", "GET")[-1][3].get("Range"), "bytes=4096-")
        self.assertEqual(self.stored("o--r--m.gguf"), self.model)

    def test_corrupted_copy_is_rejected_and_never_lands(self):
        corrupted = bytearray(self.model)
        corrupted[len(corrupted) // 2] ^= 0x01
        self.hub.add("o/r/m.gguf", bytes(corrupted), announced=self.sha)
        rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("SHA-256 mismatch: expected " + self.sha, err)
        self.assertIn(hashlib.sha256(corrupted).hexdigest(), err)
        self.assertEqual(self.store_files(), [])
        rc, _, err = autan("run", "-m", "hf://o/r/m.gguf", "-p", "x", env=self.env)
        self.assertEqual(rc, 2)

    def test_a_file_that_is_not_gguf_never_lands(self):
        junk = b"<html>not a model</html>" * 100
        self.hub.add("o/r/m.gguf", junk)  # announced digest matches: only the GGUF check can tell
        rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("not a valid GGUF model", err)
        self.assertEqual(self.store_files(), [])

    def test_gated_repository_and_tokens(self):
        self.hub.add("gated/r/m.gguf", self.model)
        self.hub.gated.add("gated/r")
        rc, _, err = autan("pull", "hf://gated/r/m.gguf", env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("HTTP 401", err)
        self.assertIn("set HF_TOKEN", err)

        wrong = dict(self.env, HF_TOKEN="hf_wrong_secret_987")
        rc, out, err = autan("pull", "hf://gated/r/m.gguf", env=wrong)
        self.assertEqual(rc, 1)
        self.assertIn("HTTP 401", err)
        self.assertIn("token was refused", err)
        self.assertNotIn("hf_wrong_secret_987", out + err)
        rc, _, err = autan("pull", "hf://gated/r/m.gguf",
                           env=dict(self.env, HF_TOKEN=GOOD_TOKEN + "\r\nX-Injected: 1"))
        self.assertEqual(rc, 2)
        self.assertIn("control character", err)
        self.assertNotIn(GOOD_TOKEN, err)
        self.assertEqual(self.store_files(), [])

        self.hub.requests.clear()
        good = dict(self.env, HF_TOKEN=GOOD_TOKEN)
        rc, out, err = autan("pull", "hf://gated/r/m.gguf", env=good)
        self.assertEqual(rc, 0, err)
        self.assertNotIn(GOOD_TOKEN, out + err)
        self.assertEqual(self.stored("gated--r--m.gguf"), self.model)
        hub_auth = {r[3].get("Authorization") for r in self.hub.seen("hub")}
        self.assertEqual(hub_auth, {"Bearer " + GOOD_TOKEN})
        # The CDN is another origin: the token never goes there.
        cdn = self.hub.seen("cdn")
        self.assertTrue(cdn)
        self.assertTrue(all("Authorization" not in r[3] for r in cdn), cdn)

        token_file = os.path.join(self.work.name, "token")
        with open(token_file, "w") as f:
            f.write(GOOD_TOKEN + "\n")
        rc, _, err = autan("pull", "hf://gated/r/m.gguf", "--force", "--token-file", token_file,
                           env=self.env)
        self.assertEqual(rc, 0, err)

    def test_names_that_leave_the_store_are_refused(self):
        outside = os.path.join(self.work.name, "evil.gguf")
        base = self.hub.endpoint
        for name in ["hf://o/r/../../evil.gguf", "hf://o/../evil.gguf", "hf://../r/evil.gguf",
                     "hf://o/r/.evil.gguf", "hf://o/r/%2e%2e/evil.gguf",
                     base + "/o/r/resolve/main/..%2f..%2fevil.gguf",
                     base + "/o/r/resolve/main/%2e%2e/%2e%2e/evil.gguf",
                     base + "/o/r/resolve/..%2f..%2f/evil.gguf",
                     "http://10.0.0.1/o/r/resolve/main/m.gguf"]:
            rc, _, err = autan("pull", name, env=self.env)
            self.assertEqual(rc, 2, name + ": " + err)
            self.assertFalse(os.path.exists(outside), name)
        self.assertEqual(self.hub.requests, [])
        self.assertFalse(os.path.exists(self.store))

    def test_redirect_to_plain_http_elsewhere_is_refused(self):
        self.hub.add("o/r/m.gguf", self.model)
        self.hub.redirect_to = "http://203.0.113.9/m.gguf"
        rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env, timeout=30)
        self.assertEqual(rc, 1)
        self.assertIn("plain http is allowed only", err)
        self.assertEqual(self.store_files(), [])

    def test_wrong_content_range_is_an_error_not_a_hang(self):
        self.hub.add("o/r/m.gguf", self.model)
        half = len(self.model) // 2
        self.hub.drop_once = half
        self.hub.bad_range = True
        rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env, timeout=30)
        self.assertEqual(rc, 1)
        self.assertIn("answered range bytes %d-" % (half + 1), err)
        self.assertNotIn("o--r--m.gguf", self.store_files())

    def test_server_ignoring_the_range_means_starting_over(self):
        self.hub.add("o/r/m.gguf", self.model)
        self.hub.ignore_range = True
        os.makedirs(self.store)
        with open(os.path.join(self.store, "o--r--m.gguf.part"), "wb") as f:
            f.write(b"\xff" * 1000)  # not the file's start: kept, it would fail the digest
        rc, _, err = autan("pull", "hf://o/r/m.gguf", env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertIn("starting over", err)
        self.assertEqual(self.hub.seen("cdn", "GET")[-1][3].get("Range"), "bytes=1000-")
        self.assertEqual(self.stored("o--r--m.gguf"), self.model)

    def test_range_past_the_end_is_an_error_then_a_fresh_start(self):
        self.hub.add("m.gguf", self.model)
        url = self.hub.cdn_base + "/plain/m.gguf"
        os.makedirs(self.store)
        part = os.path.join(self.store, "m.gguf.part")
        with open(part, "wb") as f:
            f.write(self.model + b"extra")
        rc, _, err = autan("pull", url, "--sha256", self.sha, env=self.env, timeout=30)
        self.assertEqual(rc, 1)
        self.assertIn("HTTP 416", err)
        self.assertEqual(self.store_files(), [])
        rc, _, err = autan("pull", url, "--sha256", self.sha, env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.stored("m.gguf"), self.model)

    def test_digest_from_the_tree_api_when_the_hub_sends_none(self):
        self.hub.hide_etag = True
        self.hub.add("owner/repo/sub/m.gguf", self.model)
        self.hub.add("owner/repo/sub/other.gguf", b"x")
        rc, out, err = autan("pull", "hf://owner/repo/sub/m.gguf", env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.stored("owner--repo--sub--m.gguf"), self.model)
        self.assertIn(self.sha, err)
        self.assertIn("/api/models/owner/repo/tree/main/sub", [r[2] for r in self.hub.seen("hub", "GET")])
        # The digest it lists is checked like an ETag's.
        self.hub.add("owner/repo/bad.gguf", self.model, announced="0" * 64)
        rc, _, err = autan("pull", "hf://owner/repo/bad.gguf", env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("SHA-256 mismatch", err)
        self.assertNotIn("owner--repo--bad.gguf", self.store_files())
        # No tree API either: the user is asked for the digest.
        self.hub.tree_api = False
        rc, _, err = autan("pull", "hf://owner/repo/sub/other.gguf", env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("pass --sha256", err)

    def test_plain_url_needs_a_digest(self):
        self.hub.add("m.gguf", self.model)
        url = self.hub.cdn_base + "/plain/m.gguf"
        rc, _, err = autan("pull", url, env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("--sha256", err)
        rc, _, err = autan("pull", url, "--sha256", "0" * 64, env=self.env)
        self.assertEqual(rc, 1)
        self.assertIn("SHA-256 mismatch", err)
        self.assertEqual(self.store_files(), [])
        rc, _, err = autan("pull", url, "--sha256", "abc", env=self.env)
        self.assertEqual(rc, 2)
        self.assertIn("expected 64 hex digits", err)
        rc, out, err = autan("pull", url, "--sha256", self.sha.upper(), env=self.env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.stored("m.gguf"), self.model)
        rc, _, err = autan("run", "-m", "m", "-p", "Hi", "-n", "2", env=self.env)
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
