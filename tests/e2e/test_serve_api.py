"""Whole-program tests of `autan serve`'s embeddings, fill-in-the-middle,
rate limits and timeouts, with Python's own HTTP client. Oracles: the NumPy
reference forward pass (embeddings), llama.cpp's recorded token ids of the
shared test vocabulary (the FIM prompt), and plain arithmetic (limits)."""
import base64
import hashlib
import json
import math
import os
import socket
import struct
import sys
import tempfile
import time
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import reference  # noqa: E402
from fim_vocab import write_fim_vocab  # noqa: E402
from serve_util import AUTAN, Server, cli, metric  # noqa: E402

TESTDATA = os.environ["AUTAN_TESTDATA"]
VOCAB = os.path.join(TESTDATA, "vocab", "ggml-vocab-llama-spm.gguf")
EMBEDDINGS = "/v1/embeddings"
FIM = "/v1/fim/completions"
COMPLETIONS = "/v1/completions"


def vocab_cases():
    """llama.cpp's ids for the shared vocabulary's test inputs: {text: [ids]}, no BOS."""
    with open(VOCAB + ".inp", encoding="utf-8") as f:
        inputs = f.read().split("\n__ggml_vocab_test__\n")
    with open(VOCAB + ".out", encoding="utf-8") as f:
        outputs = f.read().split("\n")
    return {text: [int(t) for t in ids.split()] for text, ids in zip(inputs, outputs)}


