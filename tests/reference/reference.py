#!/usr/bin/python3
"""Independent float64 NumPy reference for the Llama/Mistral/Mixtral forward pass.

Usage:
  reference.py MODEL.gguf --tokens 1,415,2936 [--sliding-window N] [--embedding] --out F.bin

Writes float32 little-endian logits, shape [n_tokens][n_vocab], no header;
with --embedding the mean of the final normed hidden states, L2-normalized,
shape [dim].
Only the standard library and numpy are used, so the oracle shares no code
with the engine it checks.
"""

import argparse
import struct
import sys

import numpy as np


class ReferenceError(Exception):
    """Bad input: reported on stderr with exit status 2."""


# ---------------------------------------------------------------- GGUF parsing

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# value type -> struct format for the scalar types
_SCALAR_FMT = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
    7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
_SCALAR_NP = {
    0: "<u1", 1: "<i1", 2: "<u2", 3: "<i2", 4: "<u4", 5: "<i4", 6: "<f4",
    7: "<u1", 10: "<u8", 11: "<i8", 12: "<f8",
}
T_STRING, T_ARRAY, T_BOOL = 8, 9, 7


class _Cursor:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def need(self, n):
        if n < 0 or self.pos + n > len(self.buf):
            raise ReferenceError("truncated GGUF header at byte %d" % self.pos)

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        self.need(size)
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += size
        return v

    def string(self):
        n = self.unpack("<Q")
        self.need(n)
        raw = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        # Token texts may hold invalid UTF-8 (byte tokens); keep them lossless.
        return raw.decode("utf-8", errors="surrogateescape")

    def value(self, vtype):
        if vtype in _SCALAR_FMT:
            return self.unpack(_SCALAR_FMT[vtype])
        if vtype == T_STRING:
            return self.string()
        if vtype == T_ARRAY:
            etype = self.unpack("<I")
            count = self.unpack("<Q")
            if etype in _SCALAR_NP:
                dt = np.dtype(_SCALAR_NP[etype])
                self.need(count * dt.itemsize)
                arr = np.frombuffer(self.buf, dtype=dt, count=count, offset=self.pos)
                self.pos += count * dt.itemsize
                return arr.astype(bool).tolist() if etype == T_BOOL else arr.tolist()
            if etype in (T_STRING, T_ARRAY):
                # Each element needs at least 8 bytes: rejects absurd counts early.
                self.need(min(count, len(self.buf)) * 8)
                return [self.value(etype) for _ in range(count)]
            raise ReferenceError("unknown GGUF array element type %d" % etype)
        raise ReferenceError("unknown GGUF value type %d" % vtype)


# ggml type id -> (name, elements per block, bytes per block)
GGML_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    30: ("BF16", 1, 2),
}


class TensorInfo:
    def __init__(self, name, dims, ggml_type, offset):
        self.name = name
        self.dims = dims          # dims[0] varies fastest (row length)
        self.ggml_type = ggml_type
        self.offset = offset      # relative to the data section
        self.n_elements = int(np.prod(dims, dtype=np.int64)) if dims else 1

    def nbytes(self):
        _, blk, size = GGML_TYPES[self.ggml_type]
        return self.n_elements // blk * size


