"""Every /api, /v1 and keyed route, taken from one table that must match the
routes the server registers, tried without credentials, with a forged or
ended session, with another user's session, without the CSRF token, with a
user's session on administrator routes, with a revoked key and with the key
of a disabled user: each is refused with the status docs/app-api.md names.
Each route is also called once by its rightful owner, so that a refusal is
known to come from the credentials and not from a wrong request."""
import hashlib
import json
import os
import re
import secrets
import sys
import tempfile
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from serve_util import Server, cli  # noqa: E402
from test_app import PASSWORD, Client  # noqa: E402

SRC = os.path.join(HERE, "..", "..", "src", "server")
FILE_KEY = "sk-file-key-for-security-tests"

# (method, path, access, body). Paths name the records of the owner, Alice:
# {conv}, {msg}, {asst}, {key}, {user} (Bob's id, for the admin routes).
# access: public, user (session cookie + CSRF), admin, key (API key).
APP_ROUTES = [
    ("GET", "/api/setup", "public", None),
    ("POST", "/api/setup", "public", {"username": "x", "password": PASSWORD}),
    ("POST", "/api/login", "public", {"username": "alice", "password": PASSWORD}),
    ("GET", "/api/info", "public", None),
    ("GET", "/api/me", "user", None),
    ("GET", "/api/conversations", "user", None),
    ("POST", "/api/conversations", "user", {"title": "t"}),
    ("GET", "/api/conversations/{conv}", "user", None),
    ("PATCH", "/api/conversations/{conv}", "user", {"title": "renamed"}),
    ("GET", "/api/conversations/{conv}/export", "user", None),
    ("POST", "/api/import", "user",
     {"version": 1, "conversation": {"title": "i"}, "messages": [{"role": "user", "content": "q"}]}),
    ("POST", "/api/conversations/{conv}/messages", "user",
     {"content": "hi", "parameters": {"max_tokens": 1}}),
    ("POST", "/api/conversations/{conv}/regenerate", "user", {"parameters": {"max_tokens": 1}}),
    ("POST", "/api/conversations/{conv}/messages/{msg}/edit", "user",
     {"content": "edited", "parameters": {"max_tokens": 1}}),
    ("GET", "/api/assistants", "user", None),
    ("POST", "/api/assistants", "user", {"name": "a"}),
    ("PATCH", "/api/assistants/{asst}", "user", {"name": "b"}),
    ("GET", "/api/keys", "user", None),
    ("POST", "/api/keys", "user", {"label": "k"}),
    ("GET", "/api/admin/users", "admin", None),
    ("POST", "/api/admin/users", "admin", {"username": "newbie", "password": PASSWORD}),
    ("PATCH", "/api/admin/users/{user}", "admin", {"disabled": False}),
    ("GET", "/api/admin/audit", "admin", None),
    ("GET", "/api/usage", "user", None),
    ("GET", "/api/admin/usage", "admin", None),
    ("GET", "/api/admin/quotas", "admin", None),
    ("PUT", "/api/admin/quotas", "admin",
     {"subject": "user:{user}", "tokens_per_day": 100000, "joules_per_day": None}),
    # Destructive ones last: their owner's call removes the record.
    ("DELETE", "/api/assistants/{asst}", "user", None),
    ("DELETE", "/api/keys/{key}", "user", None),
    ("DELETE", "/api/conversations/{conv}", "user", None),
    # Both end the session: their owner's call comes from a fresh one.
    ("PATCH", "/api/me/password", "user",
     {"current_password": PASSWORD, "new_password": PASSWORD}),
    ("POST", "/api/logout", "user", None),
]

KEY_ROUTES = [
    ("GET", "/", "public", None),
    ("GET", "/health", "public", None),
    ("GET", "/version", "key", None),
    ("GET", "/metrics", "key", None),
    ("GET", "/v1/models", "key", None),
    ("GET", "/v1/models/{model}", "key", None),
    ("POST", "/v1/chat/completions", "key",
     {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}),
    ("POST", "/v1/completions", "key", {"prompt": "hi", "max_tokens": 1}),
    ("POST", "/v1/fim/completions", "key", {"prompt": "def", "suffix": "x", "max_tokens": 1}),
    ("POST", "/v1/embeddings", "key", {"input": "hi"}),
    ("POST", "/tokenize", "key", {"content": "hi"}),
    ("POST", "/detokenize", "key", {"tokens": [1]}),
]


