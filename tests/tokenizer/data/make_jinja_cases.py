#!/usr/bin/env python3
"""Writes jinja_cases.json: chat templates, contexts and the text Jinja2 renders.

The expected outputs come from Jinja2 itself, set up exactly as Hugging Face
transformers' apply_chat_template sets it up (ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, loop controls, the {% generation %} tag, and its own
tojson, raise_exception and strftime_now). The C++ tests only read the JSON, so
they need no Python; rerun this after changing the cases:

  python3 tests/tokenizer/data/make_jinja_cases.py

Sources: the model templates in ../shared/testdata/templates, and the ~30 real
templates of llama.cpp's tests/test-chat-template.cpp (read from a llama.cpp
git directory named by LLAMA_CPP_GIT), rendered on that test's conversation.
"""

import datetime
import json
import os
import random
import re
import subprocess
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "..", "..", "..", "shared", "testdata", "templates")
LLAMA_CPP_GIT = os.environ.get("LLAMA_CPP_GIT", "llama.cpp/.git")
# strftime_now's clock in every case (the C++ test renders with TZ=UTC).
NOW = datetime.datetime(2024, 7, 26, 13, 5, 9)


class AssistantTracker(Extension):
    """transformers' {% generation %} tag: renders its body unchanged."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(
            lineno
        )

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(
            x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
        )

    def strftime_now(format):
        return NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_env()


def render(template, context):
    """(output, None) or (None, error message)."""
    try:
        return ENV.from_string(template).render(**context), None
    except Exception as e:  # noqa: BLE001 - any Jinja2 failure is an expected error
        return None, f"{type(e).__name__}: {e}"


# ---- conversations -------------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City and country, e.g. Paris, France"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
        "return": {"type": "number", "description": "Temperature"},
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a timezone — «heure» in 日本語 too",
        "parameters": {
            "type": "object",
            "properties": {"tz": {"type": "string"}},
            "required": ["tz"],
        },
    },
}

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
USER1 = {"role": "user", "content": "Hello!"}
ASSISTANT1 = {"role": "assistant", "content": "Hi there, how can I help?"}
USER2 = {"role": "user", "content": "  What's the weather in Paris? Réponds en français 🌧  "}

TOOL_CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {
            "id": "call12345",
            "type": "function",
            "function": {
                "name": "get_current_weather",
                "arguments": {"location": "Paris, France", "unit": "celsius"},
            },
        }
    ],
}
TOOL_CALL_TWO = {
    "role": "assistant",
    "content": "Let me check both.",
    "tool_calls": [
        {
            "id": "call12345",
            "type": "function",
            "function": {"name": "get_current_weather", "arguments": {"location": "Paris"}},
        },
        {
            "id": "call67890",
            "type": "function",
            "function": {"name": "get_time", "arguments": {"tz": "Europe/Paris"}},
        },
    ],
}
TOOL_RESULT = {"role": "tool", "tool_call_id": "call12345", "name": "get_current_weather",
               "content": "22.5"}
TOOL_RESULT_TWO = {"role": "tool", "tool_call_id": "call67890", "name": "get_time",
                   "content": "{\"time\": \"14:05\"}"}
ASSISTANT_FINAL = {"role": "assistant", "content": "Il fait 22,5 °C à Paris."}


def ctx(messages, agp=True, tools=None, **extra):
    """The variables transformers passes: tools and documents are always set."""
    c = {"messages": messages, "tools": tools, "documents": None, "add_generation_prompt": agp}
    c.update(extra)
    return c


LLAMA_TOKENS = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
GEMMA_TOKENS = {"bos_token": "<bos>", "eos_token": "<eos>"}
PHI_TOKENS = {"bos_token": "<s>", "eos_token": "<|endoftext|>"}
QWEN_TOKENS = {"bos_token": None, "eos_token": "<|im_end|>"}
MISTRAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}

MODEL_CASES = {
    "meta-llama-Llama-3.1-8B-Instruct.jinja": [
        ("user only", ctx([USER1], **LLAMA_TOKENS)),
        ("system multi-turn", ctx([SYSTEM, USER1, ASSISTANT1, USER2], **LLAMA_TOKENS)),
        ("no generation prompt", ctx([SYSTEM, USER1, ASSISTANT1], False, **LLAMA_TOKENS)),
        ("custom date", ctx([USER1], date_string="01 Jan 2025", **LLAMA_TOKENS)),
        ("tools in user message", ctx([SYSTEM, USER2, TOOL_CALL, TOOL_RESULT, ASSISTANT_FINAL],
                                      tools=[WEATHER_TOOL, TIME_TOOL], **LLAMA_TOKENS)),
        ("tools in system message", ctx([USER2, TOOL_CALL, TOOL_RESULT], tools=[WEATHER_TOOL],
                                        tools_in_user_message=False, **LLAMA_TOKENS)),
        ("tool result as object", ctx([USER2, TOOL_CALL,
                                       {"role": "tool", "content": {"temp": 22.5, "ok": True}}],
                                      tools=[WEATHER_TOOL], **LLAMA_TOKENS)),
        ("builtin tools", ctx([SYSTEM, USER1, {
            "role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {
                "name": "brave_search", "arguments": {"query": "weather Paris"}}}]},
            {"role": "ipython", "content": "sunny"}],
            builtin_tools=["brave_search", "wolfram_alpha", "code_interpreter"], **LLAMA_TOKENS)),
        ("custom tools", ctx([USER1], custom_tools=[WEATHER_TOOL], **LLAMA_TOKENS)),
        ("error: two tool calls", ctx([USER2, TOOL_CALL_TWO], tools=[WEATHER_TOOL],
                                      **LLAMA_TOKENS)),
        ("error: tools without user message", ctx([SYSTEM], tools=[WEATHER_TOOL], **LLAMA_TOKENS)),
    ],
    "google-gemma-2-2b-it.jinja": [
        ("user only", ctx([USER1], **GEMMA_TOKENS)),
        ("multi-turn", ctx([USER1, ASSISTANT1, USER2], **GEMMA_TOKENS)),
        ("no generation prompt", ctx([USER1, ASSISTANT1], False, **GEMMA_TOKENS)),
        ("error: system", ctx([SYSTEM, USER1], **GEMMA_TOKENS)),
        ("error: not alternating", ctx([USER1, USER2], **GEMMA_TOKENS)),
    ],
    "microsoft-Phi-3.5-mini-instruct.jinja": [
        ("user only", ctx([USER1], **PHI_TOKENS)),
        ("system multi-turn", ctx([SYSTEM, USER1, ASSISTANT1, USER2], **PHI_TOKENS)),
        ("no generation prompt", ctx([SYSTEM, USER1, ASSISTANT1], False, **PHI_TOKENS)),
        ("empty system", ctx([{"role": "system", "content": ""}, USER1], **PHI_TOKENS)),
    ],
    "Qwen-Qwen2.5-7B-Instruct.jinja": [
        ("user only", ctx([USER1], **QWEN_TOKENS)),
        ("system multi-turn", ctx([SYSTEM, USER1, ASSISTANT1, USER2], **QWEN_TOKENS)),
        ("no generation prompt", ctx([USER1, ASSISTANT1], False, **QWEN_TOKENS)),
        ("tools", ctx([USER2], tools=[WEATHER_TOOL, TIME_TOOL], **QWEN_TOKENS)),
        ("tools with system", ctx([SYSTEM, USER2], tools=[WEATHER_TOOL], **QWEN_TOKENS)),
        ("tool calls and results", ctx([SYSTEM, USER2, TOOL_CALL_TWO, TOOL_RESULT, TOOL_RESULT_TWO,
                                        ASSISTANT_FINAL, USER1], tools=[WEATHER_TOOL, TIME_TOOL],
                                       **QWEN_TOKENS)),
        ("tool call with string arguments", ctx([USER2, {
            "role": "assistant", "content": "", "tool_calls": [{"name": "get_time",
                                                                 "arguments": "{\"tz\": \"UTC\"}"}]},
            {"role": "tool", "content": "12:00"}], **QWEN_TOKENS)),
        ("system after first message", ctx([USER1, SYSTEM, USER2], **QWEN_TOKENS)),
    ],
    "mistralai-Mistral-Nemo-Instruct-2407.jinja": [
        ("user only", ctx([USER1], **MISTRAL_TOKENS)),
        ("system multi-turn", ctx([SYSTEM, USER1, ASSISTANT1, USER2], **MISTRAL_TOKENS)),
        ("no generation prompt", ctx([USER1, ASSISTANT1], False, **MISTRAL_TOKENS)),
        ("tools", ctx([SYSTEM, USER1, ASSISTANT1, USER2], tools=[WEATHER_TOOL, TIME_TOOL],
                      **MISTRAL_TOKENS)),
        ("tool calls and results", ctx([USER2, TOOL_CALL_TWO, TOOL_RESULT, TOOL_RESULT_TWO,
                                        ASSISTANT_FINAL], tools=[WEATHER_TOOL, TIME_TOOL],
                                       **MISTRAL_TOKENS)),
        ("tool result object", ctx([USER2, TOOL_CALL, {
            "role": "tool", "tool_call_id": "call12345", "content": {"content": 22.5}}],
            **MISTRAL_TOKENS)),
        ("error: bad tool call id", ctx([USER2, {
            "role": "assistant", "tool_calls": [{"id": "abc", "function": {
                "name": "get_time", "arguments": {}}}]}], **MISTRAL_TOKENS)),
        ("error: not alternating", ctx([USER1, USER2], **MISTRAL_TOKENS)),
        ("error: unknown role", ctx([USER1, ASSISTANT1, {"role": "critic", "content": "x"}],
                                    **MISTRAL_TOKENS)),
    ],
}

LLAMA_CPP_CONVERSATION = [
    {"role": "system", "content": "You are a helpful assistant"},
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there"},
    {"role": "user", "content": "Who are you"},
    {"role": "assistant", "content": "   I am an assistant   "},
    {"role": "user", "content": "Another question"},
]


def llama_cpp_templates():
    """[(name, template, bos, eos)] from llama.cpp's tests/test-chat-template.cpp."""
    src = subprocess.run(
        ["git", "--git-dir", LLAMA_CPP_GIT, "show", "HEAD:tests/test-chat-template.cpp"],
        check=True, capture_output=True, text=True).stdout
    body = src[src.index("std::vector<TestCase> test_cases {"):src.index("std::vector<char> formatted_chat")]
    lit = re.compile(r'(?:u8)?"((?:[^"\\\n]|\\.)*)"')
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}

    def decode(s):
        return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], s)

    out = []
    for block in re.finditer(r"\{\s*/\* \.name= \*/(.*?)\n        \},", body, re.S):
        fields = {}
        for m in re.finditer(r'/\* \.(\w+)= \*/\s*((?:(?:u8)?"(?:[^"\\\n]|\\.)*"\s*)+|false|true)',
                             "/* .name= */" + block.group(1)):
            if m.group(2) not in ("true", "false"):
                fields[m.group(1)] = "".join(decode(x) for x in lit.findall(m.group(2)))
        out.append((fields["name"], fields["template_str"], fields.get("bos_token", ""),
                    fields.get("eos_token", "")))
    return out


