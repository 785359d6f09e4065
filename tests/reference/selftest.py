#!/usr/bin/python3
"""Self-test for the NumPy reference: GGUF parsing, dequantizers, forward pass,
and the command-line tools. Deterministic; exits non-zero on failure."""

import math
import os
import struct
import subprocess
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as R  # noqa: E402

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)


# ---------------------------------------------------------------- GGUF writer

def _gguf_str(s):
    b = s.encode("utf-8", errors="surrogateescape")
    return struct.pack("<Q", len(b)) + b


_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
        7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def _gguf_value(vtype, v):
    if vtype == 8:
        return _gguf_str(v)
    if vtype == 9:
        etype, items = v
        out = struct.pack("<IQ", etype, len(items))
        return out + b"".join(_gguf_value(etype, it) for it in items)
    return struct.pack(_FMT[vtype], v)


def write_gguf(path, kvs, tensors, alignment=32, version=3):
    """kvs: [(key, vtype, value)]; tensors: [(name, dims, ggml_type, raw bytes)]."""
    if alignment != 32:
        kvs = kvs + [("general.alignment", 4, alignment)]
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        head += _gguf_str(k) + struct.pack("<I", t) + _gguf_value(t, v)
    data = b""
    for name, dims, gtype, raw in tensors:
        data += b"\0" * (-len(data) % alignment)
        head += _gguf_str(name) + struct.pack("<I", len(dims))
        head += b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", gtype, len(data))
        data += raw
    head += b"\0" * (-len(head) % alignment)
    with open(path, "wb") as f:
        f.write(head + data)


# ------------------------------------------- scalar transcriptions of ggml code

def f16(b, o):
    return struct.unpack_from("<e", b, o)[0]


def scalar_q4_0(b):
    d = f16(b, 0)
    y = [0.0] * 32
    for j in range(16):
        y[j] = ((b[2 + j] & 0x0F) - 8) * d
        y[j + 16] = ((b[2 + j] >> 4) - 8) * d
    return y


def scalar_q4_1(b):
    d, m = f16(b, 0), f16(b, 2)
    y = [0.0] * 32
    for j in range(16):
        y[j] = (b[4 + j] & 0x0F) * d + m
        y[j + 16] = (b[4 + j] >> 4) * d + m
    return y


def _scalar_q5(b, d, m, qh_off, qs_off, offset):
    qh = struct.unpack_from("<I", b, qh_off)[0]
    y = [0.0] * 32
    for j in range(16):
        xh0 = ((qh >> j) << 4) & 0x10
        xh1 = (qh >> (j + 12)) & 0x10
        y[j] = (((b[qs_off + j] & 0x0F) | xh0) - offset) * d + m
        y[j + 16] = (((b[qs_off + j] >> 4) | xh1) - offset) * d + m
    return y


def scalar_q5_0(b):
    return _scalar_q5(b, f16(b, 0), 0.0, 2, 6, 16)


def scalar_q5_1(b):
    return _scalar_q5(b, f16(b, 0), f16(b, 2), 4, 8, 0)


def scalar_q8_0(b):
    d = f16(b, 0)
    return [struct.unpack_from("<b", b, 2 + j)[0] * d for j in range(32)]


def scale_min_k4(j, q):
    if j < 4:
        return q[j] & 63, q[j + 4] & 63
    return (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)


def scalar_q4_k(b):
    d, dmin = f16(b, 0), f16(b, 2)
    scales, q = b[4:16], b[16:144]
    y, qo, is_ = [], 0, 0
    for _ in range(4):
        sc, m = scale_min_k4(is_, scales)
        d1, m1 = d * sc, dmin * m
        sc, m = scale_min_k4(is_ + 1, scales)
        d2, m2 = d * sc, dmin * m
        y += [d1 * (q[qo + l] & 0xF) - m1 for l in range(32)]
        y += [d2 * (q[qo + l] >> 4) - m2 for l in range(32)]
        qo += 32
        is_ += 2
    return y


def scalar_q5_k(b):
    d, dmin = f16(b, 0), f16(b, 2)
    scales, qh, ql = b[4:16], b[16:48], b[48:176]
    y, qo, is_, u1, u2 = [], 0, 0, 1, 2
    for _ in range(4):
        sc, m = scale_min_k4(is_, scales)
        d1, m1 = d * sc, dmin * m
        sc, m = scale_min_k4(is_ + 1, scales)
        d2, m2 = d * sc, dmin * m
        y += [d1 * ((ql[qo + l] & 0xF) + (16 if qh[l] & u1 else 0)) - m1 for l in range(32)]
        y += [d2 * ((ql[qo + l] >> 4) + (16 if qh[l] & u2 else 0)) - m2 for l in range(32)]
        qo += 32
        is_ += 2
        u1 <<= 2
        u2 <<= 2
    return y


