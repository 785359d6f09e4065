"""Whole-program tests of `autan serve` with Python's own HTTP client: the
OpenAI shapes, streaming, stop sequences, determinism, errors, keys, limits,
cancellation and graceful shutdown."""
import concurrent.futures
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import jsonschema

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import AUTAN, Server, cli, metric  # noqa: E402

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"


def user(text):
    return [{"role": "user", "content": text}]



def tokens_of(usage):
    """The token counts of a usage object (its energy differs from run to run)."""
    return {k: usage[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")}

class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny-q8_0.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "5", cls.model)
        cls.server = Server(cls.model, "--parallel", "4", "--max-body", "65536")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "autan serve exited %d:\n%s" % (code, "".join(cls.server.log[-20:]))

    def complete(self, prompt, **kw):
        status, body, _ = self.server.post(COMPLETIONS, {"prompt": prompt, **kw})
        self.assertEqual(status, 200, body)
        return body

    def test_health_version_models(self):
        s = self.server
        self.assertEqual(s.request("GET", "/health")[:2], (200, {"status": "ok"}))
        status, home, r = s.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/html"))
        self.assertIn("<title>autan", home)  # the chat app, or the page saying it is not built
        self.assertIn("default-src 'self'", r.getheader("Content-Security-Policy"))
        status, version, _ = s.request("GET", "/version")
        self.assertEqual(status, 200)
        self.assertEqual(version["model"], "tiny-q8_0")
        status, models, _ = s.request("GET", "/v1/models")
        self.assertEqual(models["object"], "list")
        self.assertEqual([m["id"] for m in models["data"]], ["tiny-q8_0"])
        self.assertEqual(s.request("GET", "/v1/models/tiny-q8_0")[1]["id"], "tiny-q8_0")
        status, err, _ = s.request("GET", "/v1/models/gpt-4")
        self.assertEqual(status, 404)
        self.assertEqual(err["error"]["code"], "model_not_found")

    def test_greedy_completion_matches_autan_run(self):
        # The CLI's single-session generation loop is the oracle for the
        # scheduler's batched one.
        expected = cli("run", "-m", self.model, "-p", "Once upon a time", "-n", "12",
                       "--temp", "0", "-t", "1")
        body = self.complete("Once upon a time", max_tokens=12, temperature=0)
        choice = body["choices"][0]
        self.assertEqual(choice["text"], expected)
        self.assertEqual(choice["finish_reason"], "length")
        ids = cli("tokenize", "-m", self.model, "--text", "Once upon a time", "--ids").split()
        self.assertEqual(tokens_of(body["usage"]),
                         {"prompt_tokens": len(ids), "completion_tokens": 12,
                          "total_tokens": len(ids) + 12})
        self.assertEqual(body["object"], "text_completion")
        self.assertTrue(body["id"].startswith("cmpl-"))

    def test_chat_shape_and_stream_agree(self):
        req = {"model": "tiny-q8_0", "messages": user("Hello"), "max_tokens": 10,
               "temperature": 0}
        status, body, _ = self.server.post(CHAT, req)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["object"], "chat.completion")
        self.assertTrue(body["id"].startswith("chatcmpl-"))
        self.assertIsInstance(body["created"], int)
        msg = body["choices"][0]["message"]
        self.assertEqual(msg["role"], "assistant")
        self.assertEqual(body["choices"][0]["finish_reason"], "length")
        self.assertIsNone(body["choices"][0]["logprobs"])
        self.assertEqual(body["usage"]["completion_tokens"], 10)

        events, done = self.server.stream(CHAT, {**req, "stream": True,
                                                 "stream_options": {"include_usage": True}})
        self.assertTrue(done)
        self.assertEqual(events[0]["choices"][0]["delta"]["role"], "assistant")
        self.assertEqual(events[0]["object"], "chat.completion.chunk")
        self.assertEqual(len({e["id"] for e in events}), 1)
        content = "".join(e["choices"][0]["delta"].get("content", "")
                          for e in events if e["choices"])
        self.assertEqual(content, msg["content"])
        finishes = [e["choices"][0]["finish_reason"] for e in events if e["choices"]]
        self.assertEqual(finishes[-1], "length")
        self.assertTrue(all(f is None for f in finishes[:-1]))
        self.assertEqual(events[-1]["choices"], [])
        self.assertEqual(tokens_of(events[-1]["usage"]), tokens_of(body["usage"]))
        self.assertTrue(all(e["usage"] is None for e in events[:-1]))

    def test_stop_sequences_cut_the_text_even_across_tokens(self):
        full = self.complete("The weather today", max_tokens=24, temperature=0)
        text = full["choices"][0]["text"]
        self.assertGreater(len(text), 12)
        # A stop that starts inside one token and ends inside another.
        stop = text[5:11]
        cut = text[:text.index(stop)]
        body = self.complete("The weather today", max_tokens=24, temperature=0, stop=[stop, "@@"])
        self.assertEqual(body["choices"][0]["text"], cut)
        self.assertEqual(body["choices"][0]["finish_reason"], "stop")
        self.assertLess(body["usage"]["completion_tokens"], 24)
        events, _ = self.server.stream(COMPLETIONS, {"prompt": "The weather today",
                                                     "max_tokens": 24, "temperature": 0,
                                                     "stop": stop, "stream": True})
        self.assertEqual("".join(e["choices"][0]["text"] for e in events), cut)
        self.assertEqual(events[-1]["choices"][0]["finish_reason"], "stop")

    def test_seed_determinism(self):
        req = {"messages": user("Tell me a story"), "max_tokens": 16, "temperature": 1.0}
        a = self.server.post(CHAT, {**req, "seed": 11})[1]["choices"][0]["message"]["content"]
        b = self.server.post(CHAT, {**req, "seed": 11})[1]["choices"][0]["message"]["content"]
        c = self.server.post(CHAT, {**req, "seed": 12})[1]["choices"][0]["message"]["content"]
        mistral = self.server.post(CHAT, {**req, "random_seed": 11})[1]
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)
        self.assertEqual(mistral["choices"][0]["message"]["content"], a)

    def test_n_choices_and_logprobs(self):
        status, body, _ = self.server.post(CHAT, {"messages": user("Hi"), "max_tokens": 4,
                                                  "n": 3, "seed": 3, "logprobs": True,
                                                  "top_logprobs": 2})
        self.assertEqual(status, 200, body)
        self.assertEqual([c["index"] for c in body["choices"]], [0, 1, 2])
        self.assertEqual(body["usage"]["completion_tokens"], 12)
        for c in body["choices"]:
            lp = c["logprobs"]["content"]
            self.assertEqual(len(lp), 4)
            for t in lp:
                self.assertLessEqual(t["logprob"], 0.0)
                self.assertEqual(len(t["top_logprobs"]), 2)
                self.assertGreaterEqual(t["top_logprobs"][0]["logprob"],
                                        t["top_logprobs"][1]["logprob"])
                self.assertEqual(bytes(t["bytes"]).decode("utf-8", "replace").replace(
                    "\ufffd", ""), t["token"].replace("\ufffd", ""))
        # Greedy: the chosen token is the most likely one.
        greedy = self.server.post(CHAT, {"messages": user("Hi"), "max_tokens": 4,
                                         "temperature": 0, "logprobs": True,
                                         "top_logprobs": 1})[1]
        for t in greedy["choices"][0]["logprobs"]["content"]:
            self.assertAlmostEqual(t["logprob"], t["top_logprobs"][0]["logprob"], places=5)

    def test_logit_bias_forces_a_token(self):
        # 8396 is "▁Bon" in the Llama vocabulary.
        body = self.complete("Hello", max_tokens=3, temperature=0, logit_bias={"8396": 100})
        self.assertEqual(body["choices"][0]["text"], " Bon Bon Bon")

    def test_mistral_prefix_continues_the_assistant_message(self):
        base = [{"role": "user", "content": "Write"}]
        prefixed = self.server.post(CHAT, {
            "messages": base + [{"role": "assistant", "content": "Roses", "prefix": True}],
            "max_tokens": 3, "temperature": 0})[1]
        plain = self.server.post(CHAT, {"messages": base, "max_tokens": 3, "temperature": 0})[1]
        roses = len(cli("tokenize", "-m", self.model, "--text", "Roses", "--ids").split()) - 1
        self.assertGreaterEqual(prefixed["usage"]["prompt_tokens"],
                                plain["usage"]["prompt_tokens"] + roses)
        safe = self.server.post(CHAT, {"messages": base, "max_tokens": 1, "safe_prompt": True})[1]
        self.assertGreater(safe["usage"]["prompt_tokens"], plain["usage"]["prompt_tokens"] + 20)

    def test_json_schema_output_is_valid(self):
        schema = {"type": "object", "additionalProperties": False,
                  "required": ["name", "age", "tags"],
                  "properties": {"name": {"type": "string", "maxLength": 12},
                                 "age": {"type": "integer"},
                                 "tags": {"type": "array", "items": {"enum": ["x", "y"]}}}}
        fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}
        for seed in (1, 2, 3):
            status, body, _ = self.server.post(CHAT, {"messages": user("Who?"), "seed": seed,
                                                      "max_tokens": 300, "response_format": fmt})
            self.assertEqual(status, 200, body)
            self.assertEqual(body["choices"][0]["finish_reason"], "stop")
            value = json.loads(body["choices"][0]["message"]["content"])
            self.assertEqual(set(value), {"name", "age", "tags"})
            self.assertIsInstance(value["name"], str)
            self.assertLessEqual(len(value["name"]), 12)
            self.assertIsInstance(value["age"], int)
            self.assertTrue(all(t in ("x", "y") for t in value["tags"]))
        # Any object. A random model rarely closes one by chance, so the
        # closing tokens get a push; the constraint still decides where they fit.
        closing = self.server.post("/tokenize", {"content": "{}"})[1]["tokens"]
        bias = {str(t): 15 for t in closing}
        for seed in (1, 2):
            body = self.server.post(CHAT, {"messages": user("x"), "max_tokens": 200, "seed": seed,
                                           "logit_bias": bias,
                                           "response_format": {"type": "json_object"}})[1]
            self.assertEqual(body["choices"][0]["finish_reason"], "stop", body)
            self.assertIsInstance(json.loads(body["choices"][0]["message"]["content"]), dict)
        bad = {"type": "json_schema", "json_schema": {"schema": {"patternProperties": {}}}}
        status, body, _ = self.server.post(CHAT, {"messages": user("x"), "response_format": bad})
        self.assertEqual(status, 400)
        self.assertIn("patternProperties", body["error"]["message"])

    def test_tokenize_detokenize(self):
        text = "Hello world, ça va?"
        ids = [int(i) for i in cli("tokenize", "-m", self.model, "--text", text, "--ids").split()]
        status, body, _ = self.server.post("/tokenize", {"content": text, "add_special": True})
        self.assertEqual(status, 200)
        self.assertEqual(body["tokens"], ids)
        status, body, _ = self.server.post("/detokenize", {"tokens": ids})
        self.assertEqual(body["content"].strip(), text)

    def test_errors_have_openai_shape(self):
        s = self.server
        cases = [
            (s.request("POST", CHAT, raw="{not json"), 400, None),
            (s.post(CHAT, {"messages": "hi"}), 400, "messages"),
            (s.post(CHAT, {"messages": user("x"), "temperature": "warm"}), 400, "temperature"),
            (s.post(CHAT, {"messages": user("x"), "max_tokens": -1}), 400, "max_tokens"),
            (s.post(COMPLETIONS, {"prompt": {"a": 1}}), 400, "prompt"),
            (s.post(CHAT, {"model": "gpt-4o", "messages": user("x")}), 404, "model"),
            (s.request("GET", "/v1/nothing"), 404, None),
            (s.request("GET", CHAT), 405, None),
            (s.post(COMPLETIONS, {"prompt": "word " * 600}), 400, "prompt"),
        ]
        for (status, body, _), want_status, want_param in cases:
            self.assertEqual(status, want_status, body)
            self.assertEqual(set(body["error"]), {"message", "type", "param", "code"})
            self.assertTrue(body["error"]["message"])
            self.assertEqual(body["error"]["param"], want_param, body)

    def test_body_too_large_is_413(self):
        status, body, _ = self.server.post(CHAT, {"messages": user("x" * 70000)})
        self.assertEqual(status, 413)
        self.assertEqual(body["error"]["code"], "request_too_large")
        self.assertEqual(self.server.request("GET", "/health")[0], 200)
        text = self.server.request("GET", "/metrics")[1]
        self.assertIn('status="413"', text)

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        c = self.server.conn()
        for _ in range(3):
            c.request("GET", "/health")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.request("POST", COMPLETIONS, body=json.dumps({"prompt": "a", "max_tokens": 2,
                                                        "stream": True}))
        r = c.getresponse()
        self.assertTrue(r.read().decode().endswith("data: [DONE]\n\n"))
        c.request("GET", "/health")
        self.assertEqual(c.getresponse().status, 200)
        c.close()

    def test_concurrent_greedy_streams_match_a_lone_request(self):
        prompts = ["Once upon a time", "The capital of France", "def main():", "Hello",
                   "In 1492,", "Roses are red", "The quick brown fox", "Dear sir,",
                   "Le petit prince", "SELECT * FROM", "To be or not", "It was a dark night",
                   "import numpy as np", "My favourite food", "Chapter one", "Bonjour à tous"]

        def run(prompt):
            events, _ = self.server.stream(COMPLETIONS, {"prompt": prompt, "max_tokens": 16,
                                                         "temperature": 0, "stream": True})
            return "".join(e["choices"][0]["text"] for e in events)

        alone = [run(p) for p in prompts]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            together = list(pool.map(run, prompts))
        self.assertEqual(together, alone)

    def test_disconnect_cancels_the_generation(self):
        before = metric(self.server.request("GET", "/metrics")[1], "autan_completion_tokens_total")
        sock = socket.create_connection(("127.0.0.1", self.server.port))
        body = json.dumps({"prompt": "Once", "max_tokens": 400, "temperature": 0, "stream": True})
        sock.sendall((f"POST {COMPLETIONS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                      f"\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode())
        self.assertIn(b"200 OK", sock.recv(4096))
        sock.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            text = self.server.request("GET", "/metrics")[1]
            if metric(text, "autan_active_requests") == 0:
                break
            time.sleep(0.05)
        self.assertEqual(metric(text, "autan_active_requests"), 0)
        self.assertEqual(metric(text, "autan_kv_blocks_in_use"), 0)  # its KV went back
        # It ended long before its 400 tokens.
        self.assertLess(metric(text, "autan_completion_tokens_total") - before, 400)

    def test_shared_prefix_is_served_from_the_cache(self):
        system = "You are a careful assistant. " * 40
        first = {"prompt": system + "Question one?", "max_tokens": 8, "temperature": 0}
        second = {"prompt": system + "And another question?", "max_tokens": 8, "temperature": 0}
        n_system = len(self.server.post("/tokenize", {"content": system})[1]["tokens"])
        self.assertGreater(n_system, 200)
        text = self.server.request("GET", "/metrics")[1]
        hits = metric(text, "autan_prefix_cache_hit_tokens_total")
        lookups = metric(text, "autan_prefix_cache_lookup_tokens_total")
        a = self.complete(**first)
        b = self.complete(**second)
        again = self.complete(**first)
        self.assertEqual(again["choices"][0]["text"], a["choices"][0]["text"])
        text = self.server.request("GET", "/metrics")[1]
        # Blocks of 16 positions: the second request finds every whole block of
        # the shared system prompt, the repeat nearly all of its own prompt.
        new_hits = metric(text, "autan_prefix_cache_hit_tokens_total") - hits
        n_first = a["usage"]["prompt_tokens"]
        self.assertGreaterEqual(new_hits, (n_system - 16) // 16 * 16 + (n_first - 1) // 16 * 16)
        self.assertEqual(metric(text, "autan_prefix_cache_lookup_tokens_total") - lookups,
                         2 * n_first + b["usage"]["prompt_tokens"])
        self.assertGreater(metric(text, "autan_kv_blocks_cached"), 0)

    def test_metrics_and_access_log(self):
        self.complete("metrics", max_tokens=2)
        text = self.server.request("GET", "/metrics")[1]
        self.assertIn('autan_requests_total{route="/v1/completions",status="200"}', text)
        self.assertGreater(metric(text, "autan_completion_tokens_total"), 0)
        self.assertGreater(metric(text, "autan_time_to_first_token_seconds_count"), 0)
        self.assertIn("autan_inter_token_latency_seconds_bucket", text)
        secret = "a very private prompt 42"
        self.complete(secret, max_tokens=2)
        time.sleep(0.2)
        log = self.server.access_log()
        self.assertTrue(log)
        for r in log:
            self.assertLessEqual({"time", "method", "path", "status", "duration_ms"}, set(r))
        self.assertFalse(any(secret in line for line in self.server.log))


WEATHER = {"type": "object", "additionalProperties": False,
           "required": ["city", "unit", "days"],
           "properties": {"city": {"type": "string", "maxLength": 12},
                          "unit": {"enum": ["celsius", "fahrenheit"]},
                          "days": {"type": "integer"},
                          "hourly": {"type": "boolean"}}}
ADD = {"type": "object", "additionalProperties": False, "required": ["a", "b"],
       "properties": {"a": {"type": "integer"}, "b": {"type": "number"}}}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Forecast",
                                           "parameters": WEATHER}},
         {"type": "function", "function": {"name": "add", "parameters": ADD}}]
