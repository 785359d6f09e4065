// autan serve against the official OpenAI and Mistral SDKs (node:test).
// Needs AUTAN_BIN; starts its own servers on free loopback ports.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import OpenAI from "openai";
import { Mistral } from "@mistralai/mistralai";
import { startServer as startAutan, stopServer } from "../serve_util.mjs";

const AUTAN = process.env.AUTAN_BIN;
assert.ok(AUTAN, "AUTAN_BIN must name the autan binary");
const KEY = "sk-autan-e2e";
const MODEL = "tiny";

const startServer = (model, args) => startAutan(AUTAN, model, tmp, args);

const tmp = mkdtempSync(join(tmpdir(), "autan-clients-"));
const modelPath = join(tmp, `${MODEL}.gguf`);
const keysPath = join(tmp, "keys.txt");
let server, openai;

before(async () => {
  const synth = spawnSync(AUTAN, ["synth", "--shape", "tiny", "--type", "q8_0", "--seed", "9",
                                  modelPath]);
  assert.equal(synth.status, 0, synth.stderr?.toString());
  writeFileSync(keysPath, createHash("sha256").update(KEY).digest("hex") + "\n");
  server = await startServer(modelPath, ["--api-keys", keysPath, "--parallel", "8",
                                         "--max-body", "32768"]);
  openai = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: KEY,
                        maxRetries: 0 });
});

after(async () => {
  if (server) assert.equal(await stopServer(server), 0);
  rmSync(tmp, { recursive: true, force: true });
});

const user = (content) => [{ role: "user", content }];

async function streamText(params) {
  const stream = await openai.chat.completions.create({ ...params, stream: true });
  let text = "", finish = null, usage = null, first = true;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    if (!chunk.choices.length) continue;
    const c = chunk.choices[0];
    if (first) assert.equal(c.delta.role, "assistant");
    first = false;
    text += c.delta.content ?? "";
    if (c.finish_reason) finish = c.finish_reason;
  }
  return { text, finish, usage };
}