def llama_cpp_model_templates():
    """[(file, template)]: the real templates llama.cpp keeps in models/templates."""
    git = ["git", "--git-dir", LLAMA_CPP_GIT]
    files = subprocess.run(git + ["ls-tree", "--name-only", "HEAD", "models/templates/"],
                           check=True, capture_output=True, text=True).stdout.split()
    out = []
    for path in files:
        if not path.endswith(".jinja"):
            continue
        text = subprocess.run(git + ["show", f"HEAD:{path}"], check=True, capture_output=True,
                              text=True).stdout
        out.append((os.path.basename(path), text))
    return out


# Conversations every llama.cpp model template is rendered on.
MODEL_TEMPLATE_CONTEXTS = [
    ("plain", ctx([SYSTEM, USER1, ASSISTANT1, USER2], **LLAMA_TOKENS)),
    ("no system, no generation prompt", ctx([USER1, ASSISTANT1], False, **LLAMA_TOKENS)),
    ("tools", ctx([SYSTEM, USER2], tools=[WEATHER_TOOL, TIME_TOOL], **LLAMA_TOKENS)),
    ("tool call and result", ctx([USER2, TOOL_CALL, TOOL_RESULT, ASSISTANT_FINAL],
                                 tools=[WEATHER_TOOL], **LLAMA_TOKENS)),
]