def scalar_q6_k(b):
    d = f16(b, 208)
    y = [0.0] * 256
    for half in range(2):
        ql = b[64 * half:64 * half + 64]
        qh = b[128 + 32 * half:128 + 32 * half + 32]
        sc = struct.unpack_from("<8b", b, 192 + 8 * half)
        base = 128 * half
        for l in range(32):
            is_ = l // 16
            q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32
            q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32
            q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
            q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
            y[base + l] = d * sc[is_] * q1
            y[base + l + 32] = d * sc[is_ + 2] * q2
            y[base + l + 64] = d * sc[is_ + 4] * q3
            y[base + l + 96] = d * sc[is_ + 6] * q4
    return y


SCALAR = {2: scalar_q4_0, 3: scalar_q4_1, 6: scalar_q5_0, 7: scalar_q5_1, 8: scalar_q8_0,
          12: scalar_q4_k, 13: scalar_q5_k, 14: scalar_q6_k}
# byte offsets of fp16 scale fields, overwritten with sane values in random blocks
F16_FIELDS = {2: [0], 3: [0, 2], 6: [0], 7: [0, 2], 8: [0], 12: [0, 2], 13: [0, 2], 14: [208]}


def random_blocks(rng, gtype, nb, scale=1.0):
    _, _, size = R.GGML_TYPES[gtype]
    raw = bytearray(rng.integers(0, 256, size=nb * size, dtype=np.uint8).tobytes())
    for i in range(nb):
        for off in F16_FIELDS[gtype]:
            struct.pack_into("<e", raw, i * size + off, float(rng.normal() * scale))
    return bytes(raw)