describe("openai client", () => {
  test("lists the model", async () => {
    const models = await openai.models.list();
    assert.deepEqual(models.data.map((m) => m.id), [MODEL]);
    assert.equal((await openai.models.retrieve(MODEL)).id, MODEL);
  });

  test("chat, streamed and not, agree", async () => {
    const params = { model: MODEL, messages: user("Hello"), max_tokens: 12, temperature: 0 };
    const whole = await openai.chat.completions.create(params);
    assert.equal(whole.object, "chat.completion");
    assert.equal(whole.choices[0].message.role, "assistant");
    assert.equal(whole.choices[0].finish_reason, "length");
    assert.equal(whole.usage.completion_tokens, 12);
    const streamed = await streamText({ ...params, stream_options: { include_usage: true } });
    assert.equal(streamed.text, whole.choices[0].message.content);
    assert.equal(streamed.finish, "length");
    const tokens = (u) => [u.prompt_tokens, u.completion_tokens, u.total_tokens];
    assert.deepEqual(tokens(streamed.usage), tokens(whole.usage));
    // autan's extension fields pass through the SDK untouched, streamed or not.
    for (const u of [whole.usage, streamed.usage]) {
      // >= 0: a short request may read no change of a real RAPL counter.
      assert.ok(u.energy_joules >= 0, JSON.stringify(u));
      assert.ok(["rapl", "estimate"].includes(u.energy_source));
      assert.equal(typeof u.co2e_grams, "number");
      assert.equal(typeof u.cost, "number");
    }
  });

  test("completions and max_tokens", async () => {
    const r = await openai.completions.create({ model: MODEL, prompt: "Once upon a time",
                                                max_tokens: 5, temperature: 0 });
    assert.equal(r.object, "text_completion");
    assert.equal(r.usage.completion_tokens, 5);
    assert.equal(r.choices[0].finish_reason, "length");
    assert.ok(r.choices[0].text.length > 0);
  });

  test("stop sequences", async () => {
    const params = { model: MODEL, prompt: "The weather", max_tokens: 24, temperature: 0 };
    const text = (await openai.completions.create(params)).choices[0].text;
    const stop = text.slice(4, 10);
    const cut = text.slice(0, text.indexOf(stop));
    const r = await openai.completions.create({ ...params, stop: [stop] });
    assert.equal(r.choices[0].text, cut);
    assert.equal(r.choices[0].finish_reason, "stop");
    const streamed = await openai.completions.create({ ...params, stop, stream: true });
    let s = "";
    for await (const chunk of streamed) s += chunk.choices[0]?.text ?? "";
    assert.equal(s, cut);
  });

  test("seed determinism", async () => {
    const params = { model: MODEL, messages: user("A story"), max_tokens: 16, temperature: 1 };
    const a = await openai.chat.completions.create({ ...params, seed: 4 });
    const b = await openai.chat.completions.create({ ...params, seed: 4 });
    const c = await openai.chat.completions.create({ ...params, seed: 5 });
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.notEqual(a.choices[0].message.content, c.choices[0].message.content);
  });

  test("json_schema output parses and fits the schema", async () => {
    const schema = { type: "object", additionalProperties: false, required: ["city", "rank"],
                     properties: { city: { type: "string", maxLength: 10 },
                                   rank: { type: "integer" } } };
    const r = await openai.chat.completions.create({
      model: MODEL, messages: user("A city"), max_tokens: 200, seed: 1,
      response_format: { type: "json_schema",
                         json_schema: { name: "city", schema, strict: true } },
    });
    assert.equal(r.choices[0].finish_reason, "stop");
    const value = JSON.parse(r.choices[0].message.content);
    assert.deepEqual(Object.keys(value).sort(), ["city", "rank"]);
    assert.equal(typeof value.city, "string");
    assert.ok(value.city.length <= 10);
    assert.ok(Number.isInteger(value.rank));
  });

  test("16 concurrent greedy streams equal each request alone", async () => {
    const prompts = ["Once upon a time", "The capital", "def f():", "Hello", "In 1492",
                     "Roses are red", "The quick brown fox", "Dear sir", "Le petit prince",
                     "SELECT * FROM", "To be or not", "It was a dark night", "import numpy",
                     "My favourite food", "Chapter one", "Bonjour à tous"];
    const run = (p) => streamText({ model: MODEL, messages: user(p), max_tokens: 16,
                                    temperature: 0 }).then((r) => r.text);
    const alone = [];
    for (const p of prompts) alone.push(await run(p));
    const together = await Promise.all(prompts.map(run));
    assert.deepEqual(together, alone);
  });

  test("errors: 400, 401, 404, 413", async () => {
    const bad = await openai.chat.completions
      .create({ model: MODEL, messages: user("x"), temperature: "hot" }).catch((e) => e);
    assert.ok(bad instanceof OpenAI.BadRequestError);
    assert.equal(bad.status, 400);
    assert.equal(bad.param, "temperature");

    const stranger = new OpenAI({ baseURL: openai.baseURL, apiKey: "sk-wrong", maxRetries: 0 });
    const denied = await stranger.models.list().catch((e) => e);
    assert.ok(denied instanceof OpenAI.AuthenticationError);
    assert.equal(denied.status, 401);

    const missing = await openai.chat.completions
      .create({ model: "gpt-4o", messages: user("x") }).catch((e) => e);
    assert.ok(missing instanceof OpenAI.NotFoundError);
    assert.equal(missing.code, "model_not_found");

    const big = await openai.chat.completions
      .create({ model: MODEL, messages: user("x".repeat(40000)) }).catch((e) => e);
    assert.ok(big instanceof OpenAI.APIError);
    assert.equal(big.status, 413);
  });
});