class GGUFFile:
    def __init__(self, path):
        self.path = path
        try:
            self.mm = np.memmap(path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as e:
            raise ReferenceError("cannot map %s: %s" % (path, e))
        cur = _Cursor(self.mm)
        cur.need(4)
        if bytes(self.mm[:4]) != GGUF_MAGIC:
            raise ReferenceError("%s: not a GGUF file (bad magic)" % path)
        cur.pos = 4
        self.version = cur.unpack("<I")
        if self.version not in (2, 3):
            raise ReferenceError("unsupported GGUF version %d" % self.version)
        n_tensors = cur.unpack("<Q")
        n_kv = cur.unpack("<Q")
        self.metadata = {}
        for _ in range(n_kv):
            key = cur.string()
            self.metadata[key] = cur.value(cur.unpack("<I"))
        self.tensors = {}
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.unpack("<I")
            if n_dims > 4:
                raise ReferenceError("tensor %s has %d dims" % (name, n_dims))
            dims = [cur.unpack("<Q") for _ in range(n_dims)]
            ggml_type = cur.unpack("<I")
            offset = cur.unpack("<Q")
            if ggml_type not in GGML_TYPES:
                raise ReferenceError("tensor %s: unsupported ggml type %d" % (name, ggml_type))
            info = TensorInfo(name, dims, ggml_type, offset)
            blk = GGML_TYPES[ggml_type][1]
            if dims and dims[0] % blk != 0:
                raise ReferenceError("tensor %s: row length %d not a multiple of %d"
                                     % (name, dims[0], blk))
            if name in self.tensors:
                raise ReferenceError("duplicate tensor %s" % name)
            self.tensors[name] = info
        align = self.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        if not isinstance(align, int) or align <= 0 or align & (align - 1):
            raise ReferenceError("bad general.alignment %r" % (align,))
        self.data_start = (cur.pos + align - 1) // align * align
        for t in self.tensors.values():
            end = self.data_start + t.offset + t.nbytes()
            if end > len(self.mm):
                raise ReferenceError("tensor %s extends past end of file" % t.name)

    def raw(self, name):
        t = self.tensors[name]
        start = self.data_start + t.offset
        return self.mm[start:start + t.nbytes()]

    def tensor(self, name):
        """Dequantized float64 array in numpy order (reversed ggml dims)."""
        t = self.tensors[name]
        flat = dequantize(self.raw(name), t.ggml_type, t.n_elements)
        return flat.reshape(tuple(reversed(t.dims)) if t.dims else ())

    def slice3(self, name, index):
        """Matrix `index` along ne2 of a 3-d tensor, (ne1, ne0) float64. Slices
        are whole rows, so each one starts on a block boundary."""
        t = self.tensors[name]
        if len(t.dims) != 3 or not 0 <= index < t.dims[2]:
            raise ReferenceError("tensor %s (dims %s) has no slice %d" % (name, t.dims, index))
        per = t.nbytes() // t.dims[2]
        raw = self.raw(name)[index * per:(index + 1) * per]
        rows, cols = t.dims[1], t.dims[0]
        return dequantize(raw, t.ggml_type, rows * cols).reshape(rows, cols)


def load_gguf(path):
    return GGUFFile(path)


# ---------------------------------------------------------------- dequantizers

def _f16(blocks, col):
    """fp16 field at byte column col of each block -> float64 column vector."""
    return np.ascontiguousarray(blocks[:, col:col + 2]).view("<f2").astype(np.float64)


def _u32(blocks, col):
    return np.ascontiguousarray(blocks[:, col:col + 4]).view("<u4")


def _nibbles(qs):
    """Low nibbles are elements 0..15, high nibbles elements 16..31 of a 32-block."""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int16)


def _bits32(qh):
    """Bit e of the u32 is the fifth bit of element e."""
    return ((qh >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int16)


def _deq_q4_0(b):
    return _f16(b, 0) * (_nibbles(b[:, 2:18]) - 8)


def _deq_q4_1(b):
    return _f16(b, 0) * _nibbles(b[:, 4:20]) + _f16(b, 2)


def _deq_q5_0(b):
    q = _nibbles(b[:, 6:22]) | (_bits32(_u32(b, 2)) << 4)
    return _f16(b, 0) * (q - 16)


def _deq_q5_1(b):
    q = _nibbles(b[:, 8:24]) | (_bits32(_u32(b, 4)) << 4)
    return _f16(b, 0) * q + _f16(b, 2)


def _deq_q8_0(b):
    return _f16(b, 0) * np.ascontiguousarray(b[:, 2:34]).view(np.int8)


def _k_scales_mins(s):
    """Unpack the 12-byte 6-bit scale/min field of Q4_K/Q5_K into 8 + 8 values."""
    sc = np.empty((s.shape[0], 8), dtype=np.uint8)
    mn = np.empty_like(sc)
    sc[:, 0:4] = s[:, 0:4] & 63
    mn[:, 0:4] = s[:, 4:8] & 63
    sc[:, 4:8] = (s[:, 8:12] & 0x0F) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:8] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc, mn