def with_ids(body, ids):
    """`body` with the ids of this run's records put into its strings."""
    if isinstance(body, dict):
        return {k: with_ids(v, ids) for k, v in body.items()}
    if isinstance(body, str) and "{" in body:
        return body.format(**ids)
    return body


def registered_routes():
    """(method, pattern) of every route the server's source registers."""
    routes = set()
    with open(os.path.join(SRC, "app_service.cpp")) as f:
        for method, pattern in re.findall(r'add\("(\w+)", "([^"]*)", A::', f.read()):
            routes.add((method, "/api/" + pattern))
    with open(os.path.join(SRC, "api_service.cpp")) as f:
        for method, pattern in re.findall(r'router_\.Add\("(\w+)", "([^"]*)"', f.read()):
            routes.add((method, pattern))
    return routes


def as_pattern(path):
    """The table's path in the sources' notation."""
    if path.startswith("/api/"):
        return re.sub(r"\{\w+\}", "*", path)
    return path.replace("{model}", "{id}")


class AuthMatrixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny-q8_0.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", cls.model)
        keys = os.path.join(cls.tmp.name, "keys")
        with open(keys, "w") as f:
            f.write(hashlib.sha256(FILE_KEY.encode()).hexdigest() + " tests\n")
        cls.server = Server(cls.model, "--ctx", "512", "--data-dir",
                            os.path.join(cls.tmp.name, "data"), "--api-keys", keys)
        cls.admin = Client(cls.server)
        status, body, _ = cls.admin.request("POST", "/api/setup",
                                            {"username": "root", "password": PASSWORD})
        assert status == 200, body
        cls.ids = {"model": "tiny-q8_0"}
        for name in ("alice", "bob", "eve"):
            status, user, _ = cls.admin.request("POST", "/api/admin/users",
                                                {"username": name, "password": PASSWORD})
            assert status == 201, user
            cls.ids[name] = user["id"]
        cls.ids["user"] = cls.ids["bob"]

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "autan serve exited %d" % code

    def signed_in(self, name):
        c = Client(self.server)
        c.login(name)
        return c

    def alices_records(self, alice):
        """Alice's conversation (with one exchange), assistant and key."""
        status, asst, _ = alice.request("POST", "/api/assistants", {"name": "mine"})
        self.assertEqual(status, 201, asst)
        status, conv, _ = alice.request("POST", "/api/conversations", {"title": "private"})
        self.assertEqual(status, 201, conv)
        events = alice.stream("/api/conversations/%s/messages" % conv["id"],
                              {"content": "secret", "parameters": {"max_tokens": 1}})
        status, key, _ = alice.request("POST", "/api/keys", {"label": "alice"})
        self.assertEqual(status, 201, key)
        return dict(self.ids, conv=conv["id"], asst=asst["id"], key=key["key"]["id"],
                    msg=events[0]["message"]["id"])

    def test_the_table_lists_every_registered_route(self):
        table = {(m, as_pattern(p)) for m, p, _, _ in APP_ROUTES + KEY_ROUTES}
        self.assertEqual(table, registered_routes())

    def test_app_routes(self):
        alice, bob = self.signed_in("alice"), self.signed_in("bob")
        ids = self.alices_records(alice)
        ended = self.ended_session()
        forged = [secrets.token_hex(len(alice.cookie) // 2), alice.cookie[:-1] + "x",
                  alice.cookie + "0", "", "' OR 1=1 --", "../" + alice.cookie]
        for method, path, access, body in APP_ROUTES:
            if access == "public":
                continue
            target = path.format(**ids)
            body = with_ids(body, ids)
            where = (method, target)
            # No credentials at all, and an API key, which does not sign in to the app.
            anon = Client(self.server)
            self.assertEqual(anon.request(method, target, body)[0], 401, where)
            for key in (FILE_KEY, "sk-autan-" + "0" * 64):
                self.assertEqual(anon.request(method, target, body, headers={
                    "Authorization": "Bearer " + key})[0], 401, where)
            # Forged cookies: random, altered, padded, SQL, empty.
            for cookie in forged:
                c = Client(self.server)
                c.cookie, c.csrf = cookie, alice.csrf
                self.assertEqual(c.request(method, target, body)[0], 401, (where, cookie))
            # The cookie of a session that has ended.
            c = Client(self.server)
            c.cookie, c.csrf = ended, alice.csrf
            self.assertEqual(c.request(method, target, body)[0], 401, where)
            if method != "GET":
                # A live session without its CSRF token, or with another session's.
                self.assertEqual(alice.request(method, target, body, csrf=False)[0], 403, where)
                self.assertEqual(alice.request(method, target, body,
                                               headers={"X-CSRF-Token": bob.csrf})[0], 403, where)
                self.assertEqual(alice.request(method, target, body, headers={
                    "X-CSRF-Token": alice.csrf[:-1]})[0], 403, where)
            if access == "admin":
                self.assertEqual(bob.request(method, target, body)[0], 403, where)
                self.assertEqual(alice.request(method, target, body)[0], 403, where)
            elif "{" in path and "{user}" not in path:
                # Another user's session on Alice's records: as if they did not exist.
                status, answer, _ = bob.request(method, target, body)
                self.assertEqual(status, 404, (where, answer))
        # Bob's lists never show Alice's records.
        for path in ("/api/conversations", "/api/conversations?q=secret", "/api/assistants",
                     "/api/keys"):
            listed = json.dumps(bob.request("GET", path)[1])
            for name in ("conv", "asst", "key", "msg"):
                self.assertNotIn(ids[name], listed, path)
        # The rightful owner (the administrator for admin routes) gets through.
        for method, path, access, body in APP_ROUTES:
            owner = self.admin if access == "admin" else alice
            if access == "public":
                continue
            if path in ("/api/me/password", "/api/logout"):
                owner = self.signed_in("alice")
            status, answer, _ = owner.request(method, path.format(**ids), with_ids(body, ids))
            self.assertLess(status, 300, (method, path, answer))

    def ended_session(self):
        c = self.signed_in("eve")
        cookie = c.cookie
        self.assertEqual(c.request("POST", "/api/logout")[0], 204)
        return cookie

    def test_key_routes(self):
        alice = self.signed_in("alice")
        status, made, _ = alice.request("POST", "/api/keys", {"label": "revoked"})
        revoked = made["secret"]
        self.assertEqual(alice.request("DELETE", "/api/keys/" + made["key"]["id"])[0], 204)
        # A key whose owner is then disabled.
        eve = self.signed_in("eve")
        status, made, _ = eve.request("POST", "/api/keys", {"label": "eve"})
        disabled = made["secret"]
        self.assertEqual(self.admin.request("PATCH", "/api/admin/users/" + self.ids["eve"],
                                            {"disabled": True})[0], 204)
        status, made, _ = alice.request("POST", "/api/keys", {"label": "live"})
        live = made["secret"]
        wrong = [
            {},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer "},
            {"Authorization": "Basic " + FILE_KEY},
            {"Authorization": FILE_KEY},
            {"Authorization": "Bearer " + FILE_KEY[:-1]},
            {"Authorization": "Bearer " + FILE_KEY + "x"},
            {"Authorization": "Bearer " + hashlib.sha256(FILE_KEY.encode()).hexdigest()},
            {"Authorization": "Bearer " + revoked},
            {"Authorization": "Bearer " + disabled},
            {"Authorization": "Bearer " + live.upper()},
            {"Cookie": "autan_session=" + alice.cookie},
        ]
        try:
            for method, path, access, body in KEY_ROUTES:
                target = path.format(**self.ids)
                if access == "public":
                    self.assertEqual(self.server.request(method, target, body)[0], 200, target)
                    continue
                for headers in wrong:
                    status, answer, _ = self.server.request(method, target, body, headers=headers)
                    self.assertEqual(status, 401, (target, headers, answer))
                for key in (FILE_KEY, live):
                    status, answer, _ = self.server.request(
                        method, target, body, headers={"Authorization": "Bearer " + key})
                    if path == "/v1/fim/completions":
                        # Past the key: refused by the model, which has no FIM tokens.
                        self.assertEqual((status, answer["error"]["param"]), (400, "model"))
                    else:
                        self.assertEqual(status, 200, (target, answer))
        finally:
            self.admin.request("PATCH", "/api/admin/users/" + self.ids["eve"],
                               {"disabled": False})


if __name__ == "__main__":
    unittest.main()