describe("openai client against a full queue", () => {
  test("429 with Retry-After", async () => {
    const busy = await startServer(modelPath, ["--parallel", "1", "--max-queue", "0",
                                               "--ctx", "4096"]);
    try {
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${busy.port}/v1`, apiKey: "none",
                                  maxRetries: 0 });
      const long = await client.completions.create({ model: MODEL, prompt: "Once",
                                                     max_tokens: 4000, stream: true });
      const it = long[Symbol.asyncIterator]();
      await it.next();  // generating: the only slot is taken
      const refused = await client.completions
        .create({ model: MODEL, prompt: "x", max_tokens: 1 }).catch((e) => e);
      assert.ok(refused instanceof OpenAI.RateLimitError);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers["retry-after"]) > 0);
      long.controller.abort();
    } finally {
      assert.equal(await stopServer(busy), 0);
    }
  });
});

describe("openai client over a rate limit", () => {
  test("RateLimitError with Retry-After and x-ratelimit headers", async () => {
    const limited = await startServer(modelPath, ["--rate-limit-rpm", "2"]);
    try {
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${limited.port}/v1`,
                                  apiKey: "none", maxRetries: 0 });
      const { response } = await client.completions
        .create({ model: MODEL, prompt: "x", max_tokens: 1 }).withResponse();
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), "2");
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "1");
      await client.models.list();
      const refused = await client.completions
        .create({ model: MODEL, prompt: "x", max_tokens: 1 }).catch((e) => e);
      assert.ok(refused instanceof OpenAI.RateLimitError);
      assert.equal(refused.code, "rate_limit_exceeded");
      const wait = Number(refused.headers["retry-after"]);
      assert.ok(wait >= 1 && wait <= 30, `Retry-After ${wait}`);  // one request per 30 s
      assert.equal(refused.headers["x-ratelimit-remaining-requests"], "0");
    } finally {
      assert.equal(await stopServer(limited), 0);
    }
  });
});

describe("mistral client", () => {
  const mistral = () => new Mistral({ apiKey: KEY, serverURL: `http://127.0.0.1:${server.port}` });

  test("chat.complete with Mistral's fields", async () => {
    const m = mistral();
    const a = await m.chat.complete({ model: MODEL, messages: user("Bonjour"), maxTokens: 8,
                                      temperature: 0.7, randomSeed: 3 });
    const b = await m.chat.complete({ model: MODEL, messages: user("Bonjour"), maxTokens: 8,
                                      temperature: 0.7, randomSeed: 3 });
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.equal(a.usage.completionTokens, 8);
    assert.equal(a.choices[0].finishReason, "length");
    const safe = await m.chat.complete({ model: MODEL, messages: user("Bonjour"), maxTokens: 1,
                                         safePrompt: true });
    assert.ok(safe.usage.promptTokens > a.usage.promptTokens + 20);
    const prefixed = await m.chat.complete({
      model: MODEL, maxTokens: 4, temperature: 0,
      messages: [...user("Write"), { role: "assistant", content: "Roses", prefix: true }],
    });
    assert.equal(typeof prefixed.choices[0].message.content, "string");
  });

  test("chat.stream agrees with chat.complete", async () => {
    const m = mistral();
    const params = { model: MODEL, messages: user("Salut"), maxTokens: 10, temperature: 0 };
    const whole = await m.chat.complete(params);
    let text = "";
    for await (const event of await m.chat.stream(params)) {
      text += event.data.choices[0]?.delta?.content ?? "";
    }
    assert.equal(text, whole.choices[0].message.content);
  });
});