def _k_low_nibbles(qs):
    """128 bytes -> (8, 32) 4-bit values: 32-byte chunk c gives sub-block 2c (low
    nibbles) and 2c+1 (high nibbles)."""
    q = qs.reshape(-1, 4, 1, 32)
    return np.concatenate([q & 0x0F, q >> 4], axis=2).reshape(-1, 8, 32)


def _k_apply(b, q):
    """x = d*sc*q - dmin*m per 32-element sub-block; q: (nb, 8, 32)."""
    d, dmin = _f16(b, 0), _f16(b, 2)
    sc, mn = _k_scales_mins(b[:, 4:16])
    y = (d * sc)[:, :, None] * q - (dmin * mn)[:, :, None]
    return y.reshape(-1, 256)


def _deq_q4_k(b):
    return _k_apply(b, _k_low_nibbles(b[:, 16:144]))


def _deq_q5_k(b):
    qh = b[:, 16:48]
    # Sub-block j (32 values) takes its fifth bit from bit j of qh[l].
    high = (qh[:, None, :] >> np.arange(8, dtype=np.uint8)[None, :, None]) & 1
    return _k_apply(b, _k_low_nibbles(b[:, 48:176]) | (high << 4))


def _deq_q6_k(b):
    ql = b[:, 0:128].reshape(-1, 2, 64)
    qh = b[:, 128:192].reshape(-1, 2, 32)
    sc = np.ascontiguousarray(b[:, 192:208]).view(np.int8)
    d = _f16(b, 208)
    lo, hi = ql[:, :, 0:32], ql[:, :, 32:64]
    q = np.concatenate([
        (lo & 0x0F) | ((qh & 3) << 4),
        (hi & 0x0F) | (((qh >> 2) & 3) << 4),
        (lo >> 4) | (((qh >> 4) & 3) << 4),
        (hi >> 4) | (((qh >> 6) & 3) << 4),
    ], axis=2).reshape(-1, 16, 16).astype(np.int16) - 32
    # One int8 scale per 16 consecutive outputs.
    return ((d * sc)[:, :, None] * q).reshape(-1, 256)


_BLOCK_DEQ = {
    2: _deq_q4_0, 3: _deq_q4_1, 6: _deq_q5_0, 7: _deq_q5_1, 8: _deq_q8_0,
    12: _deq_q4_k, 13: _deq_q5_k, 14: _deq_q6_k,
}


def dequantize(raw, ggml_type, n_elements):
    """raw uint8 bytes of a tensor -> flat float64 array of n_elements."""
    if ggml_type not in GGML_TYPES:
        raise ReferenceError("unsupported ggml type %d" % ggml_type)
    _, blk, size = GGML_TYPES[ggml_type]
    if n_elements % blk != 0:
        raise ReferenceError("element count %d not a multiple of block %d" % (n_elements, blk))
    nbytes = n_elements // blk * size
    raw = np.asarray(raw, dtype=np.uint8).reshape(-1)
    if raw.size != nbytes:
        raise ReferenceError("expected %d bytes, got %d" % (nbytes, raw.size))
    if ggml_type == 0:
        return np.frombuffer(raw.tobytes(), dtype="<f4").astype(np.float64)
    if ggml_type == 1:
        return np.frombuffer(raw.tobytes(), dtype="<f2").astype(np.float64)
    if ggml_type == 30:
        bits = np.frombuffer(raw.tobytes(), dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).astype(np.float64)
    blocks = raw.reshape(-1, size)
    return _BLOCK_DEQ[ggml_type](blocks).reshape(-1)


# ---------------------------------------------------------------- model

class Config:
    pass


def _meta(g, key, default=None):
    if key in g.metadata:
        v = g.metadata[key]
        if isinstance(v, list):
            # Per-layer arrays are accepted only when uniform.
            if not v or any(e != v[0] for e in v):
                raise ReferenceError("per-layer values for %s not supported" % key)
            v = v[0]
        return v
    if default is not None:
        return default
    raise ReferenceError("missing metadata key %s" % key)


