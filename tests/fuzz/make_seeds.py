#!/usr/bin/env python3
"""Writes the seed corpora of the text-input fuzz targets from real material:
the tokenizer test inputs and chat templates of ../shared/testdata, the
Jinja cases of tests/tokenizer/data, and requests written by hand after the
API documentation. Run once; the output under tests/fuzz/corpus is committed
(the GGUF seeds come from make_gguf_seeds.py).

  python3 tests/fuzz/make_seeds.py [TESTDATA]
"""
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEP = "\n----\n"


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    out = HERE / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    (out / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


def tokenizer_seeds(testdata):
    for target, vocab in (("tokenizer_spm", "llama-spm"), ("tokenizer_bpe", "gpt-2")):
        text = (testdata / "vocab" / f"ggml-vocab-{vocab}.gguf.inp").read_text()
        inputs = [t.strip("\n") for t in text.split("__ggml_vocab_test__")]
        for i, t in enumerate(inputs[:40]):
            write(target, bytes([i % 16]) + t.encode())
        write(target, b"\x03<s>[INST] Hello [/INST] world</s><|endoftext|>")


def jinja_seeds(testdata):
    cases = json.loads((HERE.parent / "tokenizer" / "data" / "jinja_cases.json").read_text())
    for case in cases:
        if "template" in case:
            write("jinja", case["template"] + SEP + json.dumps(case["context"]))
    contexts = [c["context"] for c in cases if "template_file" in c]
    for f in sorted((testdata / "templates").glob("*.jinja")):
        mine = [c for c in cases if c.get("template_file") == f.name][:3]
        for c in mine:
            write("jinja", f.read_text() + SEP + json.dumps(c["context"]))
        write("jinja", f.read_text())


SCHEMAS = [
    {"type": "object", "properties": {"name": {"type": "string", "minLength": 1},
                                      "age": {"type": "integer"}},
     "required": ["name"], "additionalProperties": False},
    {"type": "array", "items": {"enum": ["a", "b", 3, None, True]}, "minItems": 1, "maxItems": 3},
    {"anyOf": [{"type": "number"}, {"type": "string", "maxLength": 4}, {"const": {"k": [1]}}]},
    {"$defs": {"node": {"type": "object", "properties": {
        "value": {"type": "integer"}, "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}}},
     "$ref": "#/$defs/node"},
    {"type": ["object", "array", "boolean"], "additionalProperties": {"type": "number"}},
    {"type": "object", "properties": {"a": {"allOf": [{"type": "string"}]},
                                      "b": {"oneOf": [{"type": "boolean"}, {"type": "null"}]}}},
    True,
    {"pattern": "^a"},
]


def schema_seeds():
    outputs = ['{"name": "Ada", "age": 3', '["a", 3', '"ab', '{"value": 1, "next": {"value"',
               '', '{"a": "x", "b": true}', '{', '"\\u00e9']
    for s, o in zip(SCHEMAS, outputs):
        write("json_schema", json.dumps(s))
        write("json_schema", json.dumps(s) + SEP + o + SEP + "\x01\x07\x00\x03")


def api_seeds():
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}]
    chats = [
        {"model": "m", "messages": [{"role": "user", "content": "Hello"}]},
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                      {"role": "assistant", "content": "Hello", "prefix": True}],
         "temperature": 0.7, "top_p": 0.9, "max_tokens": 16, "stop": ["\n", "END"], "seed": 3,
         "n": 2, "logprobs": True, "top_logprobs": 2, "logit_bias": {"5": -100},
         "presence_penalty": 0.5, "frequency_penalty": 0.1, "stream": True,
         "stream_options": {"include_usage": True}},
        {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": tools,
         "tool_choice": "any", "parallel_tool_calls": False},
        {"messages": [{"role": "user", "content": "Weather?"},
                      {"role": "assistant", "content": None, "tool_calls": [
                          {"id": "abcDEF123", "type": "function",
                           "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
                      {"role": "tool", "tool_call_id": "abcDEF123", "content": "sunny"}],
         "tools": tools, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        {"messages": [{"role": "user", "content": "JSON please"}],
         "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": SCHEMAS[0],
                                                                     "strict": True}}},
        {"messages": [{"role": "user", "content": "JSON"}], "response_format": {"type": "json_object"},
         "safe_prompt": True, "random_seed": 1, "min_tokens": 2},
    ]
    for c in chats:
        write("api_request", "chat" + SEP + json.dumps(c))
        write("api_request", "chat-builtin" + SEP + json.dumps(c))
        write("api_request", "chat-tokens" + SEP + json.dumps(c))
    for c in [{"model": "m", "prompt": "Once upon", "max_tokens": 8, "echo": True, "logprobs": 2},
              {"prompt": [[1, 2, 3], [4]], "n": 2, "best_of": 2, "suffix": None},
              {"prompt": ["a", "b"], "stop": "x", "stream": True}]:
        write("api_request", "completions" + SEP + json.dumps(c))
    for c in [{"model": "m", "input": "hello"}, {"input": ["a", "b"], "encoding_format": "base64"},
              {"input": [[1, 2], [3]], "dimensions": 4}, {"input": [1, 2, 3]}]:
        write("api_request", "embeddings" + SEP + json.dumps(c))
    for c in [{"model": "codestral", "prompt": "def f(", "suffix": "    return x", "max_tokens": 8,
               "min_tokens": 1, "stop": ["\n\n"]}, {"prompt": "", "suffix": ""}]:
        write("api_request", "fim" + SEP + json.dumps(c))
    for c in [{"content": "Hi", "parameters": {"temperature": 0.3, "top_p": 0.5, "max_tokens": 9}},
              {"name": "a", "instructions": "b", "parameters": {"temperature": 3}}]:
        write("api_request", "app-params" + SEP + json.dumps(c))
    write("api_request", "app-import" + SEP + json.dumps(
        {"version": 1, "conversation": {"title": "Trip"},
         "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello!"}]}))


def http_seeds():
    for t in ["/v1/models/mistral%2F7b?x=1", "/api/conversations?q=caf%C3%A9+au+lait&q=2",
              "/assets/app-1a2b.js", "/index.html?", "/%2e%2e/%2e%2e/etc/passwd", "/v1/models/"]:
        write("http", "target" + SEP + t)
    for a, b in [("a=1; autan_session=\"tok\"; b=2", "autan_session"),
                 ("http://127.0.0.1:8080", "127.0.0.1:8080"), ("https://[::1]:8080", "[::1]:8080"),
                 ("/assets/app-1a2b.js", "\"a1\""), ("abc", "abc")]:
        write("http", "headers" + SEP + a + SEP + b)
    key_hash = hashlib.sha256(b"secret-key").hexdigest()
    write("http", "keys" + SEP + f"# keys\n{key_hash}  ci pipeline rpm=60 tpm=1000\n\n{'0' * 64}\n"
          + SEP + "Bearer secret-key")
    write("http", "keys" + SEP + key_hash.upper() + " tpm=x" + SEP + "bearer   secret-key")


def main():
    testdata = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "testdata"
    if not testdata.is_dir():
        testdata = HERE.parents[3] / "shared" / "testdata"
    tokenizer_seeds(testdata)
    jinja_seeds(testdata)
    schema_seeds()
    api_seeds()
    http_seeds()


if __name__ == "__main__":
    main()
