"""Whole-program tests of the web app's server side: /api with sessions, CSRF,
throttling, conversations, streamed chat persisted to the store, assistants,
personal API keys, administration, isolation between users, the embedded
app's files, and answers surviving a kill -9."""
import hashlib
import http.client
import json
import os
import signal
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import AUTAN, Server  # noqa: E402
from test_serve import cli  # noqa: E402

FILE_KEY = "sk-file-key-for-tests"
PASSWORD = "correct horse battery"


class Client:
    """One browser: its session cookie and CSRF token."""

    def __init__(self, server):
        self.server = server
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, headers=None, csrf=True):
        c = self.server.conn()
        h = {"Content-Type": "application/json", "Host": "127.0.0.1:%d" % self.server.port}
        if self.cookie:
            h["Cookie"] = "autan_session=" + self.cookie
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
        r = c.getresponse()
        raw = r.read()
        c.close()
        set_cookie = r.getheader("Set-Cookie")
        if set_cookie and set_cookie.startswith("autan_session="):
            value = set_cookie.split(";")[0].split("=", 1)[1]
            self.cookie = value or None
        ctype = r.getheader("Content-Type", "")
        data = json.loads(raw) if ctype.startswith("application/json") and raw else raw
        if isinstance(data, dict) and "csrf" in data:
            self.csrf = data["csrf"]
        return r.status, data, r

    def login(self, username, password=PASSWORD):
        status, body, _ = self.request("POST", "/api/login",
                                       {"username": username, "password": password})
        assert status == 200, (status, body)
        return body["user"]

    def open_stream(self, path, body):
        c = self.server.conn()
        c.request("POST", path, body=json.dumps(body), headers={
            "Content-Type": "application/json", "Cookie": "autan_session=" + self.cookie,
            "X-CSRF-Token": self.csrf})
        r = c.getresponse()
        return c, r

    def stream(self, path, body):
        """Every event of an SSE answer, in order."""
        c, r = self.open_stream(path, body)
        assert r.status == 200, (r.status, r.read())
        assert r.getheader("Content-Type").startswith("text/event-stream")
        events = parse_events(r.read().decode())
        c.close()
        return events


def parse_events(text):
    events = []
    for block in text.split("\n\n"):
        if block.strip():
            assert block.startswith("data: "), block
            events.append(json.loads(block[len("data: "):]))
    return events


def read_event(r):
    """The next event of a stream being read."""
    line = r.readline().decode()
    assert line.startswith("data: "), line
    r.readline()
    return json.loads(line[len("data: "):])


def streamed_text(events):
    return "".join(e["text"] for e in events if e["type"] == "delta")


class AppTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny-q8_0.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", cls.model)
        keys = os.path.join(cls.tmp.name, "keys")
        with open(keys, "w") as f:
            f.write(hashlib.sha256(FILE_KEY.encode()).hexdigest() + " tests\n")
        cls.data = os.path.join(cls.tmp.name, "data")
        cls.server = Server(cls.model, "--parallel", "4", "--ctx", "4096", "--data-dir", cls.data,
                            "--api-keys", keys)
        cls.admin = Client(cls.server)
        status, body, _ = cls.admin.request("GET", "/api/setup")
        assert (status, body) == (200, {"needs_admin": True}), body
        status, body, r = cls.admin.request("POST", "/api/setup",
                                            {"username": "root", "password": PASSWORD})
        assert status == 200, body
        cookie = r.getheader("Set-Cookie")
        for part in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=2592000"):
            assert part in cookie, cookie
        assert "Secure" not in cookie
        cls.users = {}
        for name in ("alice", "bob", "carol"):
            status, user, _ = cls.admin.request(
                "POST", "/api/admin/users", {"username": name, "password": PASSWORD, "role": "user"})
            assert status == 201, user
            cls.users[name] = user

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "autan serve exited %d:\n%s" % (code, "".join(cls.server.log[-20:]))

    def signed_in(self, name):
        c = Client(self.server)
        c.login(name)
        return c

    def new_conversation(self, client, **fields):
        status, conv, _ = client.request("POST", "/api/conversations", fields)
        self.assertEqual(status, 201, conv)
        return conv

    def v1_chat(self, messages, max_tokens, key=FILE_KEY):
        status, body, _ = self.server.request(
            "POST", "/v1/chat/completions",
            {"messages": messages, "max_tokens": max_tokens, "temperature": 0},
            headers={"Authorization": "Bearer " + key})
        self.assertEqual(status, 200, body)
        return body["choices"][0]["message"]["content"]

    def audit(self):
        status, body, _ = self.admin.request("GET", "/api/admin/audit?limit=1000")
        self.assertEqual(status, 200, body)
        return body["data"]

    def test_setup_login_logout(self):
        status, body, _ = self.admin.request("POST", "/api/setup",
                                             {"username": "other", "password": PASSWORD})
        self.assertEqual(status, 409, body)
        self.assertEqual(self.admin.request("GET", "/api/setup")[1], {"needs_admin": False})
        anon = Client(self.server)
        wrong = anon.request("POST", "/api/login", {"username": "alice", "password": "nope-nope"})
        unknown = anon.request("POST", "/api/login", {"username": "nobody", "password": "x" * 9})
        self.assertEqual((wrong[0], unknown[0]), (401, 401))
        self.assertEqual(wrong[1]["error"]["message"], unknown[1]["error"]["message"])
        self.assertEqual(anon.request("GET", "/api/me")[0], 401)
        status, body, _ = anon.request("POST", "/api/login", {"username": "alice"})
        self.assertEqual(status, 400)
        self.assertIn("password", body["error"]["message"])
        user = anon.login("alice")
        self.assertEqual(user, self.users["alice"])
        behind_tls = Client(self.server)
        status, _, r = behind_tls.request("POST", "/api/login", {
            "username": "alice", "password": PASSWORD}, headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(status, 200)
        self.assertTrue(r.getheader("Set-Cookie").endswith("; Secure"), r.getheader("Set-Cookie"))
        status, me, _ = anon.request("GET", "/api/me")
        self.assertEqual(status, 200)
        self.assertEqual(me["user"]["username"], "alice")
        self.assertEqual(me["user"]["role"], "user")
        self.assertEqual(len(me["csrf"]), len(anon.csrf))
        old_cookie = anon.cookie
        status, _, r = anon.request("POST", "/api/logout")
        self.assertEqual(status, 204)
        self.assertIn("Max-Age=0", r.getheader("Set-Cookie"))
        anon.cookie = old_cookie  # the old session no longer works
        self.assertEqual(anon.request("GET", "/api/me")[0], 401)
        actions = [(e["actor"], e["action"]) for e in self.audit()]
        self.assertIn(("anonymous", "session.login_failed"), actions)
        self.assertIn((self.users["alice"]["id"], "session.create"), actions)
        self.assertIn((self.users["alice"]["id"], "session.logout"), actions)

    def test_login_throttle(self):
        anon = Client(self.server)
        for _ in range(5):
            status, _, _ = anon.request("POST", "/api/login",
                                        {"username": "carol", "password": "wrong-password"})
            self.assertEqual(status, 401)
        status, body, r = anon.request("POST", "/api/login",
                                       {"username": "carol", "password": PASSWORD})
        self.assertEqual(status, 429, body)
        self.assertGreater(int(r.getheader("Retry-After")), 800)
        self.signed_in("alice")  # other names from the same address still sign in

    def test_csrf_and_origin(self):
        alice = self.signed_in("alice")
        status, _, _ = alice.request("POST", "/api/conversations", {"title": "x"}, csrf=False)
        self.assertEqual(status, 403)
        status, _, _ = alice.request("POST", "/api/conversations", {"title": "x"},
                                     headers={"X-CSRF-Token": "0" * len(alice.csrf)})
        self.assertEqual(status, 403)
        status, _, _ = alice.request("POST", "/api/conversations", {"title": "x"},
                                     headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 403)
        status, _, _ = alice.request("GET", "/api/conversations",
                                     headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 403)
        status, _, _ = alice.request("POST", "/api/conversations", {"title": "x"},
                                     headers={"Origin": "http://127.0.0.1:%d" % self.server.port})
        self.assertEqual(status, 201)
        # Another session's token is no good either.
        other = self.signed_in("alice")
        status, _, _ = alice.request("DELETE", "/api/keys/" + "0" * 32,
                                     headers={"X-CSRF-Token": other.csrf})
        self.assertEqual(status, 403)

    def test_conversations_crud_and_search(self):
        bob = self.signed_in("bob")
        a = self.new_conversation(bob, title="Budget for 2026")
        b = self.new_conversation(bob, title="Holiday plans")
        self.assertEqual(a["assistant_id"], None)
        status, listed, _ = bob.request("GET", "/api/conversations")
        ids = [c["id"] for c in listed["data"]]
        self.assertLess(ids.index(b["id"]), ids.index(a["id"]))  # newest first
        status, renamed, _ = bob.request("PATCH", "/api/conversations/" + a["id"],
                                         {"title": "Budget review"})
        self.assertEqual((status, renamed["title"]), (200, "Budget review"))
        status, found, _ = bob.request("GET", "/api/conversations?q=budget%20rev")
        self.assertEqual([c["id"] for c in found["data"]], [a["id"]])
        # Message text is searched too.
        bob.stream("/api/conversations/%s/messages" % b["id"],
                   {"content": "flights to Lisbon", "parameters": {"max_tokens": 2}})
        status, found, _ = bob.request("GET", "/api/conversations?q=LISBON")
        self.assertEqual([c["id"] for c in found["data"]], [b["id"]])
        status, body, _ = bob.request("POST", "/api/conversations", {"title": 5})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["param"], "title")
        self.assertEqual(bob.request("DELETE", "/api/conversations/" + a["id"])[0], 204)
        self.assertEqual(bob.request("GET", "/api/conversations/" + a["id"])[0], 404)
        self.assertEqual(bob.request("DELETE", "/api/conversations/" + a["id"])[0], 404)
        self.assertIn((self.users["bob"]["id"], "conversation.delete", a["id"]),
                      [(e["actor"], e["action"], e["target"]) for e in self.audit()])

    def test_streamed_chat_is_stored_as_streamed(self):
        alice = self.signed_in("alice")
        conv = self.new_conversation(alice, title="chat")
        events = alice.stream("/api/conversations/%s/messages" % conv["id"],
                              {"content": "Hello there", "parameters": {"temperature": 0,
                                                                         "max_tokens": 24}})
        types = [e["type"] for e in events]
        self.assertEqual(types[:2], ["user", "assistant"])
        self.assertEqual(types[-1], "done")
        self.assertEqual(set(types[2:-1]), {"delta"})
        self.assertEqual(events[0]["message"]["content"], "Hello there")
        self.assertEqual(events[1]["message"]["status"], "streaming")
        self.assertEqual(events[1]["message"]["content"], "")
        done = events[-1]["message"]
        text = streamed_text(events)
        self.assertEqual(done["content"], text)
        self.assertEqual(done["status"], "complete")
        self.assertEqual(done["id"], events[1]["message"]["id"])
        self.assertEqual(done["stats"]["tokens"], 24)
        self.assertGreaterEqual(done["stats"]["duration_ms"],
                                done["stats"]["time_to_first_token_ms"])
        self.assertGreater(done["stats"]["tokens_per_second"], 0)
        # The same conversation through /v1 with greedy decoding is the oracle.
        self.assertEqual(text, self.v1_chat([{"role": "user", "content": "Hello there"}], 24))
        status, full, _ = alice.request("GET", "/api/conversations/" + conv["id"])
        self.assertEqual([(m["role"], m["content"], m["status"]) for m in full["messages"]],
                         [("user", "Hello there", "complete"), ("assistant", text, "complete")])
        self.assertEqual(full["messages"][1]["stats"], done["stats"])

        # Regenerate: the answer is replaced, with no user event.
        again = alice.stream("/api/conversations/%s/regenerate" % conv["id"],
                             {"parameters": {"temperature": 0, "max_tokens": 24}})
        self.assertEqual([e["type"] for e in again][0], "assistant")
        self.assertEqual(streamed_text(again), text)  # greedy: the same answer
        status, full, _ = alice.request("GET", "/api/conversations/" + conv["id"])
        self.assertEqual(len(full["messages"]), 2)
        self.assertEqual(full["messages"][1]["id"], again[-1]["message"]["id"])
        self.assertNotEqual(full["messages"][1]["id"], done["id"])

        # A second turn, then an edit of the first question drops everything after it.
        alice.stream("/api/conversations/%s/messages" % conv["id"],
                     {"content": "And then?", "parameters": {"max_tokens": 4}})
        first_id = full["messages"][0]["id"]
        edited = alice.stream("/api/conversations/%s/messages/%s/edit" % (conv["id"], first_id),
                              {"content": "Good morning", "parameters": {"temperature": 0,
                                                                         "max_tokens": 12}})
        self.assertEqual([e["type"] for e in edited][:2], ["user", "assistant"])
        self.assertEqual(edited[0]["message"]["id"], first_id)
        self.assertEqual(edited[0]["message"]["content"], "Good morning")
        status, full, _ = alice.request("GET", "/api/conversations/" + conv["id"])
        self.assertEqual([(m["role"], m["content"]) for m in full["messages"]],
                         [("user", "Good morning"), ("assistant", streamed_text(edited))])
        self.assertEqual(streamed_text(edited),
                         self.v1_chat([{"role": "user", "content": "Good morning"}], 12))

    def test_disconnect_leaves_an_incomplete_prefix(self):
        alice = self.signed_in("alice")
        conv = self.new_conversation(alice, title="long")
        c, r = alice.open_stream("/api/conversations/%s/messages" % conv["id"],
                                 {"content": "Tell me everything",
                                  "parameters": {"temperature": 0, "max_tokens": 3000}})
        self.assertEqual(r.status, 200)
        got = [read_event(r) for _ in range(12)]
        self.assertEqual([e["type"] for e in got[:2]], ["user", "assistant"])
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            status, full, _ = alice.request("GET", "/api/conversations/" + conv["id"])
            answer = full["messages"][1]
            if answer["status"] != "streaming":
                break
            time.sleep(0.05)
        self.assertEqual(answer["status"], "incomplete")
        self.assertTrue(answer["content"].startswith(streamed_text(got)))
        self.assertLess(answer["stats"]["tokens"], 3000)
        self.assertEqual(full["messages"][0]["content"], "Tell me everything")

    def test_assistants_instructions_and_parameters(self):
        alice = self.signed_in("alice")
        status, helper, _ = alice.request("POST", "/api/assistants", {
            "name": "Terse", "instructions": "Answer in one word.",
            "parameters": {"temperature": 0, "max_tokens": 8}})
        self.assertEqual(status, 201, helper)
        self.assertEqual(helper["parameters"], {"temperature": 0, "max_tokens": 8})
        status, body, _ = alice.request("POST", "/api/assistants",
                                        {"name": "x", "parameters": {"temperature": 9}})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["param"], "parameters.temperature")
        conv = self.new_conversation(alice, title="with helper", assistant_id=helper["id"])
        self.assertEqual(conv["assistant_id"], helper["id"])
        events = alice.stream("/api/conversations/%s/messages" % conv["id"], {"content": "Why?"})
        self.assertEqual(events[-1]["message"]["stats"]["tokens"], 8)
        self.assertEqual(streamed_text(events), self.v1_chat(
            [{"role": "system", "content": "Answer in one word."},
             {"role": "user", "content": "Why?"}], 8))
        status, changed, _ = alice.request("PATCH", "/api/assistants/" + helper["id"],
                                           {"name": "Brief"})
        self.assertEqual((status, changed["name"], changed["instructions"]),
                         (200, "Brief", "Answer in one word."))
        status, listed, _ = alice.request("GET", "/api/assistants")
        self.assertIn(helper["id"], [a["id"] for a in listed["data"]])
        status, unlinked, _ = alice.request("PATCH", "/api/conversations/" + conv["id"],
                                            {"assistant_id": None})
        self.assertEqual((status, unlinked["assistant_id"]), (200, None))
        self.assertEqual(alice.request("DELETE", "/api/assistants/" + helper["id"])[0], 204)
        self.assertEqual(alice.request("DELETE", "/api/assistants/" + helper["id"])[0], 404)

    def test_personal_keys_open_v1(self):
        alice = self.signed_in("alice")
        status, made, _ = alice.request("POST", "/api/keys", {"label": "laptop"})
        self.assertEqual(status, 201, made)
        secret = made["secret"]
        self.assertTrue(secret.startswith("sk-autan-"))
        self.assertTrue(secret.startswith(made["key"]["prefix"]))
        self.assertIsNone(made["key"]["last_used_at"])
        auth = {"Authorization": "Bearer " + secret}
        self.assertEqual(self.server.request("GET", "/v1/models", headers=auth)[0], 200)
        self.assertEqual(self.server.request("GET", "/v1/models")[0], 401)
        self.assertEqual(self.server.request("GET", "/v1/models", headers={
            "Authorization": "Bearer sk-autan-" + "0" * 64})[0], 401)
        self.assertEqual(self.server.request("GET", "/v1/models", headers={
            "Authorization": "Bearer " + FILE_KEY})[0], 200)
        self.v1_chat([{"role": "user", "content": "hi"}], 2, key=secret)
        status, keys, _ = alice.request("GET", "/api/keys")
        (key,) = [k for k in keys["data"] if k["id"] == made["key"]["id"]]
        self.assertIsNotNone(key["last_used_at"])
        self.assertFalse(key["revoked"])
        self.assertNotIn(secret, json.dumps(keys))
        self.assertEqual(alice.request("DELETE", "/api/keys/" + key["id"])[0], 204)
        self.assertEqual(self.server.request("GET", "/v1/models", headers=auth)[0], 401)
        status, keys, _ = alice.request("GET", "/api/keys")
        self.assertTrue([k for k in keys["data"] if k["id"] == key["id"]][0]["revoked"])
        actions = [(e["action"], e["target"]) for e in self.audit()]
        self.assertIn(("apikey.create", key["id"]), actions)
        self.assertIn(("apikey.revoke", key["id"]), actions)

    def test_admin_routes_need_the_admin_role(self):
        alice = self.signed_in("alice")
        for method, path, body in [("GET", "/api/admin/users", None),
                                   ("POST", "/api/admin/users",
                                    {"username": "mallory", "password": PASSWORD}),
                                   ("PATCH", "/api/admin/users/" + self.users["bob"]["id"],
                                    {"disabled": True}),
                                   ("GET", "/api/admin/audit", None)]:
            status, _, _ = alice.request(method, path, body)
            self.assertEqual(status, 403, path)
        status, users, _ = self.admin.request("GET", "/api/admin/users")
        self.assertEqual(status, 200)
        self.assertEqual({u["username"]: u["disabled"] for u in users["data"]}["bob"], False)
        self.assertNotIn("mallory", [u["username"] for u in users["data"]])
        # Disabling ends the user's sessions; enabling lets them back in.
        status, dave, _ = self.admin.request("POST", "/api/admin/users",
                                             {"username": "dave", "password": PASSWORD})
        self.assertEqual((status, dave["role"]), (201, "user"))
        session = self.signed_in("dave")
        self.assertEqual(self.admin.request("PATCH", "/api/admin/users/" + dave["id"],
                                            {"disabled": True})[0], 204)
        self.assertEqual(session.request("GET", "/api/me")[0], 401)
        self.assertEqual(Client(self.server).request(
            "POST", "/api/login", {"username": "dave", "password": PASSWORD})[0], 401)
        self.assertEqual(self.admin.request("PATCH", "/api/admin/users/" + dave["id"],
                                            {"disabled": False})[0], 204)
        self.signed_in("dave")
        status, page, _ = self.admin.request("GET", "/api/admin/audit?limit=2")
        self.assertEqual(len(page["data"]), 2)
        status, older, _ = self.admin.request(
            "GET", "/api/admin/audit?limit=2&before=%d" % page["data"][-1]["id"])
        self.assertLess(older["data"][0]["id"], page["data"][-1]["id"])
        self.assertEqual(self.admin.request("GET", "/api/admin/audit?limit=abc")[0], 400)
        actions = [(e["actor"], e["action"], e["target"]) for e in self.audit()]
        self.assertIn((self.admin_id(), "user.disable", dave["id"]), actions)
        self.assertIn((self.admin_id(), "user.create", dave["id"]), actions)

    def admin_id(self):
        return self.admin.request("GET", "/api/me")[1]["user"]["id"]

    def test_users_cannot_reach_each_others_records(self):
        alice, bob = self.signed_in("alice"), self.signed_in("bob")
        status, helper, _ = alice.request("POST", "/api/assistants",
                                          {"name": "Mine", "instructions": "secret plans"})
        conv = self.new_conversation(alice, title="private", assistant_id=helper["id"])
        events = alice.stream("/api/conversations/%s/messages" % conv["id"],
                              {"content": "my secret", "parameters": {"max_tokens": 2}})
        question = events[0]["message"]["id"]
        status, key, _ = alice.request("POST", "/api/keys", {"label": "alice's"})
        cid, aid, kid = conv["id"], helper["id"], key["key"]["id"]
        for method, path, body in [
                ("GET", "/api/conversations/" + cid, None),
                ("PATCH", "/api/conversations/" + cid, {"title": "mine now"}),
                ("DELETE", "/api/conversations/" + cid, None),
                ("GET", "/api/conversations/%s/export" % cid, None),
                ("POST", "/api/conversations/%s/messages" % cid, {"content": "hi"}),
                ("POST", "/api/conversations/%s/regenerate" % cid, {}),
                ("POST", "/api/conversations/%s/messages/%s/edit" % (cid, question),
                 {"content": "changed"}),
                ("PATCH", "/api/assistants/" + aid, {"name": "taken"}),
                ("DELETE", "/api/assistants/" + aid, None),
                ("DELETE", "/api/keys/" + kid, None),
                ("POST", "/api/conversations", {"title": "t", "assistant_id": aid})]:
            status, body, _ = bob.request(method, path, body)
            self.assertEqual(status, 404, (method, path, body))
        own = self.new_conversation(bob, title="bob's")
        self.assertEqual(bob.request("PATCH", "/api/conversations/" + own["id"],
                                     {"assistant_id": aid})[0], 404)
        # Bob's own message ids cannot be used in Alice's conversation either.
        bob_events = bob.stream("/api/conversations/%s/messages" % own["id"],
                                {"content": "bob asks", "parameters": {"max_tokens": 1}})
        self.assertEqual(alice.request(
            "POST", "/api/conversations/%s/messages/%s/edit" % (cid, bob_events[0]["message"]["id"]),
            {"content": "x"})[0], 404)
        for path in ("/api/conversations", "/api/conversations?q=secret", "/api/assistants",
                     "/api/keys"):
            status, listed, _ = bob.request("GET", path)
            self.assertNotIn(cid, json.dumps(listed))
            self.assertNotIn(aid, json.dumps(listed))
            self.assertNotIn(kid, json.dumps(listed))
        status, full, _ = alice.request("GET", "/api/conversations/" + cid)
        self.assertEqual(full["conversation"]["title"], "private")
        self.assertEqual(full["messages"][0]["content"], "my secret")
        self.assertEqual(len(full["messages"]), 2)
        status, listed, _ = alice.request("GET", "/api/assistants")
        self.assertEqual([a["name"] for a in listed["data"] if a["id"] == aid], ["Mine"])
        status, keys, _ = alice.request("GET", "/api/keys")
        self.assertFalse([k for k in keys["data"] if k["id"] == kid][0]["revoked"])

    def test_export_and_import(self):
        bob = self.signed_in("bob")
        conv = self.new_conversation(bob, title="to export")
        bob.stream("/api/conversations/%s/messages" % conv["id"],
                   {"content": "export me", "parameters": {"max_tokens": 3}})
        status, exported, _ = bob.request("GET", "/api/conversations/%s/export" % conv["id"])
        self.assertEqual((status, exported["version"]), (200, 1))
        status, imported, _ = bob.request("POST", "/api/import", exported)
        self.assertEqual(status, 201, imported)
        self.assertNotEqual(imported["id"], conv["id"])
        status, full, _ = bob.request("GET", "/api/conversations/" + imported["id"])
        self.assertEqual([(m["role"], m["content"]) for m in full["messages"]],
                         [(m["role"], m["content"]) for m in exported["messages"]])
        status, body, _ = bob.request("POST", "/api/import", {
            "version": 1, "conversation": {"title": "bad"}, "messages": [{"role": "robot"}]})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["param"], "messages[0].role")

    def test_info_and_unknown_api_routes(self):
        status, info, _ = self.server.request("GET", "/api/info")
        self.assertEqual((status, info["model"], info["energy"]), (200, "tiny-q8_0", True))
        # A synth model's weights are random: the app is told, and says so.
        self.assertIs(info["demo"], True)
        # What the app needs to show an answer's carbon and cost: the defaults.
        self.assertIn(info["energy_source"], ("rapl", "estimate"))
        self.assertEqual((info["grid_gco2_per_kwh"], info["pue"], info["kwh_price"],
                          info["currency"]), (32.0, 1.0, 0.25, "EUR"))
        self.assertEqual(self.server.request("GET", "/api/nothing")[0], 404)
        self.assertEqual(self.server.request("PUT", "/api/conversations")[0], 405)
        self.assertEqual(self.server.request("GET", "/v1/nothing",
                                             headers={"Authorization": "Bearer " + FILE_KEY})[0],
                         404)

    def raw_get(self, target, method="GET"):
        sock = socket.create_connection(("127.0.0.1", self.server.port))
        sock.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                      % (method, target)).encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        sock.close()
        return data.decode(errors="replace")

    def test_static_app(self):
        status, index, r = self.server.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/html"))
        self.assertEqual(r.getheader("Cache-Control"), "no-cache")
        self.assertEqual(r.getheader("Content-Security-Policy"),
                         "default-src 'self'; script-src 'self'; style-src 'self'; "
                         "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                         "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                         "form-action 'self'")
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.getheader("Referrer-Policy"), "no-referrer")
        etag = r.getheader("ETag")
        status, body, r304 = self.server.request("GET", "/", headers={"If-None-Match": etag})
        self.assertEqual((status, body), (304, ""))
        status, page, _ = self.server.request("GET", "/chat/some-id")
        self.assertEqual((status, page), (200, index))
        for target in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
                       "/assets/../../../etc/passwd", "/assets/%2e%2e/%2e%2e/etc/passwd"):
            raw = self.raw_get(target)
            self.assertNotIn("root:", raw, target)
            status_line = raw.split("\r\n", 1)[0]
            self.assertTrue(status_line.endswith(("200 OK", "404 Not Found")), (target, raw[:200]))
            if "200 OK" in status_line:
                self.assertTrue(raw.endswith(index), target)
        self.assertEqual(self.server.request("GET", "/assets/missing-123.js")[0], 404)
        # HEAD: GET's status and headers, Content-Length included, and no body.
        head = self.raw_get("/", method="HEAD")
        lines, _, rest = head.partition("\r\n\r\n")
        self.assertTrue(lines.startswith("HTTP/1.1 200 OK"), head[:200])
        self.assertIn("Content-Length: %d" % len(index.encode()), lines)
        self.assertIn("ETag: " + etag, lines)
        self.assertEqual(rest, "")