def read_config(g):
    arch = g.metadata.get("general.architecture")
    if arch != "llama":
        raise ReferenceError("unsupported architecture %r (want 'llama')" % (arch,))
    c = Config()
    c.dim = int(_meta(g, "llama.embedding_length"))
    c.n_layers = int(_meta(g, "llama.block_count"))
    c.ffn = int(_meta(g, "llama.feed_forward_length"))
    c.n_heads = int(_meta(g, "llama.attention.head_count"))
    c.n_kv = int(_meta(g, "llama.attention.head_count_kv", c.n_heads))
    c.eps = float(_meta(g, "llama.attention.layer_norm_rms_epsilon"))
    c.freq_base = float(_meta(g, "llama.rope.freq_base", 10000.0))
    if c.n_heads <= 0 or c.dim % c.n_heads:
        raise ReferenceError("dim %d not divisible by head_count %d" % (c.dim, c.n_heads))
    c.head_dim = c.dim // c.n_heads
    c.rope_dims = int(_meta(g, "llama.rope.dimension_count", c.head_dim))
    c.windows = _layer_windows(g, c.n_layers)
    if c.n_kv <= 0 or c.n_heads % c.n_kv:
        raise ReferenceError("head_count %d not a multiple of head_count_kv %d"
                             % (c.n_heads, c.n_kv))
    if c.rope_dims % 2 or c.rope_dims > c.head_dim:
        raise ReferenceError("bad rope dimension_count %d" % c.rope_dims)
    # Refuse features this oracle does not model rather than give wrong answers.
    stype = g.metadata.get("llama.rope.scaling.type", "none")
    sfactor = g.metadata.get("llama.rope.scaling.factor", 1.0)
    if stype not in ("none", "") and float(sfactor) != 1.0:
        raise ReferenceError("rope scaling %r not supported" % (stype,))
    if "rope_freqs.weight" in g.tensors:
        raise ReferenceError("rope_freqs.weight (frequency factors) not supported")
    c.n_expert = int(_meta(g, "llama.expert_count", 0))
    c.n_expert_used = int(_meta(g, "llama.expert_used_count", 0)) if c.n_expert else 0
    if c.n_expert < 0 or (c.n_expert and not 1 <= c.n_expert_used <= c.n_expert):
        raise ReferenceError("llama.expert_used_count %d must be in [1, llama.expert_count %d]"
                             % (c.n_expert_used, c.n_expert))
    return c


def _layer_windows(g, n_layers):
    """Sliding window of every layer: a u32 for all layers or a u32 array cycled
    over them (layer i uses array[i % len]); 0 = full attention."""
    key = "llama.attention.sliding_window"
    value = g.metadata.get(key, 0)
    cycle = value if isinstance(value, list) else [value]
    if not cycle or any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in cycle):
        raise ReferenceError("bad %s %r (want a u32 or a non-empty u32 array)" % (key, value))
    return [int(cycle[i % len(cycle)]) for i in range(n_layers)]


def _weight(g, name, shape):
    if name not in g.tensors:
        raise ReferenceError("missing tensor %s" % name)
    w = g.tensor(name)
    if w.shape != shape:
        raise ReferenceError("tensor %s has shape %s, want %s (numpy order)"
                             % (name, w.shape, shape))
    return w