// Tool calls, forced on a random model through Mistral Nemo's template: the
// arguments must fit the declared parameters (checked here field by field).
describe("tool calls", () => {
  const weather = {
    type: "object", additionalProperties: false, required: ["city", "days"],
    properties: { city: { type: "string", maxLength: 12 },
                  unit: { enum: ["celsius", "fahrenheit"] },
                  days: { type: "integer" } },
  };
  const tools = [{ type: "function",
                   function: { name: "get_weather", description: "Forecast",
                               parameters: weather } }];
  let toolServer;
  const template = join(process.env.AUTAN_TESTDATA ?? "", "templates",
                        "mistralai-Mistral-Nemo-Instruct-2407.jinja");

  before(async () => {
    toolServer = await startServer(modelPath, ["--chat-template", template, "--parallel", "2",
                                               "--ctx", "2048"]);
  });
  after(async () => {
    if (toolServer) assert.equal(await stopServer(toolServer), 0);
  });

  // `args` (a JSON string) against the weather schema above.
  function checkWeather(args) {
    const value = JSON.parse(args);
    assert.equal(typeof value, "object");
    for (const key of Object.keys(value)) assert.ok(key in weather.properties, key);
    for (const key of weather.required) assert.ok(key in value, key);
    assert.equal(typeof value.city, "string");
    assert.ok([...value.city].length <= 12);
    assert.ok(Number.isInteger(value.days));
    if ("unit" in value) assert.ok(weather.properties.unit.enum.includes(value.unit));
  }

  function checkCalls(calls) {
    assert.ok(calls.length >= 1);
    for (const call of calls) {
      assert.match(call.id, /^[A-Za-z0-9]{9}$/);
      assert.equal(call.type, "function");
      assert.equal(call.function.name, "get_weather");
      checkWeather(call.function.arguments);
    }
  }

  test("openai: tool_choice required, whole and streamed", async () => {
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${toolServer.port}/v1`,
                                apiKey: "none", maxRetries: 0 });
    const params = { model: MODEL, messages: user("Weather in Paris?"), tools,
                     tool_choice: "required", parallel_tool_calls: false, max_tokens: 300,
                     seed: 2 };
    const whole = await client.chat.completions.create(params);
    const choice = whole.choices[0];
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null);
    checkCalls(choice.message.tool_calls);

    // The SDK's own accumulation of the streamed deltas.
    const stream = client.beta.chat.completions.stream({ ...params, stream: true });
    const argumentDeltas = [];
    stream.on("tool_calls.function.arguments.delta", (e) => argumentDeltas.push(e.arguments_delta));
    const streamed = await stream.finalChatCompletion();
    assert.equal(streamed.choices[0].finish_reason, "tool_calls");
    checkCalls(streamed.choices[0].message.tool_calls);
    assert.deepEqual(streamed.choices[0].message.tool_calls.map((c) => c.function),
                     choice.message.tool_calls.map((c) => c.function));
    assert.ok(argumentDeltas.length > 1, "the arguments came in pieces");
  });

  test("mistral: chat.complete with toolChoice any", async () => {
    const m = new Mistral({ apiKey: "none", serverURL: `http://127.0.0.1:${toolServer.port}` });
    const r = await m.chat.complete({ model: MODEL, messages: user("Weather in Paris?"), tools,
                                      toolChoice: "any", parallelToolCalls: false,
                                      maxTokens: 300, randomSeed: 4 });
    assert.equal(r.choices[0].finishReason, "tool_calls");
    const calls = r.choices[0].message.toolCalls;
    assert.ok(calls.length >= 1);
    for (const call of calls) {
      assert.match(call.id, /^[A-Za-z0-9]{9}$/);
      assert.equal(call.function.name, "get_weather");
      checkWeather(call.function.arguments);
    }
    // Streamed: the deltas put together give the same calls.
    const streamed = new Map();
    let finish;
    for await (const event of await m.chat.stream({ model: MODEL, messages: user("Weather in Paris?"),
                                                    tools, toolChoice: "any",
                                                    parallelToolCalls: false, maxTokens: 300,
                                                    randomSeed: 4 })) {
      const choice = event.data.choices[0];
      finish = choice.finishReason ?? finish;
      for (const d of choice.delta.toolCalls ?? []) {
        const call = streamed.get(d.index) ?? { id: d.id, name: "", arguments: "" };
        call.name += d.function.name;
        call.arguments += d.function.arguments;
        streamed.set(d.index, call);
      }
    }
    assert.equal(finish, "tool_calls");
    assert.deepEqual([...streamed.values()].map((c) => [c.name, JSON.parse(c.arguments)]),
                     calls.map((c) => [c.function.name, typeof c.function.arguments === "string"
                       ? JSON.parse(c.function.arguments) : c.function.arguments]));
    // The calls go back into the conversation with their result.
    const next = await m.chat.complete({
      model: MODEL, maxTokens: 2, tools,
      messages: [...user("Weather in Paris?"), { role: "assistant", content: "", toolCalls: calls },
                 { role: "tool", toolCallId: calls[0].id, name: "get_weather",
                   content: '{"temp": 21}' }],
    });
    assert.equal(next.usage.completionTokens, 2);
  });
});

