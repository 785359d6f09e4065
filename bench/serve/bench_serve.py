#!/usr/bin/env python3
"""Serving throughput and latency of `autan serve` and llama-server on the same file.

    bench/serve/bench_serve.py -m MODEL.gguf --autan build/release/autan \
        [--llama-server /path/to/llama-server] [--streams 1,4,8,16] [--tokens 64] \
        [--threads 2] [--prefix-tokens 1000] [--idle 1000] [--json OUT]

For each server in turn (same threads, same number of parallel slots, same
context per slot), N clients each stream one /v1/completions request at the
same time (greedy, max_tokens = --tokens, different prompts); the table gives
the aggregate generated tokens/s over the wall time of the round and the
time-to-first-token p50/p99 over all requests. Then:
  - prefix: a request with a --prefix-tokens prompt, then another sharing that
    prefix with a different last sentence; TTFT of each and their ratio;
  - idle: --idle SSE requests left waiting in the queue (connections held
    open, no token produced yet) and the server's RSS growth.
Only the Python standard library is used; no server is built here.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Server:
    def __init__(self, name, argv, port, log):
        self.name, self.port = name, port
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited with {self.proc.returncode} (see {log.name})")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{name} did not become healthy")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def stream_completion(port, prompt, max_tokens, result):
    """One streamed request; appends (ttft_s, total_s, generated tokens)."""
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                       "stream": True, "stream_options": {"include_usage": True}})
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
    ttft, pieces, usage = None, 0, None
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk.get("choices", []):
            if choice.get("text"):
                pieces += 1
                if ttft is None:
                    ttft = time.perf_counter() - t0
    total = time.perf_counter() - t0
    c.close()
    tokens = usage["completion_tokens"] if usage else pieces
    result.append((ttft if ttft is not None else total, total, tokens))


def percentile(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


PROMPTS = ["Once upon a time", "The capital of France", "def main():", "Hello there",
           "In 1492,", "Roses are red", "The quick brown fox", "Dear sir,",
           "Le petit prince", "SELECT * FROM", "To be or not", "It was a dark night",
           "Les misérables", "import numpy as np", "My favourite food", "Chapter one"]


def concurrent_round(port, n, max_tokens):
    results, threads = [], []
    t0 = time.perf_counter()
    for i in range(n):
        prompt = PROMPTS[i % len(PROMPTS)] + " " + str(i)
        th = threading.Thread(target=stream_completion, args=(port, prompt, max_tokens, results))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    tokens = sum(r[2] for r in results)
    ttfts = [r[0] for r in results]
    return {"streams": n, "tokens": tokens, "wall_s": wall, "tok_s": tokens / wall,
            "ttft_p50_ms": 1000 * percentile(ttfts, 50), "ttft_p99_ms": 1000 * percentile(ttfts, 99)}


# Common words, each one token in Llama/Mistral vocabularies, so that N words
# make a prompt of about N tokens.
WORDS = ("the of and to in is it you that he was for on are with as his they be at one have "
         "this from or had by not but some what there we can out other were all your when up "
         "use word how said an each she which do their time if will way about many then them").split()


def prefix_round(port, prefix_words):
    shared = " ".join(WORDS[(i * 7) % len(WORDS)] for i in range(prefix_words))
    out = {}
    for name, tail in (("first", " What comes next?"), ("second", " And after that?")):
        results = []
        stream_completion(port, shared + tail, 4, results)
        out[name + "_ttft_ms"] = 1000 * results[0][0]
    out["ratio"] = out["second_ttft_ms"] / out["first_ttft_ms"]
    return out


def idle_round(server, n):
    """n streaming requests that wait in the queue behind busy slots."""
    before = rss_mib(server.proc.pid)
    socks = []
    body = json.dumps({"prompt": "Wait", "max_tokens": 4, "temperature": 0, "stream": True})
    req = (f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\n\r\n{body}").encode()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(req)
        socks.append(s)
    time.sleep(2.0)
    after = rss_mib(server.proc.pid)
    for s in socks:
        s.close()
    return {"connections": n, "rss_before_mib": before, "rss_after_mib": after,
            "growth_mib": after - before}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("--autan", required=True)
    ap.add_argument("--llama-server")
    ap.add_argument("--streams", default="1,4,8,16")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=2048, help="context per parallel slot")
    ap.add_argument("--prefix-tokens", type=int, default=1000, help="about this many tokens")
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--json")
    a = ap.parse_args()
    streams = [int(s) for s in a.streams.split(",")]
    slots = max(streams)
    logdir = tempfile.mkdtemp(prefix="bench-serve-")
    report = {"model": os.path.basename(a.model), "threads": a.threads, "slots": slots,
              "tokens": a.tokens, "servers": {}}

    engines = [("autan", lambda p: [a.autan, "serve", "-m", a.model, "--port", str(p),
                                    "-t", str(a.threads), "--parallel", str(slots),
                                    "--ctx", str(a.ctx), "--max-queue", str(a.idle + 64)])]
    if a.llama_server:
        engines.append(("llama-server", lambda p: [a.llama_server, "-m", a.model, "--port", str(p),
                                                    "-t", str(a.threads), "-np", str(slots),
                                                    "-c", str(a.ctx * slots), "-cb",
                                                    "--log-disable"]))
    for name, argv in engines:
        port = free_port()
        with open(os.path.join(logdir, name + ".log"), "w") as log:
            server = Server(name, argv(port), port, log)
            try:
                r = {"rounds": []}
                concurrent_round(port, 1, 8)  # warm-up: page in the weights
                for n in streams:
                    r["rounds"].append(concurrent_round(port, n, a.tokens))
                    print(f"{name} {n} streams: {r['rounds'][-1]}", file=sys.stderr)
                r["prefix"] = prefix_round(port, a.prefix_tokens)
                print(f"{name} prefix: {r['prefix']}", file=sys.stderr)
                if a.idle > 0:
                    # Keep every slot busy so the idle requests really wait.
                    busy = [threading.Thread(target=stream_completion,
                                             args=(port, "Busy " + str(i), 512, []))
                            for i in range(slots)]
                    for th in busy:
                        th.start()
                    time.sleep(1.0)
                    r["idle"] = idle_round(server, a.idle)
                    print(f"{name} idle: {r['idle']}", file=sys.stderr)
                report["servers"][name] = r
            finally:
                server.stop()

    print(f"\nmodel {report['model']}, {a.threads} threads, {slots} slots, "
          f"{a.tokens} tokens per request\n")
    print("| server | streams | aggregate t/s | TTFT p50 ms | TTFT p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for name, r in report["servers"].items():
        for x in r["rounds"]:
            print(f"| {name} | {x['streams']} | {x['tok_s']:.1f} | {x['ttft_p50_ms']:.0f} "
                  f"| {x['ttft_p99_ms']:.0f} |")
    for name, r in report["servers"].items():
        p = r["prefix"]
        print(f"\n{name}: shared {a.prefix_tokens}-word prefix TTFT first {p['first_ttft_ms']:.0f} ms, "
              f"second {p['second_ttft_ms']:.0f} ms ({100 * p['ratio']:.0f}%)")
        if "idle" in r:
            i = r["idle"]
            print(f"{name}: {i['connections']} waiting SSE connections: RSS "
                  f"{i['rss_before_mib']:.0f} -> {i['rss_after_mib']:.0f} MiB "
                  f"(+{i['growth_mib']:.1f} MiB)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