def rmsnorm(x, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def rope(x, positions, rope_dims, freq_base):
    """Adjacent-pair rotation of the first rope_dims of each head. x: (n, heads, hd)."""
    half = rope_dims // 2
    inv = freq_base ** (-2.0 * np.arange(half, dtype=np.float64) / rope_dims)
    theta = positions[:, None].astype(np.float64) * inv[None, :]    # (n, half)
    cos, sin = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
    out = x.copy()
    x0 = x[:, :, 0:rope_dims:2]
    x1 = x[:, :, 1:rope_dims:2]
    out[:, :, 0:rope_dims:2] = x0 * cos - x1 * sin
    out[:, :, 1:rope_dims:2] = x0 * sin + x1 * cos
    return out


def attention_mask(n, window):
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    allowed = j <= i
    if window and window > 0:
        allowed &= j > i - window
    return allowed


def attention(q, k, v, window):
    """q: (n, H, hd); k, v: (n, KV, hd). Returns (n, H*hd)."""
    n, n_heads, hd = q.shape
    n_kv = k.shape[1]
    group = n_heads // n_kv
    kv_of_head = np.arange(n_heads) // group
    kh = k[:, kv_of_head, :]                                        # (n, H, hd)
    vh = v[:, kv_of_head, :]
    scores = np.einsum("ihd,jhd->hij", q, kh) / np.sqrt(hd)         # (H, n, n)
    scores = np.where(attention_mask(n, window)[None], scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    out = np.einsum("hij,jhd->ihd", p, vh)
    return out.reshape(n, n_heads * hd)


def silu(x):
    with np.errstate(over="ignore"):          # exp(-x) = inf gives the right -0
        return x / (1.0 + np.exp(-x))


def route(logits, k):
    """Top-k experts of each token and their weights, softmax over those k logits
    only (equal to Mixtral's softmax over all experts renormalized over the
    chosen ones). Ties go to the lower expert index. logits: (n, E) ->
    (experts (n, k), weights (n, k))."""
    experts = np.argsort(-logits, axis=-1, kind="stable")[:, :k]
    top = np.take_along_axis(logits, experts, axis=-1)
    w = np.exp(top - top.max(axis=-1, keepdims=True))
    return experts, w / w.sum(axis=-1, keepdims=True)


def moe_ffn(m, gate_inp, expert, k):
    """Sparse mixture-of-experts SwiGLU. m: (n, dim) ffn-normed states;
    gate_inp: (E, dim) router; expert(e) -> (wg (ffn, dim), wu (ffn, dim),
    wd (dim, ffn)). Returns (n, dim)."""
    experts, weights = route(m @ gate_inp.T, k)
    out = np.zeros_like(m)
    for e in np.unique(experts):
        rows, slot = np.nonzero(experts == e)      # a token picks an expert at most once
        wg, wu, wd = expert(int(e))
        a = m[rows]
        out[rows] += weights[rows, slot][:, None] * ((silu(a @ wg.T) * (a @ wu.T)) @ wd.T)
    return out


def _expert_tensors(g, p, c):
    """Validated shapes of a layer's expert tensors and a loader of expert e.
    Experts are dequantized one at a time, only when some token picks them."""
    want = {"ffn_gate_exps.weight": [c.dim, c.ffn, c.n_expert],
            "ffn_up_exps.weight": [c.dim, c.ffn, c.n_expert],
            "ffn_down_exps.weight": [c.ffn, c.dim, c.n_expert]}
    for suffix, dims in want.items():
        name = p + suffix
        if name not in g.tensors:
            raise ReferenceError("missing tensor %s" % name)
        if g.tensors[name].dims != dims:
            raise ReferenceError("tensor %s has dims %s, want %s (ggml order)"
                                 % (name, g.tensors[name].dims, dims))
    return lambda e: tuple(g.slice3(p + s, e) for s in want)


def _ffn(g, p, c, m):
    """Feed-forward block on the ffn-normed states m: dense SwiGLU or MoE."""
    if c.n_expert:
        gate_inp = _weight(g, p + "ffn_gate_inp.weight", (c.n_expert, c.dim))
        return moe_ffn(m, gate_inp, _expert_tensors(g, p, c), c.n_expert_used)
    wg = _weight(g, p + "ffn_gate.weight", (c.ffn, c.dim))
    wu = _weight(g, p + "ffn_up.weight", (c.ffn, c.dim))
    wd = _weight(g, p + "ffn_down.weight", (c.dim, c.ffn))
    return (silu(m @ wg.T) * (m @ wu.T)) @ wd.T


def _bias(g, name, size):
    if name not in g.tensors:
        return 0.0
    return _weight(g, name, (size,))


def forward(g, tokens, sliding_window=None):
    """float64 logits of shape (len(tokens), n_vocab)."""
    hidden, w_out = _final_states(g, tokens, sliding_window)
    return hidden @ w_out.T


def hidden_states(g, tokens, sliding_window=None):
    """float64 final hidden states after the output norm, (len(tokens), dim)."""
    return _final_states(g, tokens, sliding_window)[0]


def embedding(g, tokens, sliding_window=None):
    """Mean over the tokens of the final normed hidden states, L2-normalized, (dim,)."""
    mean = hidden_states(g, tokens, sliding_window).mean(axis=0)
    norm = np.linalg.norm(mean)
    return mean / norm if norm > 0 else mean


def _final_states(g, tokens, sliding_window):
    """(rmsnorm(x) * output_norm for every token, the output matrix)."""
    c = read_config(g)
    windows = c.windows if sliding_window is None else [int(sliding_window)] * c.n_layers
    if "token_embd.weight" not in g.tensors:
        raise ReferenceError("missing tensor token_embd.weight")
    emb_dims = g.tensors["token_embd.weight"].dims
    if len(emb_dims) != 2 or emb_dims[0] != c.dim:
        raise ReferenceError("token_embd.weight has dims %s" % (emb_dims,))
    n_vocab = int(emb_dims[1])
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 1 or tokens.size == 0:
        raise ReferenceError("need at least one token")
    if tokens.min() < 0 or tokens.max() >= n_vocab:
        raise ReferenceError("token id out of range [0, %d)" % n_vocab)

    emb = g.tensor("token_embd.weight")
    x = emb[tokens]
    n = tokens.size
    pos = np.arange(n)
    kv_dim = c.n_kv * c.head_dim
    for i in range(c.n_layers):
        p = "blk.%d." % i
        attn_norm = _weight(g, p + "attn_norm.weight", (c.dim,))
        wq = _weight(g, p + "attn_q.weight", (c.dim, c.dim))
        wk = _weight(g, p + "attn_k.weight", (kv_dim, c.dim))
        wv = _weight(g, p + "attn_v.weight", (kv_dim, c.dim))
        wo = _weight(g, p + "attn_output.weight", (c.dim, c.dim))
        h_in = rmsnorm(x, c.eps) * attn_norm
        q = (h_in @ wq.T + _bias(g, p + "attn_q.bias", c.dim)).reshape(n, c.n_heads, c.head_dim)
        k = (h_in @ wk.T + _bias(g, p + "attn_k.bias", kv_dim)).reshape(n, c.n_kv, c.head_dim)
        v = (h_in @ wv.T + _bias(g, p + "attn_v.bias", kv_dim)).reshape(n, c.n_kv, c.head_dim)
        q = rope(q, pos, c.rope_dims, c.freq_base)
        k = rope(k, pos, c.rope_dims, c.freq_base)
        a = attention(q, k, v, windows[i])
        h = x + a @ wo.T + _bias(g, p + "attn_output.bias", c.dim)

        ffn_norm = _weight(g, p + "ffn_norm.weight", (c.dim,))
        x = h + _ffn(g, p, c, rmsnorm(h, c.eps) * ffn_norm)

    out_norm = _weight(g, "output_norm.weight", (c.dim,))
    if "output.weight" in g.tensors:
        w_out = _weight(g, "output.weight", (n_vocab, c.dim))
    else:
        w_out = emb                                     # tied embeddings
    return rmsnorm(x, c.eps) * out_norm, w_out


def run_reference(model_path, tokens, sliding_window=None):
    return forward(load_gguf(model_path), tokens, sliding_window)


def run_embedding(model_path, tokens, sliding_window=None):
    return embedding(load_gguf(model_path), tokens, sliding_window)


def parse_tokens(text):
    try:
        toks = [int(t) for t in text.split(",") if t.strip() != ""]
    except ValueError:
        raise ReferenceError("bad --tokens %r (want comma-separated ids)" % text)
    if not toks:
        raise ReferenceError("--tokens is empty")
    return toks


def main(argv=None):
    ap = argparse.ArgumentParser(description="float64 reference logits for a llama GGUF")
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--sliding-window", type=int, default=None,
                    help="override llama.attention.sliding_window for every layer (0 = none)")
    ap.add_argument("--out", required=True, help="output file: float32 [n_tokens][n_vocab]")
    ap.add_argument("--embedding", action="store_true",
                    help="write the embedding instead: float32 [dim]")
    args = ap.parse_args(argv)
    try:
        tokens = parse_tokens(args.tokens)
        run = run_embedding if args.embedding else run_reference
        out = run(args.model, tokens, args.sliding_window)
        out.astype("<f4").tofile(args.out)
    except (ReferenceError, OSError) as e:
        print("reference: error: %s" % e, file=sys.stderr)
        return 2
    except (ValueError, TypeError) as e:
        print("reference: error: malformed model: %s" % e, file=sys.stderr)
        return 2
    print("reference: %d tokens -> %s %s" % (len(tokens), "x".join(map(str, out.shape)), args.out),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