def scalar_dequant(raw, gtype):
    _, _, size = R.GGML_TYPES[gtype]
    out = []
    for i in range(len(raw) // size):
        out += SCALAR[gtype](raw[i * size:(i + 1) * size])
    return np.array(out, dtype=np.float64)


def raw_weights(rng, gtype, n, scale):
    """Random tensor bytes of n elements and their independently decoded values."""
    if gtype == 0:
        v = (rng.normal(size=n) * scale).astype("<f4")
        return v.tobytes(), v.astype(np.float64)
    if gtype == 1:
        v = (rng.normal(size=n) * scale).astype("<f2")
        return v.tobytes(), v.astype(np.float64)
    if gtype == 30:
        v = (rng.normal(size=n) * scale).astype(np.float32)
        top = (v.view("<u4") >> 16).astype("<u2")
        vals = [struct.unpack("<f", struct.pack("<I", int(t) << 16))[0] for t in top]
        return top.tobytes(), np.array(vals, dtype=np.float64)
    blk = R.GGML_TYPES[gtype][1]
    raw = random_blocks(rng, gtype, n // blk, scale)
    return raw, scalar_dequant(raw, gtype)


# ---------------------------------------------------------------- tests

def test_dequant_vs_scalar(rng):
    for gtype in SCALAR:
        name = R.GGML_TYPES[gtype][0]
        raw = random_blocks(rng, gtype, 6)
        n = 6 * R.GGML_TYPES[gtype][1]
        got = R.dequantize(np.frombuffer(raw, np.uint8), gtype, n)
        want = scalar_dequant(raw, gtype)
        check(got.shape == (n,) and np.allclose(got, want, rtol=1e-12, atol=1e-12),
              "%s vectorized dequant differs from scalar transcription" % name)
    for gtype in (0, 1, 30):
        raw, want = raw_weights(rng, gtype, 64, 1.0)
        got = R.dequantize(np.frombuffer(raw, np.uint8), gtype, 64)
        check(np.array_equal(got, want), "%s dequant" % R.GGML_TYPES[gtype][0])


def quant_q8_0(x):
    """ggml quantize_row_q8_0_ref."""
    out = b""
    for blk in x.reshape(-1, 32).astype(np.float32):
        amax = float(np.max(np.abs(blk)))
        d = np.float32(amax / 127.0)
        idv = np.float32(1.0) / d if d else np.float32(0.0)
        # roundf rounds halves away from zero
        qs = [int(math.copysign(math.floor(abs(float(v * idv)) + 0.5), float(v)))
              for v in blk]
        out += struct.pack("<e", float(d)) + struct.pack("<32b", *qs)
    return out


def quant_q4_0(x):
    """ggml quantize_row_q4_0_ref."""
    out = b""
    for blk in x.reshape(-1, 32).astype(np.float32):
        i = int(np.argmax(np.abs(blk)))
        d = np.float32(blk[i] / np.float32(-8.0))
        idv = np.float32(1.0) / d if d else np.float32(0.0)
        q = [min(15, int(np.float32(v) * idv + np.float32(8.5))) for v in blk]
        qs = bytes(q[j] | (q[j + 16] << 4) for j in range(16))
        out += struct.pack("<e", float(d)) + qs
    return out


def test_roundtrip(rng):
    x = rng.normal(size=512)
    for gtype, quant, tol in ((8, quant_q8_0, 0.01), (2, quant_q4_0, 0.15)):
        raw = quant(x)
        y = R.dequantize(np.frombuffer(raw, np.uint8), gtype, x.size)
        rms = float(np.sqrt(np.mean((y - x) ** 2)))
        check(rms < tol, "%s round-trip rms %g" % (R.GGML_TYPES[gtype][0], rms))
    # Q4_0 keeps the signed absmax exactly (q = 0 -> -8 * d).
    raw = quant_q4_0(x)
    y = R.dequantize(np.frombuffer(raw, np.uint8), 2, x.size).reshape(-1, 32)
    xb = x.reshape(-1, 32)
    i = np.argmax(np.abs(xb), axis=1)
    d = np.array([struct.unpack_from("<e", raw, 18 * k)[0] for k in range(len(xb))])
    check(np.allclose(y[np.arange(len(xb)), i], -8 * d), "Q4_0 absmax maps to -8*d")


def pack_k_scales(sc, mn):
    """Inverse of get_scale_min_k4 for 8 six-bit scales and mins."""
    s = [0] * 12
    for j in range(4):
        s[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6)
        s[j + 4] = (mn[j] & 63) | ((mn[j + 4] >> 4) << 6)
        s[j + 8] = (sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4)
    return bytes(s)


def test_k_known(rng):
    d, dmin = 0.5, 0.25
    sc = [int(v) for v in rng.integers(0, 64, 8)]
    mn = [int(v) for v in rng.integers(0, 64, 8)]
    sc[7], mn[6] = 63, 63                      # exercise the high bits
    q4 = [int(v) for v in rng.integers(0, 16, 256)]
    q5 = [int(v) for v in rng.integers(0, 32, 256)]
    want4 = [d * sc[e // 32] * q4[e] - dmin * mn[e // 32] for e in range(256)]
    want5 = [d * sc[e // 32] * q5[e] - dmin * mn[e // 32] for e in range(256)]
    head = struct.pack("<ee", d, dmin) + pack_k_scales(sc, mn)
    # Chunk c of 32 bytes: low nibble -> element 64c+l, high -> 64c+32+l.
    qs4 = bytes(q4[64 * c + l] | (q4[64 * c + 32 + l] << 4) for c in range(4) for l in range(32))
    qs5 = bytes((q5[64 * c + l] & 15) | ((q5[64 * c + 32 + l] & 15) << 4)
                for c in range(4) for l in range(32))
    qh5 = bytes(sum(((q5[32 * j + l] >> 4) & 1) << j for j in range(8)) for l in range(32))
    got4 = R.dequantize(np.frombuffer(head + qs4, np.uint8), 12, 256)
    got5 = R.dequantize(np.frombuffer(head + qh5 + qs5, np.uint8), 13, 256)
    check(np.array_equal(got4, np.array(want4)), "Q4_K known scales/mins")
    check(np.array_equal(got5, np.array(want5)), "Q5_K known scales/mins")

    d6 = 0.125
    sc6 = [int(v) for v in rng.integers(-128, 128, 16)]
    q6 = [int(v) for v in rng.integers(-32, 32, 256)]
    want6 = [d6 * sc6[e // 16] * q6[e] for e in range(256)]
    u = [v + 32 for v in q6]
    ql, qh = bytearray(128), bytearray(64)
    for h in range(2):
        for l in range(32):
            b = 128 * h
            ql[64 * h + l] = (u[b + l] & 15) | ((u[b + l + 64] & 15) << 4)
            ql[64 * h + l + 32] = (u[b + l + 32] & 15) | ((u[b + l + 96] & 15) << 4)
            qh[32 * h + l] = ((u[b + l] >> 4) | ((u[b + l + 32] >> 4) << 2)
                              | ((u[b + l + 64] >> 4) << 4) | ((u[b + l + 96] >> 4) << 6))
    raw6 = bytes(ql) + bytes(qh) + struct.pack("<16b", *sc6) + struct.pack("<e", d6)
    got6 = R.dequantize(np.frombuffer(raw6, np.uint8), 14, 256)
    check(np.array_equal(got6, np.array(want6)), "Q6_K known scales")


def test_metadata(tmp, rng):
    path = os.path.join(tmp, "meta.gguf")
    kvs = [("a.u8", 0, 200), ("a.i8", 1, -5), ("a.u16", 2, 60000), ("a.i16", 3, -300),
           ("a.u32", 4, 4000000000), ("a.i32", 5, -7), ("a.f32", 6, 0.5), ("a.bool", 7, True),
           ("a.str", 8, "h\u00e9llo"), ("a.u64", 10, 2 ** 40), ("a.i64", 11, -2 ** 40),
           ("a.f64", 12, 0.1), ("a.arr_s", 9, (8, ["x", "", "\u2581y"])),
           ("a.arr_i", 9, (5, [1, -2, 3])), ("a.arr_arr", 9, (9, [(4, [1, 2]), (4, [])]))]
    raw, vals = raw_weights(rng, 12, 512, 1.0)
    for version in (2, 3):
        write_gguf(path, kvs, [("t", [256, 2], 12, raw)], alignment=64, version=version)
        g = R.load_gguf(path)
        want = {k: v for k, _, v in kvs}
        want["a.arr_s"] = ["x", "", "\u2581y"]
        want["a.arr_i"] = [1, -2, 3]
        want["a.arr_arr"] = [[1, 2], []]
        want["general.alignment"] = 64
        check(g.version == version and g.metadata == want, "metadata v%d round trip" % version)
        check(g.data_start % 64 == 0, "data section alignment")
        check(np.array_equal(g.tensor("t"), vals.reshape(2, 256)), "tensor read v%d" % version)
    for bad in (b"GGUX" + b"\0" * 20, b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + b"\x05"):
        with open(path, "wb") as f:
            f.write(bad)
        try:
            R.load_gguf(path)
            check(False, "malformed file accepted")
        except R.ReferenceError:
            pass


def test_vocab_file():
    cands = [os.environ.get("AUTAN_TESTDATA", ""),
             os.path.join(HERE, "..", "..", "..", "shared", "testdata")]
    for base in cands:
        path = os.path.join(base, "vocab", "ggml-vocab-llama-spm.gguf")
        if base and os.path.exists(path):
            g = R.load_gguf(path)
            toks = g.metadata.get("tokenizer.ggml.tokens", [])
            check(len(toks) == 32000 and toks[:3] == ["<unk>", "<s>", "</s>"],
                  "llama-spm vocab tokens")
            check(g.metadata.get("llama.embedding_length") == 4096, "llama-spm metadata")
            check(len(g.tensors) == 0, "vocab file has no tensors")
            return
    print("note: shared vocab file not found, skipped")


# ---------------------------------------------------------------- tiny models

def build_model(path, rng, dim, n_heads, n_kv, ffn, vocab, n_layers, types, tied,
                rope_dims=None, freq_base=None, window=None, experts=None, router_scale=3.0):
    """Writes a llama GGUF; returns the independently decoded weights.
    window: a u32 or a list written as a u32 array; experts: (E, K) for a
    mixture-of-experts feed-forward (router f32 unless types has "inp")."""
    kvs = [("general.architecture", 8, "llama"),
           ("llama.embedding_length", 4, dim), ("llama.block_count", 4, n_layers),
           ("llama.feed_forward_length", 4, ffn), ("llama.attention.head_count", 4, n_heads),
           ("llama.attention.head_count_kv", 4, n_kv),
           ("llama.attention.layer_norm_rms_epsilon", 6, 1e-5)]
    if rope_dims is not None:
        kvs.append(("llama.rope.dimension_count", 4, rope_dims))
    if freq_base is not None:
        kvs.append(("llama.rope.freq_base", 6, freq_base))
    if isinstance(window, list):
        kvs.append(("llama.attention.sliding_window", 9, (4, window)))
    elif window is not None:
        kvs.append(("llama.attention.sliding_window", 4, window))
    if experts is not None:
        kvs += [("llama.expert_count", 4, experts[0]), ("llama.expert_used_count", 4, experts[1])]
    hd = dim // n_heads
    W, tensors = {}, []

    def add(name, dims, gtype, scale):
        raw, vals = raw_weights(rng, gtype, int(np.prod(dims)), scale)
        tensors.append((name, dims, gtype, raw))
        W[name] = vals.reshape(tuple(reversed(dims)))

    add("token_embd.weight", [dim, vocab], types["embd"], 1.0)
    for i in range(n_layers):
        p = "blk.%d." % i
        add(p + "attn_norm.weight", [dim], 0, 0.2)
        g32 = (W[p + "attn_norm.weight"] + 1.0).astype("<f4")   # gains near 1
        W[p + "attn_norm.weight"] = g32.astype(np.float64)
        tensors[-1] = (tensors[-1][0], [dim], 0, g32.tobytes())
        add(p + "attn_q.weight", [dim, dim], types["q"], 0.3 / math.sqrt(dim))
        add(p + "attn_k.weight", [dim, n_kv * hd], types["k"], 0.3 / math.sqrt(dim))
        add(p + "attn_v.weight", [dim, n_kv * hd], types["v"], 1.0 / math.sqrt(dim))
        add(p + "attn_output.weight", [dim, dim], types["o"], 1.0 / math.sqrt(dim))
        add(p + "ffn_norm.weight", [dim], 0, 1.0)
        if experts is None:
            add(p + "ffn_gate.weight", [dim, ffn], types["gate"], 1.0 / math.sqrt(dim))
            add(p + "ffn_up.weight", [dim, ffn], types["up"], 1.0 / math.sqrt(dim))
            add(p + "ffn_down.weight", [ffn, dim], types["down"], 1.0 / math.sqrt(ffn))
            continue
        n_exp = experts[0]
        add(p + "ffn_gate_inp.weight", [dim, n_exp], types.get("inp", 0),
            router_scale / math.sqrt(dim))
        add(p + "ffn_gate_exps.weight", [dim, ffn, n_exp], types["gate"], 1.0 / math.sqrt(dim))
        add(p + "ffn_up_exps.weight", [dim, ffn, n_exp], types["up"], 1.0 / math.sqrt(dim))
        add(p + "ffn_down_exps.weight", [ffn, dim, n_exp], types["down"], 1.0 / math.sqrt(ffn))
    add("output_norm.weight", [dim], 0, 1.0)
    if not tied:
        add("output.weight", [dim, vocab], types["out"], 1.0 / math.sqrt(dim))
    rng.shuffle(tensors)                      # file order must not matter
    write_gguf(path, kvs, tensors)
    return W


def naive_moe(W, p, m, k, routes):
    """One token through the experts, routing done with Python's sort; the
    chosen experts are appended to routes."""
    logits = W[p + "ffn_gate_inp.weight"] @ m
    chosen = sorted(range(logits.size), key=lambda e: (-logits[e], e))[:k]
    routes.append(tuple(sorted(chosen)))
    z = [math.exp(logits[e] - logits[chosen[0]]) for e in chosen]
    y = np.zeros(m.size)
    for e, ze in zip(chosen, z):
        gt = W[p + "ffn_gate_exps.weight"][e] @ m
        up = W[p + "ffn_up_exps.weight"][e] @ m
        with np.errstate(over="ignore"):      # random quantized weights saturate SiLU
            act = gt / (1 + np.exp(-gt)) * up
        y += ze / sum(z) * (W[p + "ffn_down_exps.weight"][e] @ act)
    return y


def naive_forward(W, tokens, dim, n_heads, n_kv, n_layers, rope_dims, base, window, eps=1e-5,
                  moe_k=0, routes=None):
    """Token-at-a-time with an explicit KV cache, scalar RoPE and softmax.
    window: one for every layer or a list per layer; moe_k: experts per token."""
    hd = dim // n_heads
    rope_dims = rope_dims or hd
    eps = float(np.float32(eps))
    cache = [([], []) for _ in range(n_layers)]
    out_w = W.get("output.weight", W["token_embd.weight"])
    logits = []

    def norm(v, g):
        return v / math.sqrt(float(np.dot(v, v)) / v.size + eps) * g

    def rot(vec, pos):
        vec = vec.copy()
        for i in range(rope_dims // 2):
            th = pos * base ** (-2.0 * i / rope_dims)
            a, b = vec[2 * i], vec[2 * i + 1]
            vec[2 * i] = a * math.cos(th) - b * math.sin(th)
            vec[2 * i + 1] = a * math.sin(th) + b * math.cos(th)
        return vec

    for pos, tok in enumerate(tokens):
        x = W["token_embd.weight"][tok].copy()
        for li in range(n_layers):
            p = "blk.%d." % li
            xn = norm(x, W[p + "attn_norm.weight"])
            q = W[p + "attn_q.weight"] @ xn
            k = W[p + "attn_k.weight"] @ xn
            v = W[p + "attn_v.weight"] @ xn
            ks, vs = cache[li]
            ks.append([rot(k[h * hd:(h + 1) * hd], pos) for h in range(n_kv)])
            vs.append([v[h * hd:(h + 1) * hd] for h in range(n_kv)])
            att = np.zeros(dim)
            win = window[li] if isinstance(window, list) else window
            lo = max(0, pos - win + 1) if win else 0
            for h in range(n_heads):
                kvh = h // (n_heads // n_kv)
                qh = rot(q[h * hd:(h + 1) * hd], pos)
                s = [float(np.dot(qh, ks[j][kvh])) / math.sqrt(hd) for j in range(lo, pos + 1)]
                mx = max(s)
                e = [math.exp(z - mx) for z in s]
                tot = sum(e)
                for w, j in zip(e, range(lo, pos + 1)):
                    att[h * hd:(h + 1) * hd] += w / tot * vs[j][kvh]
            x = x + W[p + "attn_output.weight"] @ att
            m = norm(x, W[p + "ffn_norm.weight"])
            if moe_k:
                x = x + naive_moe(W, p, m, moe_k, [] if routes is None else routes)
                continue
            gt = W[p + "ffn_gate.weight"] @ m
            up = W[p + "ffn_up.weight"] @ m
            x = x + W[p + "ffn_down.weight"] @ (gt / (1 + np.exp(-gt)) * up)
        logits.append(out_w @ norm(x, W["output_norm.weight"]))
    return np.array(logits)


def close(a, b):
    return a.shape == b.shape and float(np.max(np.abs(a - b))) <= 1e-9 * max(1.0, np.abs(b).max())


def test_forward(tmp, rng):
    f32 = dict(embd=0, q=0, k=0, v=0, o=0, gate=0, up=0, down=0, out=0)
    tokens = [1, 7, 3, 3, 39, 0, 11, 5, 9]
    # GQA, partial RoPE, explicit output head.
    path = os.path.join(tmp, "f32.gguf")
    W = build_model(path, rng, 64, 4, 2, 96, 50, 2, f32, tied=False, rope_dims=8)
    g = R.load_gguf(path)
    got = R.forward(g, tokens)
    check(close(got, naive_forward(W, tokens, 64, 4, 2, 2, 8, 10000.0, 0)),
          "f32 GQA forward vs naive")
    for win in (1, 3):
        got = R.forward(g, tokens, sliding_window=win)
        check(close(got, naive_forward(W, tokens, 64, 4, 2, 2, 8, 10000.0, win)),
              "sliding window %d forward vs naive" % win)
    # The window only matters once a position has more than W keys.
    full, w3 = R.forward(g, tokens), R.forward(g, tokens, sliding_window=3)
    check(np.array_equal(full[:3], w3[:3]) and not np.allclose(full[3:], w3[3:]),
          "sliding window affects exactly positions >= W")

    # Metadata window, override to 0, MHA, tied head, other freq_base.
    path = os.path.join(tmp, "mha.gguf")
    W = build_model(path, rng, 32, 2, 2, 64, 40, 1, f32, tied=True, freq_base=500000.0,
                    window=2)
    g = R.load_gguf(path)
    check(close(R.forward(g, tokens), naive_forward(W, tokens, 32, 2, 2, 1, None, 5e5, 2)),
          "metadata sliding window + tied head")
    check(close(R.forward(g, tokens, sliding_window=0),
                naive_forward(W, tokens, 32, 2, 2, 1, None, 5e5, 0)),
          "--sliding-window 0 overrides metadata")

    # Every quantized type in the matmul path.
    qt = dict(embd=8, q=12, k=13, v=14, o=2, gate=3, up=6, down=7, out=30)
    path = os.path.join(tmp, "quant.gguf")
    W = build_model(path, rng, 256, 4, 1, 256, 40, 1, qt, tied=False)
    got = R.forward(R.load_gguf(path), tokens[:5])
    check(close(got, naive_forward(W, tokens[:5], 256, 4, 1, 1, None, 10000.0, 0)),
          "quantized forward vs naive")
    qt.update(embd=1)
    path2 = os.path.join(tmp, "quant_tied.gguf")
    W = build_model(path2, rng, 256, 4, 4, 256, 40, 1, qt, tied=True)
    got = R.forward(R.load_gguf(path2), tokens[:4])
    check(close(got, naive_forward(W, tokens[:4], 256, 4, 4, 1, None, 10000.0, 0)),
          "f16 tied embedding forward vs naive")
    return os.path.join(tmp, "f32.gguf")


def test_moe_hand():
    """Routing and mixing on hand-built experts whose outputs are known."""
    # Four experts with one hidden unit each. Expert e's gate reads x[0], its up
    # reads x[1] and its down writes only output coordinate e, so the output
    # shows which experts ran and with what weight. The router reads x[2] only,
    # so a token with x[2] = -1 sees the logits negated.
    g, u, c = [0.5, -1.0, 2.0, 1.5], [1.0, 2.0, -0.5, 3.0], [1.0, 10.0, 100.0, 1000.0]

    def expert(e):
        wg, wu, wd = np.zeros((1, 4)), np.zeros((1, 4)), np.zeros((4, 1))
        wg[0, 0], wu[0, 1], wd[e, 0] = g[e], u[e], c[e]
        return wg, wu, wd

    def silu(v):
        return v / (1.0 + math.exp(-v))

    def want(x, chosen_logits):
        """chosen_logits: {expert: logit} of the experts that must run."""
        z = {e: math.exp(lg) for e, lg in chosen_logits.items()}
        return [z[e] / sum(z.values()) * c[e] * silu(g[e] * x[0]) * u[e] * x[1]
                if e in z else 0.0 for e in range(4)]

    x = np.array([[1.0, 2.0, 1.0, 0.0], [0.5, -1.0, -1.0, 0.0]])
    cases = [  # logits, k, the experts that must run for token 0 and token 1, sorted
        ([0.5, 2.0, 1.0, -1.0], 2, (1, 2), (0, 3)),
        ([0.5, 2.0, 1.0, -1.0], 1, (1,), (3,)),
        ([0.5, 2.0, 1.0, -1.0], 4, (0, 1, 2, 3), (0, 1, 2, 3)),
        ([1.0, 3.0, 3.0, 3.0], 2, (1, 2), (0, 1)),          # ties: lower index first
        ([3.0, 3.0, 0.0, 3.0], 1, (0,), (2,)),
        ([0.0, 0.0, 0.0, 0.0], 3, (0, 1, 2), (0, 1, 2)),
    ]
    for logits, k, run0, run1 in cases:
        router = np.zeros((4, 4))
        router[:, 2] = logits
        got = R.moe_ffn(x, router, expert, k)
        want0 = want(x[0], {e: logits[e] for e in run0})
        want1 = want(x[1], {e: -logits[e] for e in run1})
        check(np.allclose(got, np.array([want0, want1]), rtol=1e-13, atol=0),
              "MoE k=%d logits %s: got %s" % (k, logits, got.tolist()))
        experts, _ = R.route(x @ router.T, k)
        check([sorted(r) for r in experts.tolist()] == [list(run0), list(run1)],
              "route k=%d logits %s picks %s" % (k, logits, experts.tolist()))
    # Softmax over the chosen logits only: two experts at logits 2 and 1 weigh
    # e/(e+1) and 1/(e+1) whatever the others' logits are.
    experts, w = R.route(np.array([[2.0, -50.0, 1.0, 0.9]]), 2)
    want = [[math.e / (math.e + 1), 1 / (math.e + 1)]]
    check(experts.tolist() == [[0, 2]] and np.allclose(w, want, rtol=1e-14, atol=0),
          "route weights are a softmax over the top k: %s" % w.tolist())


def moe_as_dense(W, n_layers, mix):
    """Dense weights equal to a fixed mix {expert: weight} of W's experts: their
    hidden units side by side, each down projection scaled by its weight."""
    D = dict(W)
    for i in range(n_layers):
        p = "blk.%d." % i
        es = sorted(mix)
        D[p + "ffn_gate.weight"] = np.concatenate([W[p + "ffn_gate_exps.weight"][e] for e in es])
        D[p + "ffn_up.weight"] = np.concatenate([W[p + "ffn_up_exps.weight"][e] for e in es])
        D[p + "ffn_down.weight"] = np.concatenate(
            [mix[e] * W[p + "ffn_down_exps.weight"][e] for e in es], axis=1)
    return D


def test_moe_forward(tmp):
    f32 = dict(embd=0, q=0, k=0, v=0, o=0, gate=0, up=0, down=0, out=0)
    tokens = [1, 7, 3, 3, 39, 0, 11, 5, 9]
    path = os.path.join(tmp, "moe.gguf")
    for n_exp, k in ((4, 2), (4, 1), (4, 4)):
        W = build_model(path, np.random.default_rng(5), 64, 4, 2, 32, 50, 2, f32, tied=False,
                        experts=(n_exp, k))
        routes = []
        check(close(R.forward(R.load_gguf(path), tokens),
                    naive_forward(W, tokens, 64, 4, 2, 2, None, 10000.0, 0, moe_k=k,
                                  routes=routes)),
              "MoE E=%d K=%d forward vs naive" % (n_exp, k))
        # Tokens must take different routes for the check to mean much.
        check(k == n_exp or len(set(routes)) > 2, "E=%d K=%d routes %s" % (n_exp, k, set(routes)))

    # A zero router ties every expert: K = 1 is expert 0 alone, K = 2 of 3 is
    # experts 0 and 1 at half weight each; both are dense models.
    for n_exp, k, mix in ((2, 1, {0: 1.0}), (2, 2, {0: 0.5, 1: 0.5}), (3, 2, {0: 0.5, 1: 0.5})):
        W = build_model(path, np.random.default_rng(6), 32, 2, 1, 16, 40, 2, f32, tied=True,
                        experts=(n_exp, k), router_scale=0.0)
        dense = moe_as_dense(W, 2, mix)
        check(close(R.forward(R.load_gguf(path), tokens),
                    naive_forward(dense, tokens, 32, 2, 1, 2, None, 10000.0, 0)),
              "tied zero router E=%d K=%d equals dense mix %s" % (n_exp, k, mix))

    # Quantized experts, f16 router, per-layer windows from the file.
    qt = dict(embd=8, q=12, k=13, v=14, o=2, gate=12, up=8, down=14, out=30, inp=1)
    path = os.path.join(tmp, "moe_quant.gguf")
    W = build_model(path, np.random.default_rng(7), 256, 4, 1, 256, 40, 2, qt, tied=False,
                    experts=(3, 2), window=[2, 0])
    check(close(R.forward(R.load_gguf(path), tokens[:5]),
                naive_forward(W, tokens[:5], 256, 4, 1, 2, None, 10000.0, [2, 0], moe_k=2)),
          "quantized MoE forward vs naive")

    # Refused: K out of range, expert metadata without expert tensors.
    for n_exp, k in ((2, 3), (2, 0)):
        build_model(path, np.random.default_rng(8), 32, 2, 2, 16, 40, 1, f32, tied=True,
                    experts=(n_exp, k))
        try:
            R.forward(R.load_gguf(path), [1])
            check(False, "E=%d K=%d accepted" % (n_exp, k))
        except R.ReferenceError as e:
            check("expert_used_count" in str(e), "E=%d K=%d message: %s" % (n_exp, k, e))
    build_model(path, np.random.default_rng(8), 32, 2, 2, 16, 40, 1, f32, tied=True)
    g = R.load_gguf(path)
    g.metadata["llama.expert_count"], g.metadata["llama.expert_used_count"] = 2, 1
    try:
        R.forward(g, [1])
        check(False, "MoE metadata without expert tensors accepted")
    except R.ReferenceError as e:
        check("blk.0.ffn_gate_inp.weight" in str(e), "missing router message: %s" % e)


def test_window_cycle(tmp):
    def windows(value, n):
        return R._layer_windows(types.SimpleNamespace(metadata=value), n)

    key = "llama.attention.sliding_window"
    check(windows({}, 3) == [0, 0, 0], "no window key: full attention")
    check(windows({key: 5}, 3) == [5, 5, 5], "u32 window applies to every layer")
    check(windows({key: [2, 0, 5]}, 7) == [2, 0, 5, 2, 0, 5, 2], "window array cycles")
    check(windows({key: [4, 0, 0, 0, 9]}, 2) == [4, 0], "array longer than the layers")
    for bad in ([], [3, -1], 1.5, "4", [[2]]):
        try:
            windows({key: bad}, 2)
            check(False, "window %r accepted" % (bad,))
        except R.ReferenceError:
            pass

    f32 = dict(embd=0, q=0, k=0, v=0, o=0, gate=0, up=0, down=0, out=0)
    tokens = [1, 7, 3, 3, 39, 0, 11, 5, 9]
    path = os.path.join(tmp, "swa.gguf")
    W = build_model(path, np.random.default_rng(9), 32, 2, 1, 48, 40, 4, f32, tied=False,
                    window=[2, 0, 5])
    g = R.load_gguf(path)
    got = R.forward(g, tokens)
    args = (tokens, 32, 2, 1, 4, None, 10000.0)
    check(close(got, naive_forward(W, *args, [2, 0, 5, 2])), "cycled windows vs naive")
    check(not np.allclose(got, naive_forward(W, *args, [2, 0, 5, 0])),
          "the fourth layer takes the first window")
    check(close(R.forward(g, tokens, sliding_window=3), naive_forward(W, *args, 3)),
          "--sliding-window overrides every layer")
    check(close(R.forward(g, tokens, sliding_window=0), naive_forward(W, *args, 0)),
          "--sliding-window 0 gives full attention everywhere")


def test_cli(tmp, model):
    py = sys.executable
    out = os.path.join(tmp, "ref.bin")
    toks = "1,7,3,3,39"
    r = subprocess.run([py, os.path.join(HERE, "reference.py"), model, "--tokens", toks,
                        "--out", out], capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout == "", "reference.py exit %d: %s" % (r.returncode, r.stderr))
    ref = np.fromfile(out, dtype="<f4").reshape(5, 50)
    want = R.run_reference(model, [1, 7, 3, 3, 39]).astype(np.float32)
    check(np.array_equal(ref, want), "reference.py output file contents")

    def cmp(actual, *extra):
        return subprocess.run([py, os.path.join(HERE, "compare.py"), "--model", model,
                               "--tokens", toks, "--actual", actual] + list(extra),
                              capture_output=True, text=True).returncode

    check(cmp(out) == 0, "compare.py passes on reference output")
    bad = os.path.join(tmp, "bad.bin")
    pert = ref.copy()
    pert[2, 5] += 0.01 * ref.std()
    pert.tofile(bad)
    check(cmp(bad) == 1, "compare.py fails on perturbed logits")
    check(cmp(bad, "--tol-rel", "0.02") == 0, "compare.py honours --tol-rel")
    ref[:4].tofile(bad)
    check(cmp(bad) == 1, "compare.py fails on wrong shape")
    top2 = np.sort(ref, axis=1)[:, -2:]
    r = int(np.argmin(top2[:, 1] - top2[:, 0]))   # the row with the closest top two
    gap = float(top2[r, 1] - top2[r, 0])
    a, b = np.argsort(ref[r])[-2:]
    tie = ref.copy()
    tie[r, a], tie[r, b] = tie[r, b], tie[r, a]
    other = (r + 1) % 5
    tie[other, int(np.argmin(tie[other]))] -= 2 * gap   # raises the error above the gap
    tie.tofile(bad)
    check(cmp(bad, "--tol-rel", "100") == 0, "near-ties are ignored for top-1")
    flip = ref.copy()
    flip[r, b] -= 0.6 * gap                    # error 0.6*gap: row r still counts
    flip[r, a] += 0.6 * gap
    flip.tofile(bad)
    check(cmp(bad, "--tol-rel", "100") == 1, "top-1 disagreement fails")
    check(cmp(bad, "--tol-rel", "100", "--min-top1", "0.8") == 0,
          "min-top1 allows one miss in five")

    junk = os.path.join(tmp, "junk.gguf")
    with open(junk, "wb") as f:
        f.write(b"not a gguf file at all")
    r = subprocess.run([py, os.path.join(HERE, "reference.py"), junk, "--tokens", "1",
                        "--out", out], capture_output=True, text=True)
    check(r.returncode == 2 and "error" in r.stderr, "bad file exits 2")
    r = subprocess.run([py, os.path.join(HERE, "reference.py"), model, "--tokens", "1,50",
                        "--out", out], capture_output=True, text=True)
    check(r.returncode == 2, "out-of-range token exits 2")


def main():
    rng = np.random.default_rng(1234)
    with tempfile.TemporaryDirectory() as tmp:
        test_dequant_vs_scalar(rng)
        test_roundtrip(rng)
        test_k_known(rng)
        test_metadata(tmp, rng)
        test_vocab_file()
        model = test_forward(tmp, rng)
        test_cli(tmp, model)
        test_moe_hand()
        test_moe_forward(tmp)
        test_window_cycle(tmp)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("reference selftest: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
