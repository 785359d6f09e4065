"""Whole-program tests of `autan user`: accounts in the data directory's SQLite
database, passwords from AUTAN_PASSWORD or stdin only, clear errors."""
import os
import re
import sqlite3
import stat
import subprocess
import tempfile
import unittest

AUTAN = os.environ["AUTAN_BIN"]
# Cheap hashing: the default (64 MiB, 3 passes) is checked once, in test_default_cost.
FAST = ["--argon2-t", "1", "--argon2-m", "64"]


def autan(*args, stdin="", password=None, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "AUTAN_PASSWORD"}
    if password is not None:
        env["AUTAN_PASSWORD"] = password
    env.update(env_extra or {})
    return subprocess.run([AUTAN, *args], input=stdin.encode(), capture_output=True, env=env,
                          timeout=120)


def users(data_dir):
    p = autan("user", "list", "--data-dir", data_dir)
    assert p.returncode == 0, p.stderr.decode()
    lines = p.stdout.decode().splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "STATUS", "CREATED", "ID"], lines[0]
    return {f[0]: f[1:] for f in (line.split() for line in lines[1:])}


class UserCommandTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "data")

    def tearDown(self):
        self.tmp.cleanup()

    def add(self, name, *extra, **kw):
        return autan("user", "add", "--data-dir", self.dir, "--name", name, *FAST, *extra, **kw)

    def test_add_and_list(self):
        p = self.add("alice", "--admin", password="alice-secret-1")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertRegex(p.stdout.decode(), r"^created admin 'alice' \(id [0-9a-f]{32}\)\n$")
        p = self.add("bob", stdin="bob-secret-22\n")  # from stdin when AUTAN_PASSWORD is unset
        self.assertEqual(p.returncode, 0, p.stderr.decode())

        listed = users(self.dir)
        self.assertEqual(sorted(listed), ["alice", "bob"])
        self.assertEqual(listed["alice"][:2], ["admin", "active"])
        self.assertEqual(listed["bob"][:2], ["user", "active"])
        self.assertRegex(listed["bob"][2], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(listed["bob"][3], r"^[0-9a-f]{32}$")
        self.assertNotEqual(listed["alice"][3], listed["bob"][3])

        # The database as SQLite itself sees it: Argon2id hashes, nothing in clear.
        db = os.path.join(self.dir, "autan.db")
        with sqlite3.connect(db) as conn:
            rows = dict(conn.execute("SELECT username, password_hash FROM users"))
            actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
        for name, secret in (("alice", "alice-secret-1"), ("bob", "bob-secret-22")):
            self.assertTrue(rows[name].startswith("$argon2id$v=19$m=64,t=1,p=1$"), rows[name])
            self.assertNotIn(secret, rows[name])
        self.assertEqual(actions, ["user.create", "user.create"])
        self.assertEqual(stat.S_IMODE(os.stat(self.dir).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o600)

    def test_default_cost(self):
        p = autan("user", "add", "--data-dir", self.dir, "--name", "carol", password="carol-secret")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with sqlite3.connect(os.path.join(self.dir, "autan.db")) as conn:
            (h,) = conn.execute("SELECT password_hash FROM users").fetchone()
        self.assertTrue(h.startswith("$argon2id$v=19$m=65536,t=3,p=1$"), h)

    def test_refusals(self):
        self.assertEqual(self.add("alice", password="alice-secret-1").returncode, 0)
        p = self.add("ALICE", password="another-secret")
        self.assertEqual(p.returncode, 2)
        self.assertIn("already exists", p.stderr.decode())
        p = self.add("dave", password="short")
        self.assertEqual(p.returncode, 2)
        self.assertIn("at least 8", p.stderr.decode())
        p = self.add("dave")  # no AUTAN_PASSWORD and nothing on stdin
        self.assertEqual(p.returncode, 2)
        self.assertIn("AUTAN_PASSWORD", p.stderr.decode())
        p = self.add("no spaces allowed", password="long-enough")
        self.assertEqual(p.returncode, 2)
        # There is no way to pass a password on the command line.
        p = self.add("erin", "--password", "long-enough-1")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(sorted(users(self.dir)), ["alice"])

    def test_passwd_disable_enable(self):
        self.assertEqual(self.add("bob", password="bob-secret-22").returncode, 0)
        db = os.path.join(self.dir, "autan.db")
        with sqlite3.connect(db) as conn:
            (before,) = conn.execute("SELECT password_hash FROM users").fetchone()
        p = autan("user", "passwd", "--data-dir", self.dir, "--name", "bob", *FAST,
                  stdin="a-brand-new-one\n")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with sqlite3.connect(db) as conn:
            (after,) = conn.execute("SELECT password_hash FROM users").fetchone()
        self.assertNotEqual(before, after)

        p = autan("user", "disable", "--data-dir", self.dir, "--name", "bob")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(users(self.dir)["bob"][1], "disabled")
        p = autan("user", "enable", "--data-dir", self.dir, "--name", "Bob")
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(users(self.dir)["bob"][1], "active")
        p = autan("user", "disable", "--data-dir", self.dir, "--name", "nobody")
        self.assertEqual(p.returncode, 2)
        self.assertIn("no user named 'nobody'", p.stderr.decode())
        with sqlite3.connect(db) as conn:
            actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
        self.assertEqual(actions, ["user.create", "user.passwd", "user.disable", "user.enable"])

    def test_missing_directory_is_named(self):
        p = autan("user", "list", "--data-dir", self.dir)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"data directory '{self.dir}' does not exist", p.stderr.decode())
        self.assertFalse(os.path.exists(self.dir))  # listing creates nothing

    def test_default_directory_follows_xdg(self):
        xdg = os.path.join(self.tmp.name, "xdg")
        p = autan("user", "add", "--name", "alice", *FAST, password="alice-secret-1",
                  env_extra={"XDG_DATA_HOME": xdg})
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertTrue(os.path.isfile(os.path.join(xdg, "autan", "autan.db")))
        p = autan("user", "list", env_extra={"XDG_DATA_HOME": xdg})
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertTrue(re.search(r"^alice\s+user\s+active", p.stdout.decode(), re.M))


if __name__ == "__main__":
    unittest.main()
