"""Crash durability: `autan serve` killed with SIGKILL at random moments while
several users chat through the web app's routes loses nothing it
acknowledged: after each restart every acknowledged conversation, title,
question and finished answer is there as acknowledged, no answer is left
"streaming", and SQLite's integrity and foreign-key checks pass. Then a
full disk and a read-only data directory: the client gets a clear error,
nothing is corrupted, and service resumes when space or write access returns.

CRASH_ROUNDS sets the number of kills (10 here; `make soak` runs 50)."""
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from serve_util import Server, cli  # noqa: E402
from test_app import PASSWORD, Client  # noqa: E402

ROUNDS = int(os.environ.get("CRASH_ROUNDS", "10"))
USERS = ("ann", "ben", "cat")


def check_database(path):
    """SQLite's own verdict on the file: integrity and foreign keys."""
    db = sqlite3.connect(path)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchall()
        foreign = db.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        db.close()
    return integrity, foreign


class Ledger:
    """What the server acknowledged to one user, and what was in flight."""

    def __init__(self):
        self.titles = {}          # conversation id -> acknowledged titles (the last, or one in flight)
        self.questions = {}       # message id -> (conversation id, content)
        self.answers = {}         # message id -> (conversation id, content) of "done" events


def chat_until_killed(client, ledger, stop, rng):
    """Creates conversations, renames them and streams answers until the
    server dies; records each acknowledgement as it arrives."""
    while not stop.is_set():
        try:
            title = "t%d" % rng.randrange(10 ** 6)
            status, conv, _ = client.request("POST", "/api/conversations", {"title": title})
            if status != 201:
                return
            ledger.titles[conv["id"]] = {title}
            for turn in range(rng.randrange(1, 4)):
                if rng.random() < 0.3:
                    renamed = "r%d" % rng.randrange(10 ** 6)
                    ledger.titles[conv["id"]].add(renamed)  # in flight: either may survive
                    status, _, _ = client.request("PATCH", "/api/conversations/" + conv["id"],
                                                  {"title": renamed})
                    if status == 200:
                        ledger.titles[conv["id"]] = {renamed}
                stream_one(client, ledger, conv["id"], "q%d-%d" % (turn, rng.randrange(10 ** 6)),
                           rng.choice([1, 4, 16, 64]))
        except (OSError, http.client.HTTPException, ValueError):
            return  # the server is gone


def stream_one(client, ledger, conv_id, question, max_tokens):
    c, r = client.open_stream("/api/conversations/%s/messages" % conv_id, {
        "content": question, "parameters": {"max_tokens": max_tokens}})
    try:
        if r.status != 200:
            raise ValueError(r.status)
        while True:
            line = r.readline()
            if not line:
                raise ValueError("cut")
            if not line.startswith(b"data: "):
                continue
            event = json.loads(line[len(b"data: "):])
            if event["type"] == "user":
                ledger.questions[event["message"]["id"]] = (conv_id, question)
            elif event["type"] == "done":
                m = event["message"]
                if m["status"] == "complete":
                    ledger.answers[m["id"]] = (conv_id, m["content"])
                return
    finally:
        c.close()


class KillNineTest(unittest.TestCase):
    def test_acknowledged_writes_survive_sigkill(self):
        rng = random.Random(int(os.environ.get("CRASH_SEED", "8")))
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "tiny.gguf")
            cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", model)
            data = os.path.join(tmp, "data")
            ledgers = {name: Ledger() for name in USERS}
            server = Server(model, "--ctx", "512", "--parallel", "4", "--data-dir", data)
            admin = Client(server)
            self.assertEqual(admin.request("POST", "/api/setup", {
                "username": "root", "password": PASSWORD})[0], 200)
            for name in USERS:
                self.assertEqual(admin.request("POST", "/api/admin/users", {
                    "username": name, "password": PASSWORD})[0], 201)
            acknowledged = 0
            for round_no in range(ROUNDS):
                clients = {}
                for name in USERS:
                    clients[name] = Client(server)
                    clients[name].login(name)
                stop = threading.Event()
                threads = [threading.Thread(target=chat_until_killed, args=(
                    clients[name], ledgers[name], stop, random.Random(rng.random())))
                    for name in USERS]
                for t in threads:
                    t.start()
                time.sleep(rng.uniform(0.2, 1.5))
                server.proc.send_signal(signal.SIGKILL)
                server.proc.wait(30)
                stop.set()
                for t in threads:
                    t.join(30)
                server.stop()
                integrity, foreign = check_database(os.path.join(data, "autan.db"))
                self.assertEqual((integrity, foreign), ([("ok",)], []), "round %d" % round_no)
                server = Server(model, "--ctx", "512", "--parallel", "4", "--data-dir", data)
                acknowledged = self.verify(server, ledgers, round_no)
            self.assertEqual(server.stop(), 0)
            sys.stderr.write("%d kills; %d acknowledged records, all present after the last\n"
                             % (ROUNDS, acknowledged))
            # Enough happened for the test to mean something.
            self.assertGreater(acknowledged, 5 * ROUNDS)

    def verify(self, server, ledgers, round_no):
        """Every acknowledged record is there; returns how many were checked."""
        checked = 0
        for name in USERS:
            client = Client(server)
            client.login(name)
            ledger = ledgers[name]
            status, listed, _ = client.request("GET", "/api/conversations")
            titles = {c["id"]: c["title"] for c in listed["data"]}
            for conv_id, allowed in ledger.titles.items():
                where = (round_no, name, conv_id)
                self.assertIn(conv_id, titles, where)
                self.assertIn(titles[conv_id], allowed, where)
                checked += 1
            messages = {}
            for conv_id in titles:
                status, full, _ = client.request("GET", "/api/conversations/" + conv_id)
                self.assertEqual(status, 200)
                for m in full["messages"]:
                    messages[m["id"]] = (conv_id, m)
                    self.assertNotEqual(m["status"], "streaming", (round_no, m))
            for kind, table in (("question", ledger.questions), ("answer", ledger.answers)):
                for message_id, (conv_id, content) in table.items():
                    where = (round_no, name, kind, message_id)
                    self.assertIn(message_id, messages, where)
                    self.assertEqual(messages[message_id][0], conv_id, where)
                    self.assertEqual(messages[message_id][1]["content"], content, where)
                    if kind == "answer":
                        self.assertEqual(messages[message_id][1]["status"], "complete", where)
                    checked += 1
        return checked


