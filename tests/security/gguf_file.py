"""A small GGUF reader and writer for building hostile model files: read a
valid file, change its metadata or tensor table, write it back, or write
headers by hand with any counts, lengths and offsets. Written from the GGUF
specification (ggml/docs/gguf.md), independently of src/formats."""
import struct

# Value types: struct format of the fixed-size ones.
FIXED = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
STRING, ARRAY = 8, 9


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        (v,) = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return v

    def string(self):
        n = self.take("Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s.decode("utf-8", "replace")

    def value(self, vtype):
        if vtype in FIXED:
            return self.take(FIXED[vtype])
        if vtype == STRING:
            return self.string()
        etype, n = self.take("I"), self.take("Q")
        return (etype, [self.value(etype) for _ in range(n)])


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def value(vtype, v):
    if vtype in FIXED:
        return struct.pack("<" + FIXED[vtype], v)
    if vtype == STRING:
        return string(v)
    etype, items = v
    return struct.pack("<IQ", etype, len(items)) + b"".join(value(etype, x) for x in items)


class Gguf:
    """kv: {key: (type, value)}; tensors: [[name, dims, ggml_type, offset]];
    blob: the tensor data section."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        r = Reader(data)
        assert r.take("I") == 0x46554747, "not GGUF"
        self.version = r.take("I")
        n_tensors, n_kv = r.take("Q"), r.take("Q")
        self.kv = {}
        for _ in range(n_kv):
            key = r.string()
            vtype = r.take("I")
            self.kv[key] = (vtype, r.value(vtype))
        self.tensors = []
        for _ in range(n_tensors):
            name = r.string()
            dims = [r.take("Q") for _ in range(r.take("I"))]
            self.tensors.append([name, dims, r.take("I"), r.take("Q")])
        self.alignment = self.kv.get("general.alignment", (4, 32))[1]
        start = -(-r.pos // self.alignment) * self.alignment
        self.blob = data[start:]

    def header(self):
        out = struct.pack("<IIQQ", 0x46554747, self.version, len(self.tensors), len(self.kv))
        for key, (vtype, v) in self.kv.items():
            out += string(key) + struct.pack("<I", vtype) + value(vtype, v)
        for name, dims, ttype, offset in self.tensors:
            out += string(name) + struct.pack("<I", len(dims))
            out += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ttype, offset)
        return out

    def write(self, path):
        head = self.header()
        pad = -len(head) % self.alignment
        with open(path, "wb") as f:
            f.write(head + b"\0" * pad + self.blob)