describe("embeddings", () => {
  const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

  test("openai embeddings.create: base64 (the SDK's default) and float agree", async () => {
    const input = ["Hello", "The quick brown fox"];
    const packed = await openai.embeddings.create({ model: MODEL, input });
    const floats = await openai.embeddings.create({ model: MODEL, input,
                                                    encoding_format: "float" });
    assert.equal(packed.object, "list");
    assert.equal(packed.model, MODEL);
    assert.deepEqual(packed.data.map((d) => d.index), [0, 1]);
    for (let i = 0; i < input.length; ++i) {
      assert.equal(packed.data[i].embedding.length, 256);  // the tiny shape's width
      assert.deepEqual(packed.data[i].embedding, floats.data[i].embedding);
      assert.ok(Math.abs(norm(floats.data[i].embedding) - 1) < 1e-5);
    }
    assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);
    assert.ok(packed.usage.prompt_tokens >= 3);
    assert.equal(packed.usage.total_tokens, packed.usage.prompt_tokens);
    const single = await openai.embeddings.create({ model: MODEL, input: input[1],
                                                    encoding_format: "float" });
    assert.deepEqual(single.data[0].embedding, floats.data[1].embedding);
  });

  test("openai embeddings.create: a wrong dimensions is a 400 naming it", async () => {
    const bad = await openai.embeddings
      .create({ model: MODEL, input: "x", dimensions: 64 }).catch((e) => e);
    assert.ok(bad instanceof OpenAI.BadRequestError);
    assert.equal(bad.param, "dimensions");
  });

  test("mistral embeddings.create gives the same vectors", async () => {
    const m = new Mistral({ apiKey: KEY, serverURL: `http://127.0.0.1:${server.port}` });
    const inputs = ["Bonjour", "le monde"];
    const r = await m.embeddings.create({ model: MODEL, inputs });
    const o = await openai.embeddings.create({ model: MODEL, input: inputs,
                                               encoding_format: "float" });
    assert.equal(r.model, MODEL);
    assert.ok(r.id.length > 0);
    assert.deepEqual(r.data.map((d) => d.embedding), o.data.map((d) => d.embedding));
    assert.equal(r.usage.promptTokens, o.usage.prompt_tokens);
  });
});

describe("mistral fim", () => {
  let fimServer, fim;
  before(async () => {
    const vocab = join(tmp, "fim-vocab.gguf");
    const fimModel = join(tmp, "codestral-tiny.gguf");
    const made = spawnSync("/usr/bin/python3", [
      new URL("../fim_vocab.py", import.meta.url).pathname,
      join(process.env.AUTAN_TESTDATA, "vocab", "ggml-vocab-llama-spm.gguf"), vocab]);
    assert.equal(made.status, 0, made.stderr?.toString());
    const synth = spawnSync(AUTAN, ["synth", "--shape", "tiny", "--type", "q8_0", "--seed", "2",
                                    "--vocab", vocab, fimModel]);
    assert.equal(synth.status, 0, synth.stderr?.toString());
    fimServer = await startServer(fimModel, ["--parallel", "2"]);
    fim = new Mistral({ apiKey: "none", serverURL: `http://127.0.0.1:${fimServer.port}` });
  });
  after(async () => {
    if (fimServer) assert.equal(await stopServer(fimServer), 0);
  });

  test("fim.complete and fim.stream agree", async () => {
    const params = { model: "codestral-tiny", prompt: "def add(a, b):\n", suffix: "\n",
                     maxTokens: 12, temperature: 0 };
    const whole = await fim.fim.complete(params);
    assert.equal(whole.model, "codestral-tiny");
    assert.equal(whole.choices[0].message.role, "assistant");
    assert.equal(whole.choices[0].finishReason, "length");
    assert.equal(whole.usage.completionTokens, 12);
    let text = "", finish = null;
    for await (const event of await fim.fim.stream(params)) {
      text += event.data.choices[0]?.delta?.content ?? "";
      finish = event.data.choices[0]?.finishReason ?? finish;
    }
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(finish, "length");
    const seeded = { ...params, temperature: 0.8, randomSeed: 5 };
    const a = await fim.fim.complete(seeded);
    const b = await fim.fim.complete(seeded);
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  });

  test("a model without FIM tokens answers 400", async () => {
    const m = new Mistral({ apiKey: KEY, serverURL: `http://127.0.0.1:${server.port}` });
    const err = await m.fim.complete({ model: MODEL, prompt: "a", suffix: "b" }).catch((e) => e);
    assert.equal(err.statusCode, 400);
    assert.match(err.body, /\[SUFFIX\]/);
  });
});