def can_mount_tmpfs():
    if os.geteuid() != 0:
        return False
    with tempfile.TemporaryDirectory() as d:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", d], check=True)
        return ok


@unittest.skipUnless(can_mount_tmpfs(), "mounting a tmpfs needs root (or CAP_SYS_ADMIN)")
class DiskTest(unittest.TestCase):
    """The data directory on its own small tmpfs, which the test fills up and
    remounts read-only."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.mount = os.path.join(self.tmp.name, "mnt")
        os.mkdir(self.mount)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", self.mount], check=True)
        self.data = os.path.join(self.mount, "data")
        self.model = os.path.join(self.tmp.name, "tiny.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", self.model)
        self.server = Server(self.model, "--ctx", "512", "--data-dir", self.data)
        self.admin = Client(self.server)
        self.assertEqual(self.admin.request("POST", "/api/setup", {
            "username": "root", "password": PASSWORD})[0], 200)
        status, self.conv, _ = self.admin.request("POST", "/api/conversations", {"title": "kept"})
        self.kept = self.admin.stream("/api/conversations/%s/messages" % self.conv["id"], {
            "content": "before", "parameters": {"max_tokens": 8}})[-1]["message"]

    def tearDown(self):
        self.server.stop()
        subprocess.run(["umount", "-l", self.mount])
        self.tmp.cleanup()

    def assert_intact(self):
        status, full, _ = self.admin.request("GET", "/api/conversations/" + self.conv["id"])
        self.assertEqual(status, 200, full)
        self.assertEqual(full["messages"][1]["content"], self.kept["content"])

    def assert_resumes(self):
        status, conv, _ = self.admin.request("POST", "/api/conversations", {"title": "after"})
        self.assertEqual(status, 201, conv)
        events = self.admin.stream("/api/conversations/%s/messages" % conv["id"], {
            "content": "after", "parameters": {"max_tokens": 4}})
        self.assertEqual(events[-1]["message"]["status"], "complete")
        self.assert_intact()

    def assert_clear_error(self, status, body, words):
        self.assertGreaterEqual(status, 500, body)
        message = body["error"]["message"]
        self.assertTrue(any(w in message for w in words), message)

    def test_disk_full(self):
        filler = os.path.join(self.mount, "filler")
        try:
            with open(filler, "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass  # full
        failures = []
        for i in range(2000):
            status, body, _ = self.admin.request(
                "POST", "/api/conversations", {"title": "x" * 900 + str(i)})
            if status != 201:
                failures.append((status, body))
                break
        self.assertTrue(failures, "the disk never filled")
        self.assert_clear_error(*failures[0], ("full", "space"))
        self.assert_intact()
        os.remove(filler)
        self.assert_resumes()
        self.server.stop()
        self.assertEqual(check_database(os.path.join(self.data, "autan.db")), ([("ok",)], []))

    def test_read_only_data_directory(self):
        """A data directory made read-only (a full disk remounted read-only by
        the kernel, a mistaken mount): started on it, the server says so and
        exits non-zero, and starts again, with everything, once it is writable.
        (A mount cannot turn read-only under a process that has its files open
        for writing, so this is the case an operator meets.)"""
        self.server.stop()
        subprocess.run(["mount", "-o", "remount,ro", self.mount], check=True)
        try:
            with self.assertRaises(AssertionError) as failed:
                Server(self.model, "--data-dir", self.data)
            self.assertRegex(str(failed.exception), r"(?i)read-only|readonly|read only")
        finally:
            subprocess.run(["mount", "-o", "remount,rw", self.mount], check=True)
        self.server = Server(self.model, "--ctx", "512", "--data-dir", self.data)
        self.admin = Client(self.server)
        self.admin.login("root")
        self.assert_resumes()
        self.server.stop()
        self.assertEqual(check_database(os.path.join(self.data, "autan.db")), ([("ok",)], []))


if __name__ == "__main__":
    unittest.main()