SCHEMAS = {"get_weather": WEATHER, "add": ADD}


def nemo_tools_block(tools):
    """Mistral Nemo's [AVAILABLE_TOOLS] block, written from its template."""
    out = []
    for t in tools:
        fields = []
        for key, val in t["function"].items():
            if isinstance(val, str):
                fields.append('"%s": "%s"' % (key, val))
            else:
                fields.append('"%s": %s' % (key, json.dumps(val, ensure_ascii=False)))
        out.append('{"type": "function", "function": {' + ", ".join(fields) + "}}")
    return "[AVAILABLE_TOOLS][" + ", ".join(out) + "]" + "[/AVAILABLE_TOOLS]"


class ToolsTest(unittest.TestCase):
    """Tool calls with Mistral Nemo's template on a random model: forced calls
    must name a declared function with arguments its schema accepts
    (checked by the jsonschema package); the prompt must be what the template
    writes."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "3", cls.model)
        cls.template = os.path.join(os.environ["AUTAN_TESTDATA"], "templates",
                                    "mistralai-Mistral-Nemo-Instruct-2407.jinja")
        cls.server = Server(cls.model, "--chat-template", cls.template, "--parallel", "2",
                            "--ctx", "2048")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "".join(cls.server.log[-20:])

    def prompt_tokens(self, text):
        return len(cli("tokenize", "-m", self.model, "--parse-special", "--no-add-special",
                       "--text", text, "--ids").split())

    def check_calls(self, calls, names=("get_weather", "add")):
        self.assertGreaterEqual(len(calls), 1)
        for call in calls:
            self.assertRegex(call["id"], r"^[A-Za-z0-9]{9}$")
            self.assertEqual(call["type"], "function")
            self.assertIn(call["function"]["name"], names)
            self.assertIsInstance(call["function"]["arguments"], str)
            args = json.loads(call["function"]["arguments"])
            jsonschema.validate(args, SCHEMAS[call["function"]["name"]])
        self.assertEqual(len({c["id"] for c in calls}), len(calls))

    def closing_bias(self):
        # A random model rarely ends the list of calls by chance, so the
        # tokens that close it get a push; the constraint still decides
        # where they fit.
        ids = []
        for text in ("x]", "x}]"):
            ids += self.server.post("/tokenize", {"content": text})[1]["tokens"][1:]
        return {str(t): 10 for t in ids}

    def forced(self, **kw):
        req = {"messages": user("Weather in Paris?"), "tools": TOOLS, "max_tokens": 400,
               "tool_choice": "required", "logit_bias": self.closing_bias(), **kw}
        status, body, _ = self.server.post(CHAT, req)
        self.assertEqual(status, 200, body)
        return body

    def test_forced_calls_fit_the_declared_schemas(self):
        for seed in (1, 2, 3, 4):
            body = self.forced(seed=seed)
            choice = body["choices"][0]
            self.assertEqual(choice["finish_reason"], "tool_calls", body)
            self.assertIsNone(choice["message"]["content"])
            self.check_calls(choice["message"]["tool_calls"])
        # Mistral's name for it, and one function named.
        for choice in ({"tool_choice": "any"},
                       {"tool_choice": {"type": "function", "function": {"name": "add"}}}):
            body = self.forced(seed=5, **choice)
            self.assertEqual(body["choices"][0]["finish_reason"], "tool_calls", body)
            names = ("add",) if isinstance(choice["tool_choice"], dict) else ("get_weather", "add")
            self.check_calls(body["choices"][0]["message"]["tool_calls"], names)

    def test_parallel_tool_calls_false_gives_one_call(self):
        for seed in (1, 2, 3):
            body = self.forced(seed=seed, parallel_tool_calls=False)
            calls = body["choices"][0]["message"]["tool_calls"]
            self.assertEqual(len(calls), 1)
            self.check_calls(calls)

    def test_streamed_calls_match_the_whole_response(self):
        whole = self.forced(seed=7)
        events, done = self.server.stream(CHAT, {
            "messages": user("Weather in Paris?"), "tools": TOOLS, "max_tokens": 400,
            "tool_choice": "required", "seed": 7, "stream": True,
            "logit_bias": self.closing_bias(),
            "stream_options": {"include_usage": True}})
        self.assertTrue(done)
        self.assertEqual(events[0]["choices"][0]["delta"]["role"], "assistant")
        # Put the deltas together as OpenAI's SDK does.
        calls, content, finishes = [], "", []
        for e in events[1:-1]:
            choice = e["choices"][0]
            delta = choice["delta"]
            content += delta.get("content") or ""
            finishes.append(choice["finish_reason"])
            for d in delta.get("tool_calls", []):
                if "id" in d:
                    self.assertEqual(d["index"], len(calls))
                    self.assertEqual(d["type"], "function")
                    self.assertEqual(d["function"]["arguments"], "")
                    calls.append({"id": d["id"], "type": "function",
                                  "function": {"name": d["function"]["name"], "arguments": ""}})
                else:
                    self.assertEqual(set(d), {"index", "function"})
                    calls[d["index"]]["function"]["arguments"] += d["function"]["arguments"]
        self.assertEqual(content, "")
        self.assertEqual(finishes[-1], "tool_calls")
        self.assertTrue(all(f is None for f in finishes[:-1]))
        self.assertGreater(sum(len(e["choices"][0]["delta"].get("tool_calls", []))
                               for e in events[1:-1]), len(calls), "arguments in one piece")
        self.check_calls(calls)
        want = whole["choices"][0]["message"]["tool_calls"]
        self.assertEqual([c["function"] for c in calls], [c["function"] for c in want])
        self.assertEqual(tokens_of(events[-1]["usage"]), tokens_of(whole["usage"]))

    def test_prompt_renders_tools_and_tool_messages_as_the_template_does(self):
        history = [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "abcDEF123", "type": "function",
                 "function": {"name": "get_weather",
                              "arguments": json.dumps({"city": "Paris", "unit": "celsius"})}}]},
            {"role": "tool", "tool_call_id": "abcDEF123", "content": '{"temp": 21}'},
            {"role": "assistant", "content": "21 degrees."},
            {"role": "user", "content": "And tomorrow?"}]
        call = ('[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris", '
                '"unit": "celsius"}, "id": "abcDEF123"}]</s>')
        result = '[TOOL_RESULTS]{"content": {"temp": 21}, "call_id": "abcDEF123"}[/TOOL_RESULTS]'
        text = ("<s>[INST]Weather in Paris?[/INST]" + call + result + "21 degrees.</s>" +
                nemo_tools_block(TOOLS) + "[INST]And tomorrow?[/INST]")
        for choice, expected in (("auto", text), ("required", text + "[TOOL_CALLS]")):
            status, body, _ = self.server.post(CHAT, {"messages": history, "tools": TOOLS,
                                                      "tool_choice": choice, "max_tokens": 1})
            self.assertEqual(status, 200, body)
            self.assertEqual(body["usage"]["prompt_tokens"], self.prompt_tokens(expected), choice)
        # "none": the tools are not shown to the model.
        status, body, _ = self.server.post(CHAT, {"messages": history, "tools": TOOLS,
                                                  "tool_choice": "none", "max_tokens": 1})
        self.assertEqual(status, 200, body)
        plain = text.replace(nemo_tools_block(TOOLS), "")
        self.assertEqual(body["usage"]["prompt_tokens"], self.prompt_tokens(plain))
        # The template's own rule: Mistral call ids have 9 characters.
        bad = json.loads(json.dumps(history))
        bad[1]["tool_calls"][0]["id"] = "call_1"
        bad[2]["tool_call_id"] = "call_1"
        status, body, _ = self.server.post(CHAT, {"messages": bad, "tools": TOOLS})
        self.assertEqual(status, 400)
        self.assertIn("length 9", body["error"]["message"])

    def test_auto_on_a_random_model_is_plain_text(self):
        body = self.forced(seed=1, tool_choice="auto", max_tokens=8, temperature=0)
        choice = body["choices"][0]
        self.assertEqual(choice["finish_reason"], "length")
        self.assertNotIn("tool_calls", choice["message"])
        plain = self.server.post(CHAT, {"messages": user("Weather in Paris?"), "max_tokens": 8,
                                        "temperature": 0, "tools": TOOLS,
                                        "tool_choice": "none"})[1]
        self.assertIsInstance(choice["message"]["content"], str)
        self.assertGreater(body["usage"]["prompt_tokens"], plain["usage"]["prompt_tokens"])

    def test_tool_errors(self):
        s = self.server
        cases = [
            ({"tool_choice": "required"}, "tool_choice"),
            ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "x"}}},
             "tool_choice"),
            ({"tools": [{"type": "function", "function": {"name": "a b"}}]},
             "tools[0].function.name"),
            ({"tools": TOOLS, "tool_choice": "required",
              "response_format": {"type": "json_object"}}, "response_format"),
            ({"tools": [{"type": "function", "function": {
                "name": "f", "parameters": {"type": "object", "properties": {
                    "n": {"type": "integer", "minimum": 0}}}}}], "tool_choice": "any"},
             "tools"),
        ]
        for extra, param in cases:
            status, body, _ = s.post(CHAT, {"messages": user("x"), **extra})
            self.assertEqual(status, 400, body)
            self.assertEqual(body["error"]["param"], param, body)

    def test_vocabulary_tool_calls_token(self):
        # A model whose vocabulary has [TOOL_CALLS] as a control token, with
        # a built-in format that renders no tools: a forced call opens with
        # that one token.
        model = os.path.join(self.tmp.name, "tiny-tools.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", "--seed", "3",
            "--add-control-token", "[TOOL_CALLS]", model)
        marker = int(cli("tokenize", "-m", model, "--parse-special", "--no-add-special",
                         "--text", "[TOOL_CALLS]", "--ids").split()[0])
        self.assertEqual(marker, 32000)
        s = Server(model, "--parallel", "1", "--ctx", "2048")
        try:
            req = {"messages": user("Weather in Paris?"), "tools": TOOLS, "max_tokens": 300,
                   "tool_choice": "required", "parallel_tool_calls": False, "seed": 3}
            status, body, _ = s.post(CHAT, req)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["choices"][0]["finish_reason"], "tool_calls", body)
            self.check_calls(body["choices"][0]["message"]["tool_calls"])
            plain = s.post(CHAT, {**req, "tool_choice": "none"})[1]
            self.assertEqual(body["usage"]["prompt_tokens"], plain["usage"]["prompt_tokens"] + 1)
            events, done = s.stream(CHAT, {**req, "stream": True})
            self.assertTrue(done)
            self.assertEqual(events[-1]["choices"][0]["finish_reason"], "tool_calls")
            # "auto": the model writes the token itself (pushed here), but what
            # follows is no call, so it all comes back as text.
            status, body, _ = s.post(CHAT, {**req, "tool_choice": "auto", "max_tokens": 3,
                                            "logit_bias": {str(marker): 100}})
            self.assertEqual(status, 200, body)
            self.assertEqual(body["choices"][0]["message"]["content"], "[TOOL_CALLS]" * 3)
            self.assertEqual(body["choices"][0]["finish_reason"], "length")
        finally:
            self.assertEqual(s.stop(), 0)

    def test_llama31_template_calls(self):
        # Llama 3.1 writes one {"name", "parameters"} object as its reply.
        template = os.path.join(os.environ["AUTAN_TESTDATA"], "templates",
                                "meta-llama-Llama-3.1-8B-Instruct.jinja")
        s = Server(self.model, "--chat-template", template, "--parallel", "1", "--ctx", "2048")
        try:
            for seed in (1, 2):
                status, body, _ = s.post(CHAT, {"messages": user("Add 2 and 3"), "tools": TOOLS,
                                                "tool_choice": "required", "max_tokens": 300,
                                                "seed": seed})
                self.assertEqual(status, 200, body)
                self.assertEqual(body["choices"][0]["finish_reason"], "tool_calls", body)
                calls = body["choices"][0]["message"]["tool_calls"]
                self.assertEqual(len(calls), 1)
                self.check_calls(calls)
            # The call goes back through the template with its result.
            history = user("Add 2 and 3") + [
                {"role": "assistant", "tool_calls": calls},
                {"role": "tool", "tool_call_id": calls[0]["id"], "content": "5"}]
            status, body, _ = s.post(CHAT, {"messages": history, "tools": TOOLS,
                                            "max_tokens": 1})
            self.assertEqual(status, 200, body)
        finally:
            self.assertEqual(s.stop(), 0)

    def test_model_without_a_tool_format_refuses_forced_calls(self):
        # The built-in format of a model without a template renders no tools
        # and the Llama vocabulary has no [TOOL_CALLS] token.
        s = Server(self.model, "--parallel", "1")
        try:
            status, body, _ = s.post(CHAT, {"messages": user("x"), "tools": TOOLS,
                                            "tool_choice": "required"})
            self.assertEqual(status, 400)
            self.assertEqual(body["error"]["param"], "tool_choice")
            self.assertIn("[TOOL_CALLS]", body["error"]["message"])
            status, body, _ = s.post(CHAT, {"messages": user("x"), "tools": TOOLS,
                                            "max_tokens": 2})
            self.assertEqual(status, 200, body)
            self.assertEqual(body["choices"][0]["finish_reason"], "length")
        finally:
            self.assertEqual(s.stop(), 0)


class LimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "tiny.gguf")
        cli("synth", "--shape", "tiny", "--type", "q8_0", cls.model)
        cls.keys = os.path.join(cls.tmp.name, "keys.txt")
        with open(cls.keys, "w") as f:
            f.write("# operators\n" + cli("serve", "--hash-key", "sk-test-1"))
            f.write(hashlib.sha256(b"sk-test-2").hexdigest() + "  second key\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_hash_key_is_sha256(self):
        self.assertEqual(cli("serve", "--hash-key", "abc").strip(),
                         hashlib.sha256(b"abc").hexdigest())

    def test_api_keys(self):
        s = Server(self.model, "--api-keys", self.keys)
        try:
            self.assertEqual(s.request("GET", "/health")[0], 200)  # for load balancers
            status, body, r = s.request("GET", "/v1/models")
            self.assertEqual(status, 401)
            self.assertEqual(body["error"]["code"], "invalid_api_key")
            self.assertEqual(r.getheader("WWW-Authenticate"), "Bearer")
            bad = {"Authorization": "Bearer sk-wrong"}
            self.assertEqual(s.post(CHAT, {"messages": user("x")}, bad)[0], 401)
            for key in ("sk-test-1", "sk-test-2"):
                ok = {"Authorization": "Bearer " + key}
                self.assertEqual(s.request("GET", "/v1/models", headers=ok)[0], 200)
        finally:
            self.assertEqual(s.stop(), 0)

    def test_model_chat_template_renders_through_jinja(self):
        template = os.path.join(os.environ["AUTAN_TESTDATA"], "templates",
                                "mistralai-Mistral-Nemo-Instruct-2407.jinja")
        s = Server(self.model, "--chat-template", template)
        try:
            status, body, _ = s.post(CHAT, {"messages": user("a") + user("b"), "max_tokens": 1})
            self.assertEqual(status, 400)
            self.assertIn("roles must alternate", body["error"]["message"])
            self.assertEqual(body["error"]["param"], "messages")
            # The template folds the system message into the last user turn.
            status, body, _ = s.post(CHAT, {"messages": [{"role": "system", "content": "Be kind"},
                                                         {"role": "user", "content": "Hello"}],
                                            "max_tokens": 1})
            self.assertEqual(status, 200, body)
            expected = cli("tokenize", "-m", self.model, "--parse-special", "--no-add-special",
                           "--text", "<s>[INST]Be kind\n\nHello[/INST]", "--ids").split()
            self.assertEqual(body["usage"]["prompt_tokens"], len(expected))
        finally:
            self.assertEqual(s.stop(), 0)

    def test_non_loopback_needs_keys(self):
        p = subprocess.run([AUTAN, "serve", "-m", self.model, "--host", "0.0.0.0"],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--api-keys", p.stderr)

    def test_queue_full_is_429_with_retry_after(self):
        s = Server(self.model, "--parallel", "1", "--max-queue", "0", "--ctx", "4096")
        try:
            # Long enough to hold the only slot on any machine; cancelled below.
            long = {"prompt": "Once", "max_tokens": 4000, "temperature": 0, "stream": True}
            c = s.conn()
            c.request("POST", COMPLETIONS, body=json.dumps(long))
            first = c.getresponse()
            self.assertEqual(first.status, 200)
            first.readline()  # the stream has begun: the only slot is busy
            status, body, r = s.post(COMPLETIONS, {"prompt": "x", "max_tokens": 1})
            self.assertEqual(status, 429)
            self.assertEqual(body["error"]["type"], "rate_limit_error")
            self.assertGreater(int(r.getheader("Retry-After")), 0)
            c.close()
        finally:
            self.assertEqual(s.stop(), 0)

    def test_sigterm_finishes_requests_in_flight(self):
        s = Server(self.model, "--parallel", "2", "--ctx", "4096")
        # A request in flight for several seconds, however fast the machine:
        # the fastest of three measured rates (the first request warms the
        # server up; other processes may slow any one of them), for six
        # seconds' worth of tokens, so that a machine that speeds up once the
        # load passes still has the request in flight at the signal.
        rate = 0
        for _ in range(3):
            start = time.time()
            s.post(COMPLETIONS, {"prompt": "Once", "max_tokens": 64, "temperature": 0})
            rate = max(rate, 64 / max(time.time() - start, 1e-3))
        n = int(min(4000, max(400, 6 * rate)))
        c = s.conn()
        c.request("POST", COMPLETIONS, body=json.dumps(
            {"prompt": "Once", "max_tokens": n, "temperature": 0, "stream": True}))
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        r.readline()
        idle = s.conn()  # a keep-alive connection opened before the signal
        idle.request("GET", "/health")
        idle.getresponse().read()
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        idle.request("POST", COMPLETIONS, body=json.dumps({"prompt": "x", "max_tokens": 1}))
        late = idle.getresponse()
        self.assertEqual(late.status, 503)
        late.read()
        rest = r.read().decode()
        self.assertTrue(rest.endswith("data: [DONE]\n\n"), rest[-200:])
        self.assertIn('"finish_reason":"length"', rest)
        self.assertEqual(s.proc.wait(60), 0)
        c.close()
        idle.close()
        s.stop()
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", s.port), timeout=2)


if __name__ == "__main__":
    unittest.main()
