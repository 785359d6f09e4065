#!/usr/bin/env python3
"""Writes the GGUF seeds of the gguf fuzz target (tests/fuzz/corpus/gguf):
small but complete files, so that mutations reach every part of the reader,
the vocabulary loader and the Llama loader. Run once; the output is committed.

  python3 tests/fuzz/make_gguf_seeds.py tests/fuzz/corpus/gguf
"""
import struct
import sys
from pathlib import Path

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
          BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}
T_F32, T_F16, T_Q8_0 = 0, 1, 8


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == STR:
        return string(v)
    if t == ARR:
        et, items = v
        out = struct.pack("<IQ", et, len(items))
        return out + b"".join(value(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def gguf(kvs, tensors, alignment=32, version=3):
    """kvs: [(key, type, value)]; tensors: [(name, dims, type, bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += string(k) + struct.pack("<I", t) + value(t, v)
    offset, blobs = 0, []
    for name, dims, ttype, data in tensors:
        out += string(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ttype, offset)
        pad = (-len(data)) % alignment
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    out += b"\0" * ((-len(out)) % alignment)
    return out + b"".join(blobs)


def spm_vocab():
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    types = [2, 3, 3] + [6] * 256
    words = ["▁", "▁t", "he", "▁the", "▁a", "in", "er", "▁Hello", "▁world"]
    controls = ["[INST]", "[/INST]", "[TOOL_CALLS]", "[SUFFIX]", "[PREFIX]"]
    tokens += words + controls
    types += [1] * len(words) + [3] * len(controls)
    words += controls
    scores = [0.0] * 259 + [-float(i) for i in range(len(words))]
    return [
        ("tokenizer.ggml.model", STR, "llama"),
        ("tokenizer.ggml.tokens", ARR, (STR, tokens)),
        ("tokenizer.ggml.scores", ARR, (F32, scores)),
        ("tokenizer.ggml.token_type", ARR, (I32, types)),
        ("tokenizer.ggml.bos_token_id", U32, 1),
        ("tokenizer.ggml.eos_token_id", U32, 2),
        ("tokenizer.ggml.add_bos_token", BOOL, True),
    ], len(tokens)


def bpe_vocab():
    # GPT-2's byte alphabet: printable bytes map to themselves, the others to U+0100...
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    alphabet, extra = {}, 0
    for b in range(256):
        if b in keep:
            alphabet[b] = chr(b)
        else:
            alphabet[b] = chr(256 + extra)
            extra += 1
    tokens = [alphabet[b] for b in range(256)]
    merges = ["Ġ t", "h e", "Ġt he", "i n", "e r", "Ġ a"]
    tokens += ["Ġt", "he", "Ġthe", "in", "er", "Ġa", "<|endoftext|>"]
    types = [1] * (len(tokens) - 1) + [3]
    return [
        ("tokenizer.ggml.model", STR, "gpt2"),
        ("tokenizer.ggml.pre", STR, "gpt-2"),
        ("tokenizer.ggml.tokens", ARR, (STR, tokens)),
        ("tokenizer.ggml.token_type", ARR, (I32, types)),
        ("tokenizer.ggml.merges", ARR, (STR, merges)),
        ("tokenizer.ggml.bos_token_id", U32, len(tokens) - 1),
        ("tokenizer.ggml.eos_token_id", U32, len(tokens) - 1),
    ], len(tokens)


def f32(n, scale=0.01):
    return struct.pack(f"<{n}f", *[((i * 37) % 11 - 5) * scale for i in range(n)])


def llama(vocab, n_vocab, dim=8, ffn=16, heads=2, kv_heads=1):
    head_dim = dim // heads
    kvs = [("general.architecture", STR, "llama"), ("general.name", STR, "fuzz seed"),
           ("llama.embedding_length", U32, dim), ("llama.block_count", U32, 1),
           ("llama.attention.head_count", U32, heads),
           ("llama.attention.head_count_kv", U32, kv_heads),
           ("llama.feed_forward_length", U32, ffn), ("llama.context_length", U32, 64),
           ("llama.rope.freq_base", F32, 10000.0),
           ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5)] + vocab
    kv_dim = kv_heads * head_dim
    t = [("token_embd.weight", [dim, n_vocab], T_F32, f32(dim * n_vocab)),
         ("output_norm.weight", [dim], T_F32, f32(dim, 1.0)),
         ("blk.0.attn_norm.weight", [dim], T_F32, f32(dim, 1.0)),
         ("blk.0.attn_q.weight", [dim, dim], T_F32, f32(dim * dim)),
         ("blk.0.attn_k.weight", [dim, kv_dim], T_F32, f32(dim * kv_dim)),
         ("blk.0.attn_v.weight", [dim, kv_dim], T_F32, f32(dim * kv_dim)),
         ("blk.0.attn_output.weight", [dim, dim], T_F32, f32(dim * dim)),
         ("blk.0.ffn_norm.weight", [dim], T_F32, f32(dim, 1.0)),
         ("blk.0.ffn_gate.weight", [dim, ffn], T_F32, f32(dim * ffn)),
         ("blk.0.ffn_up.weight", [dim, ffn], T_F32, f32(dim * ffn)),
         ("blk.0.ffn_down.weight", [ffn, dim], T_F32, f32(dim * ffn))]
    return gguf(kvs, t)


def every_type():
    """One key of every value type, nested arrays and a few tensor types."""
    kvs = [("u8", U8, 7), ("i8", I8, -7), ("u16", U16, 700), ("i16", I16, -700),
           ("u32", U32, 70000), ("i32", I32, -70000), ("f32", F32, 0.5), ("bool", BOOL, True),
           ("str", STR, "text"), ("u64", U64, 2**40), ("i64", I64, -2**40), ("f64", F64, 0.25),
           ("arr.i32", ARR, (I32, [1, 2, 3])), ("arr.str", ARR, (STR, ["a", "bc"])),
           ("arr.nested", ARR, (ARR, [(U8, [1, 2]), (U8, [])])),
           ("general.alignment", U32, 64)]
    t = [("a", [4], T_F32, f32(4)), ("b", [32, 2], T_Q8_0, bytes(34 * 2)),
         ("c", [2, 2, 2, 2], T_F16, bytes(32))]
    return gguf(kvs, t, alignment=64)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    spm, n_spm = spm_vocab()
    bpe, n_bpe = bpe_vocab()
    seeds = {
        "empty-v3.gguf": gguf([], []),
        "empty-v2.gguf": gguf([], [], version=2),
        "every-type.gguf": every_type(),
        "vocab-spm.gguf": gguf(spm, []),
        "vocab-bpe.gguf": gguf(bpe, []),
        "llama-spm.gguf": llama(spm, n_spm),
        "llama-bpe.gguf": llama(bpe, n_bpe),
    }
    for name, data in seeds.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
