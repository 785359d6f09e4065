"""Secrets: the files of the data directory are private to their owner
(0700 directory, 0600 files, the SQLite -wal and -shm files included); no
password, API key, session token or CSRF token ever reaches the server's
log or sits in clear in the database; and every secret can be given through
a file, the environment or standard input, never only on a command line,
where any local user could read it in /proc."""
import hashlib
import os
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from serve_util import AUTAN, Server, cli  # noqa: E402
from test_app import Client  # noqa: E402

FILE_KEY = "sk-file-key-9f1c2a7e"
PASSWORD = "tr0ub4dor&3-horse-staple"
OTHER_PASSWORD = "a-new-password-for-alice"
WRONG_PASSWORD = "wrong-guess-password-77"


class SecretsTest(unittest.TestCase):
    def test_files_private_and_secrets_out_of_logs(self):
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "tiny.gguf")
            cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", model)
            keys = os.path.join(tmp, "keys")
            with open(keys, "w") as f:
                f.write(cli("serve", "--hash-key", FILE_KEY))
            data = os.path.join(tmp, "nested", "data")
            # A permissive umask: the server must not rely on the user's.
            old_umask = os.umask(0)
            try:
                server = Server(model, "--ctx", "256", "--data-dir", data, "--api-keys", keys)
            finally:
                os.umask(old_umask)
            try:
                seen = self.use_every_secret(server)
                self.assert_private(data)
            finally:
                self.assertEqual(server.stop(), 0)
            log = "".join(server.log)
            self.assertIn('"path":"/api/login"', log)  # the log is there, and holds requests
            database = b""
            for name in os.listdir(data):
                with open(os.path.join(data, name), "rb") as f:
                    database += f.read()
            for name, secret in seen.items():
                self.assertFalse(secret in log, "%s in the log" % name)
                self.assertFalse(secret.encode() in database, "%s in the database" % name)

    def use_every_secret(self, server):
        """Signs in (also wrongly), makes and uses keys; every secret seen."""
        admin = Client(server)
        self.assertEqual(admin.request("POST", "/api/setup", {
            "username": "root", "password": PASSWORD})[0], 200)
        self.assertEqual(admin.request("POST", "/api/admin/users", {
            "username": "alice", "password": PASSWORD})[0], 201)
        alice = Client(server)
        self.assertEqual(alice.request("POST", "/api/login", {
            "username": "alice", "password": WRONG_PASSWORD})[0], 401)
        alice.login("alice", PASSWORD)
        self.assertEqual(alice.request("PATCH", "/api/me/password", {
            "current_password": PASSWORD, "new_password": OTHER_PASSWORD})[0], 204)
        alice = Client(server)
        alice.login("alice", OTHER_PASSWORD)
        status, made, _ = alice.request("POST", "/api/keys", {"label": "laptop"})
        self.assertEqual(status, 201)
        personal = made["secret"]
        for key in (FILE_KEY, personal, personal[:-1] + "0", "sk-not-a-key"):
            server.request("GET", "/v1/models", headers={"Authorization": "Bearer " + key})
            server.request("GET", "/v1/models?api_key=" + key)
        self.assertEqual(alice.request("DELETE", "/api/keys/" + made["key"]["id"])[0], 204)
        server.request("GET", "/v1/models", headers={"Authorization": "Bearer " + personal})
        return {"password": PASSWORD, "new password": OTHER_PASSWORD,
                "wrong password": WRONG_PASSWORD, "file key": FILE_KEY, "personal key": personal,
                "personal key digits": personal[len("sk-autan-"):],
                "session token": alice.cookie, "admin session token": admin.cookie}

    def assert_private(self, data):
        mode = stat.S_IMODE(os.stat(data).st_mode)
        self.assertEqual(mode, 0o700, oct(mode))
        names = os.listdir(data)
        self.assertTrue(any(n.endswith("-wal") for n in names), names)
        for name in names:
            mode = stat.S_IMODE(os.stat(os.path.join(data, name)).st_mode)
            self.assertEqual(mode, 0o600, (name, oct(mode)))

    def test_secrets_never_needed_on_the_command_line(self):
        # The keys file holds hashes; the line for a key is printed from stdin.
        p = subprocess.run([AUTAN, "serve", "--hash-key", "-"], input=FILE_KEY + "\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), hashlib.sha256(FILE_KEY.encode()).hexdigest())
        # Passwords come from the environment or standard input: no option takes one.
        for sub in ("add", "passwd"):
            helptext = cli("user", sub, "--help")
            self.assertNotRegex(helptext, r"--pass|--secret|--key\b", sub)
        self.assertNotRegex(cli("serve", "--help"), r"--password|--secret|--api-key\s")
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, AUTAN_PASSWORD=PASSWORD)
            p = subprocess.run([AUTAN, "user", "add", "--data-dir", tmp, "--name", "env",
                                "--argon2-m", "64", "--argon2-t", "1"],
                               env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            env.pop("AUTAN_PASSWORD")
            p = subprocess.run([AUTAN, "user", "add", "--data-dir", tmp, "--name", "stdin",
                                "--argon2-m", "64", "--argon2-t", "1"], input=PASSWORD + "\n",
                               env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            for out in (p.stdout, p.stderr):
                self.assertNotIn(PASSWORD, out)
            listed = cli("user", "list", "--data-dir", tmp)
            self.assertIn("env", listed)
            self.assertIn("stdin", listed)


if __name__ == "__main__":
    unittest.main()