def whitespace_templates(count, seed=20240726):
    """Random mixes of text and tags with every whitespace-control marker.

    lstrip_blocks and trim_blocks interact with `-`, `+`, comments, raw
    blocks and line starts in ways that are easiest to pin down by sampling.
    """
    rng = random.Random(seed)
    texts = ["", " ", "  ", "\n", "\t", "x", " x ", "\n  ", "  \n", "a\n\n", " \n \n ", "\u3000"]

    def mark():
        return rng.choice(["", "", "-", "+"])

    def block(words):
        left, right = mark(), mark()
        if words == "raw":  # Jinja2 has no `+%}` on {% raw %}
            right = right.replace("+", "")
        return "{%" + left + " " + words + " " + right + "%}"

    def var():
        return "{{" + rng.choice(["", "-"]) + " 'v' " + rng.choice(["", "-"]) + "}}"

    def comment():
        return "{#" + rng.choice(["", "-", "+"]) + " c " + rng.choice(["", "-", "+"]) + "#}"

    def body(depth):
        parts = []
        for _ in range(rng.randint(1, 4)):
            parts.append(rng.choice(texts))
            kind = rng.randint(0, 6 if depth < 2 else 3)
            if kind == 0:
                parts.append(var())
            elif kind == 1:
                parts.append(comment())
            elif kind == 2:
                parts.append(block("set a = 1"))
            elif kind == 3:
                parts.append(block("raw") + rng.choice(texts) + "r" + rng.choice(texts) +
                             block("endraw"))
            elif kind in (4, 5):
                parts.append(block("if true") + body(depth + 1) + block("else") +
                             body(depth + 1) + block("endif"))
            else:
                parts.append(block("for i in [1, 2]") + body(depth + 1) +
                             block("endfor"))
        parts.append(rng.choice(texts))
        return "".join(parts)

    return [body(0) for _ in range(count)]


