#!/usr/bin/python3
"""Records llama.cpp's greedy continuations and top-5 log-probabilities on
synth models, as goldens for tests/model/test_goldens.py.

Needs a llama.cpp build: LLAMA_CPP_BIN is the folder holding llama-server
(built by the user from a llama.cpp source snapshot). The models come from
`autan synth`, so both engines read the very same bytes; each golden records
the file's SHA-256 so a change to synth cannot go unnoticed. Entries with a
"convert" format are synth folders (safetensors: Hugging Face's layout,
consolidated: Mistral's) turned into GGUF by `autan convert`: llama.cpp loads
the converted file, so the goldens check the conversion too.

It also records llama-tokenize's ids on tests/tokenizer/data/mistral_corpus.json
for a model converted from a genuine tekken.json (Mistral NeMo's, written by
tests/tokenizer/oracle/make_oracle.mjs, which needs that folder's node_modules):
llama.cpp's reading of the Tekken vocabulary `autan convert` writes.

usage: LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin tools/llama_goldens.py AUTAN OUT.json
(GOLDEN_MODELS=none records only the Tekken ids)
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# Mixtral only with 16- and 8-bit weights: with 4-bit weights each engine's
# activation rounding now and then flips a near-tied routing choice, and one
# different expert moves the log-probabilities by 0.1-0.2, beyond what these
# goldens can tell from an error.
MODELS = [("llama", "tiny", "f32"), ("llama", "tiny", "f16"), ("llama", "tiny", "q8_0"),
          ("llama", "tiny", "q4_0"), ("llama", "small", "q4_k_m"), ("llama", "small", "q8_0"),
          ("mixtral", "tiny", "f16"), ("mixtral", "tiny", "q8_0"), ("mixtral", "small", "f16"),
          ("llama", "nemo-tiny", "f16"), ("llama", "nemo-tiny", "q8_0"),
          ("mixtral", "tiny", "f16", "safetensors"), ("llama", "nemo-tiny", "f16", "consolidated")]
# e.g. "tiny:q4_k,mixtral:tiny:q6_k,mixtral:tiny:f16:safetensors" (arch llama by default)
if os.environ.get("GOLDEN_MODELS") == "none":
    MODELS = []
elif os.environ.get("GOLDEN_MODELS"):
    MODELS = [tuple((["llama"] if m.count(":") == 1 else []) + m.split(":"))
              for m in os.environ["GOLDEN_MODELS"].split(",")]
SEED = 11
N_PREDICT = 16
# Prompts as token ids of the Llama vocabulary, BOS first.
PROMPTS = [
    [1, 450, 4996, 17354, 1701, 29916],
    [1, 3681, 338, 278, 7483, 310, 3444, 29892],
    [1, 822, 18755, 29898, 29876, 1125, 13, 1678, 736],
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def wait_ready(port, proc):
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError("llama-server exited early")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("llama-server did not become ready")


def goldens_for(server_bin, model):
    port = free_port()
    proc = subprocess.Popen([server_bin, "-m", model, "--host", "127.0.0.1", "--port", str(port),
                             "-np", "1", "-c", "512", "-t", "2", "--no-webui", "--no-warmup"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        cases = []
        for prompt in PROMPTS:
            r = post(port, "/completion", {
                "prompt": prompt, "n_predict": N_PREDICT, "temperature": 0, "top_k": 1,
                "n_probs": 5, "cache_prompt": False, "return_tokens": True, "ignore_eos": True})
            # The server leaves out the entry of a token that ends inside a
            # UTF-8 character, so each entry names its sampled token.
            steps = [{"token": p["id"],
                      "top": [{"id": t["id"], "logprob": t["logprob"]} for t in p["top_logprobs"]]}
                     for p in r["completion_probabilities"]]
            cases.append({"prompt": prompt, "generated": r["tokens"], "top5": steps})
        return cases
    finally:
        proc.terminate()
        proc.wait()


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "tokenizer", "data", "mistral_corpus.json")


def converted_tekken_model(autan, tmp):
    """nemo-tiny with Mistral NeMo's tekken.json, as a Mistral folder converted
    to GGUF; returns its path (tests/goldens/test_goldens.py makes the same)."""
    oracle = os.path.join(tmp, "oracle")
    subprocess.run(["node", os.path.join(ROOT, "tests", "tokenizer", "oracle", "make_oracle.mjs"),
                    oracle, CORPUS], check=True, stdout=subprocess.DEVNULL)
    folder = os.path.join(tmp, "nemo-tiny-tekken")
    subprocess.run([autan, "synth", "--shape", "nemo-tiny", "--type", "bf16", "--seed", str(SEED),
                    "--vocab", os.path.join(oracle, "tekken.json"), "--format", "consolidated",
                    folder], check=True)
    model = os.path.join(tmp, "nemo-tiny-tekken.gguf")
    subprocess.run([autan, "convert", folder, model], check=True, stderr=subprocess.DEVNULL)
    return model


def tekken_goldens(autan, tmp):
    model = converted_tekken_model(autan, tmp)
    tokenize = os.path.join(os.environ["LLAMA_CPP_BIN"], "llama-tokenize")
    with open(CORPUS) as f:
        corpus = json.load(f)
    cases = []
    for text in corpus:
        p = subprocess.run([tokenize, "-m", model, "-p", text, "--ids", "--log-disable",
                            "--no-parse-special", "--no-escape"],
                           check=True, capture_output=True, text=True)
        cases.append({"text": text, "ids": json.loads(p.stdout.strip().splitlines()[-1])})
    with open(model, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {"engine": "llama.cpp llama-tokenize --no-parse-special --no-escape",
            "sha256": digest, "cases": cases}


def main():
    autan, out = sys.argv[1], sys.argv[2]
    server_bin = os.path.join(os.environ["LLAMA_CPP_BIN"], "llama-server")
    result = {"engine": "llama.cpp llama-server, temperature 0, n_probs 5", "seed": SEED,
              "models": []}
    with tempfile.TemporaryDirectory() as tmp:
        for arch, shape, dtype, *convert in MODELS:
            model = os.path.join(tmp, f"{arch}-{shape}-{dtype}.gguf")
            synth = [autan, "synth", "--arch", arch, "--shape", shape, "--type", dtype,
                     "--seed", str(SEED)]
            if convert:
                folder = os.path.join(tmp, f"{arch}-{shape}-{dtype}-{convert[0]}")
                subprocess.run(synth + ["--format", convert[0], folder], check=True)
                subprocess.run([autan, "convert", folder, model], check=True)
            else:
                subprocess.run(synth + [model], check=True)
            with open(model, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            entry = {"shape": shape, "type": dtype, "sha256": digest,
                     "cases": goldens_for(server_bin, model)}
            if convert:
                entry = {"convert": convert[0], **entry}
            if arch != "llama":
                entry = {"arch": arch, **entry}
            result["models"].append(entry)
            print(f"{arch} {shape} {dtype} {''.join(convert)}: done", file=sys.stderr)
        result["tekken_tokenize"] = tekken_goldens(autan, tmp)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
