#!/usr/bin/python3
"""Writes a vocabulary-only GGUF: a SentencePiece vocabulary with Mistral's
fill-in-the-middle control tokens [SUFFIX], [PREFIX] and [MIDDLE] appended, as
Mistral's v3 SentencePiece vocabulary has them; `autan synth --vocab` makes a
FIM-capable test model from it.

Usage: fim_vocab.py SOURCE.gguf OUT.gguf   (prints the three new ids)

Reads with the NumPy reference's GGUF parser and writes GGUF v3 itself, so it
shares no code with the engine.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import reference  # noqa: E402

FIM_TOKENS = ["[SUFFIX]", "[PREFIX]", "[MIDDLE]"]
CONTROL = 3
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY = 4, 5, 6, 7, 8, 9


def _string(s):
    b = s.encode("utf-8", errors="surrogateescape")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, v):
    if vtype == T_STRING:
        return _string(v)
    if vtype == T_BOOL:
        return struct.pack("<?", bool(v))
    return struct.pack({T_UINT32: "<I", T_INT32: "<i", T_FLOAT32: "<f"}[vtype], v)


def _kv(key, vtype, v, elem=None):
    out = _string(key) + struct.pack("<I", vtype)
    if vtype == T_ARRAY:
        out += struct.pack("<IQ", elem, len(v)) + b"".join(_value(elem, e) for e in v)
    else:
        out += _value(vtype, v)
    return out


def write_fim_vocab(source, out_path):
    meta = reference.load_gguf(source).metadata
    tokens = list(meta["tokenizer.ggml.tokens"])
    n = len(tokens)
    scores = list(meta.get("tokenizer.ggml.scores", [0.0] * n))
    types = list(meta.get("tokenizer.ggml.token_type", [1] * n))
    tokens += FIM_TOKENS
    scores += [0.0] * len(FIM_TOKENS)
    types += [CONTROL] * len(FIM_TOKENS)
    kvs = [
        _kv("general.architecture", T_STRING, "llama"),
        _kv("tokenizer.ggml.model", T_STRING, meta["tokenizer.ggml.model"]),
        _kv("tokenizer.ggml.pre", T_STRING, meta.get("tokenizer.ggml.pre", "default")),
        _kv("tokenizer.ggml.tokens", T_ARRAY, tokens, T_STRING),
        _kv("tokenizer.ggml.scores", T_ARRAY, scores, T_FLOAT32),
        _kv("tokenizer.ggml.token_type", T_ARRAY, types, T_INT32),
    ]
    for key in ("bos_token_id", "eos_token_id", "unknown_token_id"):
        if "tokenizer.ggml." + key in meta:
            kvs.append(_kv("tokenizer.ggml." + key, T_UINT32, meta["tokenizer.ggml." + key]))
    for key in ("add_bos_token", "add_eos_token"):
        if "tokenizer.ggml." + key in meta:
            kvs.append(_kv("tokenizer.ggml." + key, T_BOOL, meta["tokenizer.ggml." + key]))
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs)
    data += b"\0" * (-len(data) % 32)  # the (empty) data section starts aligned
    with open(out_path, "wb") as f:
        f.write(data)
    return list(range(n, n + len(FIM_TOKENS)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(" ".join(map(str, write_fim_vocab(sys.argv[1], sys.argv[2]))))