def case(name, context, template=None, template_file=None):
    if template_file is not None:
        with open(os.path.join(TEMPLATES, template_file), encoding="utf-8", newline="") as f:
            source = f.read()
    else:
        source = template
    out, err = render(source, context)
    c = {"name": name}
    if template_file is not None:
        c["template_file"] = template_file
    else:
        c["template"] = template
    c["context"] = context
    if err is None:
        c["expected"] = out
    else:
        c["error"] = err
    return c


def main():
    from jinja_feature_cases import FEATURE_CASES  # noqa: E402 - sits beside this script

    cases = []
    for file, items in MODEL_CASES.items():
        for name, context in items:
            cases.append(case(f"{file}: {name}", context, template_file=file))
    for name, template, bos, eos in llama_cpp_templates():
        context = ctx(LLAMA_CPP_CONVERSATION, True, bos_token=bos, eos_token=eos)
        if "GigaChat" in name:  # needs the tokenizer's extra special tokens
            context["additional_special_tokens"] = ["<|role_sep|>", "<|message_sep|>", "[", "]"]
        cases.append(case(f"llama.cpp: {name}", context, template=template))
        context = dict(context, messages=LLAMA_CPP_CONVERSATION[1:], add_generation_prompt=False)
        cases.append(case(f"llama.cpp: {name} (no system, no generation prompt)", context,
                          template=template))
    for file, template in llama_cpp_model_templates():
        for name, context in MODEL_TEMPLATE_CONTEXTS:
            cases.append(case(f"llama.cpp models/templates/{file}: {name}", context,
                              template=template))
    for i, template in enumerate(whitespace_templates(150)):
        cases.append(case(f"whitespace control #{i}", {}, template=template))
    for name, template, context in FEATURE_CASES:
        cases.append(case(f"feature: {name}", context, template=template))
    path = os.path.join(HERE, "jinja_cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum("error" in c for c in cases)
    print(f"wrote {len(cases)} cases ({errors} expected errors) to {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # keep the data folder free of __pycache__
    sys.path.insert(0, HERE)
    main()