class CrashTest(unittest.TestCase):
    def test_kill9_mid_stream_keeps_the_question_and_a_prefix(self):
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "tiny.gguf")
            cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", model)
            data = os.path.join(tmp, "data")
            server = Server(model, "--ctx", "4096", "--data-dir", data)
            try:
                admin = Client(server)
                self.assertEqual(admin.request("POST", "/api/setup", {
                    "username": "root", "password": PASSWORD})[0], 200)
                conv = admin.request("POST", "/api/conversations", {"title": "crash"})[1]
                c, r = admin.open_stream("/api/conversations/%s/messages" % conv["id"], {
                    "content": "Keep talking", "parameters": {"temperature": 0,
                                                              "max_tokens": 4000}})
                self.assertEqual(r.status, 200)
                events = [read_event(r) for _ in range(20)]
                time.sleep(0.3)  # 18 pieces read: a batch of 16 has been handed to the store
                server.proc.send_signal(signal.SIGKILL)
                server.proc.wait(30)
                # What the server sent before it died, read to the end.
                rest = b""
                try:
                    while True:
                        chunk = r.read1(65536) if hasattr(r, "read1") else r.read(65536)
                        if not chunk:
                            break
                        rest += chunk
                except (http.client.IncompleteRead, ConnectionError) as e:
                    rest += getattr(e, "partial", b"")
                c.close()
                blocks = rest.decode(errors="replace").split("\n\n")
                for block in blocks[:-1]:  # the last one may be cut
                    if block.startswith("data: "):
                        events.append(json.loads(block[len("data: "):]))
                streamed = streamed_text(events)
                self.assertNotIn("done", [e["type"] for e in events])
            finally:
                server.stop()
            again = Server(model, "--data-dir", data)
            try:
                admin = Client(again)
                admin.login("root")
                status, full, _ = admin.request("GET", "/api/conversations/" + conv["id"])
                self.assertEqual(status, 200)
                user, answer = full["messages"]
                self.assertEqual((user["role"], user["content"], user["status"]),
                                 ("user", "Keep talking", "complete"))
                self.assertEqual(answer["status"], "incomplete")
                self.assertGreater(len(answer["content"]), 0)
                # The saved answer and what the client read are prefixes of one
                # generation, the greedy answer to the same question: the store
                # may be a batch behind the client, or a little ahead of it.
                status, whole, _ = again.request(
                    "POST", "/v1/chat/completions",
                    {"messages": [{"role": "user", "content": "Keep talking"}],
                     "max_tokens": 4000, "temperature": 0})
                self.assertEqual(status, 200, whole)
                full_answer = whole["choices"][0]["message"]["content"]
                stored = answer["content"]
                n = min(len(stored), len(full_answer))
                self.assertEqual(stored[:n], full_answer[:n])
                n = min(len(stored), len(streamed))
                self.assertEqual(stored[:n], streamed[:n])
            finally:
                self.assertEqual(again.stop(), 0)


if __name__ == "__main__":
    unittest.main()