def cosine(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


class EmbeddingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny-f32.gguf")
        cli("synth", "--shape", "tiny", "--type", "f32", "--seed", "11", cls.model)
        cls.server = Server(cls.model, "--parallel", "2", "--ctx", "4096")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "autan serve exited %d:\n%s" % (code, "".join(cls.server.log[-20:]))

    def embed(self, **body):
        status, out, _ = self.server.post(EMBEDDINGS, {"model": "tiny-f32", **body})
        self.assertEqual(status, 200, out)
        return out

    def test_matches_the_reference_forward_pass(self):
        ids = [1] + vocab_cases()["Hello, y'all! How are you 😁 ?我想在apple工作1314151天～"]
        out = self.embed(input=ids)
        self.assertEqual(out["object"], "list")
        self.assertEqual(out["model"], "tiny-f32")
        usage = out["usage"]
        self.assertEqual((usage["prompt_tokens"], usage["total_tokens"]), (len(ids), len(ids)))
        self.assertNotIn("completion_tokens", usage)
        self.assertGreaterEqual(usage["energy_joules"], 0)  # see test_energy.py for the rest
        self.assertEqual(out["data"][0]["object"], "embedding")
        self.assertEqual(out["data"][0]["index"], 0)
        actual = np.array(out["data"][0]["embedding"])
        expected = reference.run_embedding(self.model, ids)
        self.assertEqual(actual.shape, expected.shape)
        self.assertAlmostEqual(float(np.linalg.norm(actual)), 1.0, places=5)
        # As the f32 logits checks: error within 0.005 of the reference's spread.
        self.assertLess(float(np.max(np.abs(actual - expected))) / float(np.std(expected)), 0.005)
        self.assertGreater(cosine(actual, expected), 0.99999)

    def test_text_is_tokenized_with_bos(self):
        ids = [1] + vocab_cases()["Hello world"]
        by_text = self.embed(input="Hello world")
        by_ids = self.embed(input=[ids])
        self.assertEqual(by_text["usage"]["prompt_tokens"], len(ids))
        self.assertEqual(by_text["data"][0]["embedding"], by_ids["data"][0]["embedding"])

    def test_base64_is_the_float32_bytes(self):
        texts = ["The quick brown fox", "jumps over the lazy dog"]
        floats = self.embed(input=texts)
        packed = self.embed(input=texts, encoding_format="base64")
        for f, b in zip(floats["data"], packed["data"]):
            raw = base64.b64decode(b["embedding"])
            self.assertEqual(len(raw), 4 * len(f["embedding"]))
            self.assertEqual(list(struct.unpack("<%df" % len(f["embedding"]), raw)),
                             f["embedding"])

    def test_batch_keeps_input_order(self):
        texts = ["alpha", "the second input, longer than the first", "gamma", "alpha"]
        batch = self.embed(input=texts)
        self.assertEqual([d["index"] for d in batch["data"]], [0, 1, 2, 3])
        for i, text in enumerate(texts):
            alone = self.embed(input=text)
            self.assertEqual(batch["data"][i]["embedding"], alone["data"][0]["embedding"])
        self.assertEqual(batch["usage"]["prompt_tokens"],
                         sum(self.embed(input=t)["usage"]["prompt_tokens"] for t in texts))
        same = batch["data"][0]["embedding"]
        self.assertAlmostEqual(cosine(same, batch["data"][3]["embedding"]), 1.0, places=12)
        self.assertLess(cosine(same, batch["data"][1]["embedding"]), 0.999)

    def test_errors_name_the_field(self):
        cases = [
            ({"input": "x", "dimensions": 7}, "dimensions"),
            ({"input": ""}, "input"),
            ({"input": []}, "input"),
            ({"input": [1, 10 ** 6]}, "input"),
            ({"input": "x", "encoding_format": "binary"}, "encoding_format"),
            ({}, "input"),
        ]
        for body, param in cases:
            status, out, _ = self.server.post(EMBEDDINGS, body)
            self.assertEqual(status, 400, out)
            self.assertEqual(out["error"]["param"], param, out)
        # Longer than the context.
        status, out, _ = self.server.post(EMBEDDINGS, {"input": [1] * 4097})
        self.assertEqual((status, out["error"]["param"]), (400, "input"))
        self.assertEqual(self.embed(input="x", dimensions=256)["data"][0]["index"], 0)

    def test_answers_while_a_stream_is_decoding(self):
        c = self.server.conn()
        c.request("POST", COMPLETIONS, body=json.dumps(
            {"prompt": "Once", "max_tokens": 4000, "temperature": 0, "stream": True}))
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        r.readline()  # decoding has begun
        start = time.time()
        out = self.embed(input=["while decoding"] * 4)
        self.assertEqual(len(out["data"]), 4)
        text = self.server.request("GET", "/metrics")[1]
        self.assertEqual(metric(text, "autan_active_requests"), 1.0)  # the stream still runs
        self.assertLess(time.time() - start, 60)
        c.close()


class FimTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        vocab = os.path.join(cls.tmp.name, "fim-vocab.gguf")
        cls.suffix_id, cls.prefix_id, _ = write_fim_vocab(VOCAB, vocab)
        cls.model = os.path.join(cls.tmp.name, "tiny-fim.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "4", "--vocab", vocab,
            cls.model)
        cls.server = Server(cls.model, "--parallel", "2")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "autan serve exited %d:\n%s" % (code, "".join(cls.server.log[-20:]))

    def test_prompt_is_mistrals_suffix_prefix_order(self):
        cases = vocab_cases()
        prompt = "    Hello\n    Hello"
        # mistral-common encodes the suffix without SentencePiece's leading
        # space: " Hello, world!" so encoded is "Hello, world!" with it.
        suffix = " Hello, world!"
        expected = ([1, self.suffix_id] + cases["Hello, world!"] + [self.prefix_id] +
                    cases[prompt])
        status, fim, _ = self.server.post(FIM, {"model": "tiny-fim", "prompt": prompt,
                                                "suffix": suffix, "max_tokens": 12,
                                                "temperature": 0})
        self.assertEqual(status, 200, fim)
        self.assertEqual(fim["object"], "chat.completion")
        self.assertEqual(fim["usage"]["prompt_tokens"], len(expected))
        # FIM reports energy like the other generation routes (test_energy.py has the rest).
        self.assertGreaterEqual(fim["usage"]["energy_joules"], 0)
        self.assertIn(fim["usage"]["energy_source"], ("rapl", "estimate"))
        choice = fim["choices"][0]
        self.assertEqual(choice["message"]["role"], "assistant")
        self.assertEqual(choice["finish_reason"], "length")
        # The same ids sent as a plain completion continue the same way.
        status, plain, _ = self.server.post(COMPLETIONS, {"prompt": expected, "max_tokens": 12,
                                                          "temperature": 0})
        self.assertEqual(status, 200, plain)
        self.assertEqual(choice["message"]["content"], plain["choices"][0]["text"])

    def test_stream_agrees_and_min_tokens_holds_back_the_end(self):
        req = {"prompt": "def f(x):", "suffix": "    return y", "max_tokens": 10,
               "temperature": 0}
        whole = self.server.post(FIM, req)[1]
        events, done = self.server.stream(FIM, {**req, "stream": True})
        self.assertTrue(done)
        self.assertEqual(events[0]["choices"][0]["delta"]["role"], "assistant")
        text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
        self.assertEqual(text, whole["choices"][0]["message"]["content"])
        self.assertEqual(events[-1]["choices"][0]["finish_reason"], "length")
        # </s> pushed to the top: it ends at once, unless min_tokens holds it back.
        eos = {"logit_bias": {"2": 100}, "max_tokens": 20}
        first = self.server.post(FIM, {**req, **eos})[1]
        self.assertEqual(first["usage"]["completion_tokens"], 1)
        self.assertEqual(first["choices"][0]["finish_reason"], "stop")
        held = self.server.post(FIM, {**req, **eos, "min_tokens": 5})[1]
        self.assertEqual(held["usage"]["completion_tokens"], 6)  # five tokens, then </s>
        self.assertEqual(held["choices"][0]["finish_reason"], "stop")

    def test_vocabulary_without_fim_tokens_is_400(self):
        model = os.path.join(self.tmp.name, "tiny-plain.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", model)
        s = Server(model)
        try:
            status, out, _ = s.post(FIM, {"prompt": "a", "suffix": "b"})
            self.assertEqual(status, 400, out)
            self.assertEqual(out["error"]["param"], "model")
            self.assertIn("[SUFFIX]", out["error"]["message"])
            status, out, _ = s.post(FIM, {"suffix": "b"})
            self.assertEqual((status, out["error"]["param"]), (400, "prompt"))
        finally:
            self.assertEqual(s.stop(), 0)


class LimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", cls.model)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_per_key_limits_give_429_with_openai_headers(self):
        keys = os.path.join(self.tmp.name, "keys.txt")
        with open(keys, "w") as f:
            f.write(hashlib.sha256(b"sk-two").hexdigest() + " two a minute rpm=2\n")
            f.write(hashlib.sha256(b"sk-tokens").hexdigest() + " tpm=300 rpm=0\n")
            f.write(hashlib.sha256(b"sk-default").hexdigest() + "\n")
        s = Server(self.model, "--api-keys", keys, "--rate-limit-rpm", "1000")
        try:
            two = {"Authorization": "Bearer sk-two"}
            remaining = []
            for _ in range(2):
                status, _, r = s.request("GET", "/v1/models", headers=two)
                self.assertEqual(status, 200)
                self.assertEqual(r.getheader("x-ratelimit-limit-requests"), "2")
                remaining.append(r.getheader("x-ratelimit-remaining-requests"))
            self.assertEqual(remaining, ["1", "0"])
            status, body, r = s.post(COMPLETIONS, {"prompt": "x", "max_tokens": 1}, two)
            self.assertEqual(status, 429)
            self.assertEqual(body["error"]["type"], "rate_limit_error")
            self.assertEqual(body["error"]["code"], "rate_limit_exceeded")
            # One request comes back every 30 s.
            self.assertTrue(1 <= int(r.getheader("Retry-After")) <= 30, r.getheader("Retry-After"))
            self.assertEqual(r.getheader("x-ratelimit-remaining-requests"), "0")
            self.assertTrue(r.getheader("x-ratelimit-reset-requests").endswith("s"))
            # The key without limits of its own has the server's default.
            status, _, r = s.request("GET", "/v1/models",
                                     headers={"Authorization": "Bearer sk-default"})
            self.assertEqual(r.getheader("x-ratelimit-limit-requests"), "1000")

            tokens = {"Authorization": "Bearer sk-tokens"}
            status, body, r = s.post(COMPLETIONS, {"prompt": "Hello", "max_tokens": 400}, tokens)
            self.assertEqual(status, 429)
            self.assertIn("more than the limit", body["error"]["message"])
            # 100 tokens reserved, one used (</s> is pushed to the top): the
            # rest is given back when it completes.
            status, body, r = s.post(COMPLETIONS, {"prompt": "Hello", "max_tokens": 100,
                                                   "logit_bias": {"2": 100}}, tokens)
            self.assertEqual(status, 200, body)
            used = body["usage"]["total_tokens"]
            self.assertEqual(body["usage"]["completion_tokens"], 1)
            self.assertEqual(r.getheader("x-ratelimit-limit-tokens"), "300")
            left = int(r.getheader("x-ratelimit-remaining-tokens"))
            self.assertGreaterEqual(left, 300 - used)
            self.assertLess(left, 300 - used + 10)  # refills at 5 tokens a second
            self.assertIsNone(r.getheader("x-ratelimit-limit-requests"))  # rpm=0: none
            # A request that runs to its max_tokens uses what it reserved;
            # what is left (about 95, growing 5 a second) cannot cover 152.
            status, body, r = s.post(COMPLETIONS, {"prompt": "Hello", "max_tokens": 200,
                                                   "logit_bias": {"2": -100}}, tokens)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["usage"]["total_tokens"], 202)
            status, body, r = s.post(COMPLETIONS, {"prompt": "Hello", "max_tokens": 150},
                                     tokens)
            self.assertEqual(status, 429, body)
            self.assertIn("300 tokens per minute", body["error"]["message"])
            self.assertGreaterEqual(int(r.getheader("Retry-After")), 1)
        finally:
            self.assertEqual(s.stop(), 0)

    def test_without_keys_each_address_has_the_default(self):
        s = Server(self.model, "--rate-limit-rpm", "1")
        try:
            self.assertEqual(s.request("GET", "/health")[0], 200)  # not counted
            self.assertEqual(s.post(COMPLETIONS, {"prompt": "x", "max_tokens": 1})[0], 200)
            status, body, r = s.post(COMPLETIONS, {"prompt": "x", "max_tokens": 1})
            self.assertEqual(status, 429, body)
            self.assertTrue(30 <= int(r.getheader("Retry-After")) <= 60)
        finally:
            self.assertEqual(s.stop(), 0)

    def test_request_and_idle_timeouts(self):
        s = Server(self.model, "--ctx", "4096", "--request-timeout", "1", "--idle-timeout", "1",
                   "--parallel", "1")
        try:
            start = time.time()
            status, body, _ = s.post(COMPLETIONS, {"prompt": "Once", "max_tokens": 4000,
                                                   "temperature": 0})
            self.assertEqual(status, 200, body)
            self.assertGreaterEqual(time.time() - start, 1.0)
            self.assertEqual(body["choices"][0]["finish_reason"], "length")
            self.assertLess(body["usage"]["completion_tokens"], 4000)
            events, done = s.stream(COMPLETIONS, {"prompt": "Once", "max_tokens": 4000,
                                                  "temperature": 0, "stream": True})
            self.assertTrue(done)
            self.assertEqual(events[-1]["choices"][0]["finish_reason"], "length")
            # The only slot is free again at once.
            self.assertEqual(metric(s.request("GET", "/metrics")[1], "autan_active_requests"), 0)
            self.assertEqual(s.post(COMPLETIONS, {"prompt": "x", "max_tokens": 2})[0], 200)

            # A client that does not finish its headers is cut off.
            slow = socket.create_connection(("127.0.0.1", s.port))
            slow.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n")
            slow.settimeout(10)
            start = time.time()
            self.assertEqual(slow.recv(4096), b"")
            self.assertLess(time.time() - start, 8)
            slow.close()
        finally:
            self.assertEqual(s.stop(), 0)


if __name__ == "__main__":
    unittest.main()
