#!/usr/bin/env python3
"""An independent verifier of failback evidence bundles, written from docs/evidence-bundle.md
(standard library only; Ed25519 verification written from RFC 8032 §5.1.7): a second
implementation that must agree with `failback evidence verify`.

usage: verify-bundle.py BUNDLE.tar.gz [--pubkey PEM|sha256:HEX]... [--allow-unpinned]
       verify-bundle.py --proof PROOF.json [--pubkey PEM|sha256:HEX]... [--allow-unpinned]

Each --pubkey pins a key the signature must be by (a PEM public key file, or its fingerprint:
sha256: and the hex SHA-256 of its DER SubjectPublicKeyInfo). Exit 0 when everything holds and the
signer is pinned (or with --allow-unpinned: integrity only, and it says so), 1 when anything does
not hold, 3 when everything holds but the evidence is unsigned or signed by a key not pinned, 64
for a wrong command line, 65 when the file is not a readable bundle or proof.

Reads the archive as a stream (nothing is extracted), refusing links, devices, directories,
absolute paths and `..`. Checks SHA256SUMS, the Ed25519 signature over it, manifest.json, the
events (canonical JSON, one drill, drill_seq 1..n, the hash chain), the RFC 9162 Merkle root,
the C2SP checkpoint and its signature, and every audit path the controls index cites. Prints
"ok" lines; exits 1 naming every problem, 65 when the file is not a readable bundle.
"""
import base64
import hashlib
import importlib.util
import json
import os
import re
import stat
import sys
import zlib

# The RFC 8785 writer of the log verifier (the same spec: docs/log-format.md).
_spec = importlib.util.spec_from_file_location("verify_log", os.path.join(os.path.dirname(os.path.abspath(__file__)), "verify-log.py"))
verify_log = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify_log)
jcs, no_duplicates = verify_log.jcs, verify_log.no_duplicates

# Files kept whole, each up to its bound; a line of events.jsonl up to 16 MiB; at most 30,000
# files (docs/evidence-bundle.md §4, step 1). Past a bound the bundle is refused unread.
KEPT = {"manifest.json": 8 << 20, "SHA256SUMS": 8 << 20, "runbook.json": 8 << 20, "checkpoint": 64 << 10, "SHA256SUMS.sig": 64 << 10, "public-key.pem": 64 << 10}
MAX_LINE = 16 << 20
MAX_LINE_VALUES = 1 << 18
MAX_FILES = 30000
# A string, unrolled (a group repeated per character costs the regular expression engine ~100
# bytes a character: 2 GB for a 16 MiB string).
STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
SCALAR = re.compile(rb'[^\[\]{},:" \t\n\r\x0b\x0c]+')


def json_value_count(line):
    """The JSON values of a line, counted by tokens without parsing (the Swift verifier's
    jsonValueCount): each string that is not a member name, each object and array, and each run of
    other bytes between {}[],:, quotes and white space (a number or a literal)."""
    stripped, strings = STRING.subn(b'"', line)
    stripped, scalars = SCALAR.subn(b"", stripped)
    # Each string left a lone quote; an unterminated one left its own, counted by neither.
    return strings + scalars + stripped.count(b"{") + stripped.count(b"[") - stripped.count(b":")


def json_integer(v):
    """A JSON number that is an integer (31 or 31.0: JSON has one number type), else a TypeError
    (true is no number, though Python's bool is an int)."""
    if type(v) is int or (type(v) is float and v.is_integer()):
        return int(v)
    raise TypeError(f"{v!r} is not an integer")


def byte_size(n):
    """`16 MiB`, `64 KiB` (as the Swift verifier writes a bound)."""
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n >> 10} KiB" if n >= 1 << 10 and n % (1 << 10) == 0 else f"{n} bytes"

# ---- Ed25519 verification (RFC 8032 §5.1) ----
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = t1 * 2 * D * t2 % P
    Dd = z1 * 2 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        if sign:
            return None
        x = 0
    else:
        x = pow(x2, (P + 3) // 8, P)
        if (x * x - x2) % P != 0:
            x = x * SQRT_M1 % P
        if (x * x - x2) % P != 0:
            return None
        if (x & 1) != sign:
            x = P - x
    return (x, y, 1, x * y % P)


GY = 4 * pow(5, P - 2, P) % P
G = _decompress(GY.to_bytes(32, "little"))


def ed25519_verify(public, message, signature):
    if len(signature) != 64:
        return False
    A = _decompress(public)
    R = _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if A is None or R is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _equal(_mul(s, G), _add(R, _mul(k, A)))


def b64(text):
    """Canonical padded base64 (RFC 4648: what encoding the bytes gives back), or None: what a
    bundle or proof holds is not trusted to be well formed."""
    try:
        decoded = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return decoded if base64.b64encode(decoded).decode() == text else None


def hash32(text):
    """A SHA-256 hash written in lowercase hex (64 digits, nothing else; bytes.fromhex alone skips
    spaces and takes capitals)."""
    if not isinstance(text, str) or len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{text!r} is not a SHA-256 hash in hex")
    return bytes.fromhex(text)


def pem_public_key(pem):
    """The 32 raw bytes of the Ed25519 public key of an RFC 7468 PUBLIC KEY block, by the rule the
    Swift verifier shares (docs/evidence-bundle.md §4); ValueError for anything else. The bytes are
    UTF-8; of the lines (split at line feeds, spaces, tabs and carriage returns trimmed), those
    between the first BEGIN line and the END line after it are canonical padded base64 of the
    SubjectPublicKeyInfo (RFC 8410: a fixed 12-byte prefix, then the key)."""
    lines = [line.strip(" \t\r") for line in pem.decode().split("\n")]
    if "-----BEGIN PUBLIC KEY-----" not in lines:
        raise ValueError("no -----BEGIN PUBLIC KEY----- line")
    begin = lines.index("-----BEGIN PUBLIC KEY-----")
    if "-----END PUBLIC KEY-----" not in lines[begin:]:
        raise ValueError("no -----END PUBLIC KEY----- line")
    der = b64("".join(lines[begin + 1:lines.index("-----END PUBLIC KEY-----", begin)])) or b""
    prefix = bytes.fromhex("302a300506032b6570032100")
    if len(der) != 44 or not der.startswith(prefix):
        raise ValueError("not an Ed25519 public key")
    if not acceptable_public_key(der[12:]):
        raise ValueError("not an acceptable Ed25519 public key (not canonical, or of small order: no one holds its private key)")
    return der[12:]


# The y coordinates of the eight points of small order (identity, order 2, 4 and 8): a "public key"
# there has no private key, and a signature by it can verify any message.
SMALL_ORDER_Y = {0, 1, P - 1,
                 int.from_bytes(bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), "little"),
                 int.from_bytes(bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), "little")}


def acceptable_public_key(raw):
    """y below p (canonical) and not a point of small order (docs/evidence-bundle.md §4, step 3)."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    return len(raw) == 32 and y < P and y not in SMALL_ORDER_Y


_print = print


def print(*args, **kwargs):  # noqa: A001 -- every line this verifier prints is terminal-safe
    """Prints with control characters and bidi overrides escaped (`\\n`, `\\u{1b}`), as the Swift
    verifier does: a tar entry's name must not be able to move the cursor or colour a line."""
    _print(*(safe(str(a)) for a in args), **kwargs)


def safe(text):
    out = []
    for ch in text:
        o = ord(ch)
        if o < 0x20 or 0x7F <= o < 0xA0 or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, "\\u{%x}" % o))
        else:
            out.append(ch)
    return "".join(out)


def not_json(constant):
    """NaN and Infinity: Python's json reads them, JSON has none."""
    raise ValueError(f"{constant} is not JSON")


def fingerprint(public):
    """A key's fingerprint: sha256: and the hex SHA-256 of its DER SubjectPublicKeyInfo (what
    `openssl pkey -pubin -in KEY.pem -outform DER | sha256sum` prints)."""
    return "sha256:" + hashlib.sha256(bytes.fromhex("302a300506032b6570032100") + public).hexdigest()


FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
KEY_NAME = re.compile(r"[^ +\n\r\t]+")


def trust_verdict(signer, pinned, allow_unpinned):
    """The last line for a signer (None: unsigned) once everything else held, and whether it is a
    full verdict (docs/evidence-bundle.md §4, step 3)."""
    if signer is not None and signer in pinned:
        return f"ok: signed by the trusted key {signer} ({pinned[signer]})", True
    if signer is not None and allow_unpinned:
        return f"INTEGRITY ONLY: signed by an unpinned key {signer}; no trusted key checked (--allow-unpinned)", True
    if signer is not None:
        return f"UNPINNED: signed by an unpinned key {signer}; compare it with the signer's out of band, then pass --pubkey", False
    if allow_unpinned:
        return "INTEGRITY ONLY: UNSIGNED: no signature, so nothing says who made it (--allow-unpinned)", True
    return "UNSIGNED: no signature, so nothing says who made it (exported without --key)", False


# ---- RFC 9162 Merkle tree ----
def leaf_hash(b):
    return hashlib.sha256(b"\x00" + b).digest()


def node_hash(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


class MerkleRoot:
    """The RFC 9162 root of leaves appended one at a time, in O(log n) memory: the roots of the
    perfect subtrees the leaves so far make (largest first), joined right to left at the end."""

    def __init__(self):
        self.count, self.stack = 0, []  # [(size, hash)]

    def append(self, leaf):
        self.count += 1
        size, h = 1, leaf
        while self.stack and self.stack[-1][0] == size:
            left = self.stack.pop()[1]
            size, h = size * 2, node_hash(left, h)
        self.stack.append((size, h))

    def root(self):
        if not self.stack:
            return hashlib.sha256(b"").digest()
        h = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            h = node_hash(left, h)
        return h


def verify_inclusion(index, size, leaf, path, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def read_key(path):
    """A PEM key file: a regular file of at most 64 KiB (the Swift verifier's bound for a key)."""
    with open_regular(path) as f:
        data = f.read((64 << 10) + 1)
    if len(data) > 64 << 10:
        raise ValueError("over the limit of 64 KiB")
    return pem_public_key(data)


def open_regular(path):
    """The file at `path` opened for reading if it is a regular file; a FIFO, a device or a folder
    is refused before anything is read (O_NONBLOCK: opening a FIFO does not wait for a writer)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kinds = [(stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")]
        raise ValueError(f"is {next((k for test, k in kinds if test(mode)), 'of an unknown type')}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def gzip_member(path):
    """The decompressed bytes of a bundle, in pieces of at most 256 KiB (a few KB of gzip can
    inflate to hundreds of MB): exactly one gzip member (RFC 1952), CRC and length checked, and
    nothing after it (the Swift verifier's rule)."""
    inflater = zlib.decompressobj(31)
    with open_regular(path) as f:
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            if inflater.eof:
                raise ValueError("data after the end of the gzip stream")
            while chunk:
                try:
                    out = inflater.decompress(chunk, 1 << 18)
                except zlib.error as e:
                    raise ValueError(f"not gzip data, or corrupt ({e})")
                if inflater.unused_data:
                    raise ValueError("data after the end of the gzip stream")
                if out:
                    yield out
                chunk = inflater.unconsumed_tail
    if not inflater.eof:
        raise ValueError("the archive ends early (truncated?)")


class PlainStream:
    """Reads exact lengths from pieces of bytes (a position into a buffer, compacted now and then)."""

    def __init__(self, pieces):
        self.pieces, self.buffer, self.position = pieces, bytearray(), 0

    def read(self, n):
        while len(self.buffer) - self.position < n:
            piece = next(self.pieces, None)
            if piece is None:
                break
            if self.position > (1 << 20):
                del self.buffer[:self.position]
                self.position = 0
            self.buffer += piece
        out = bytes(self.buffer[self.position:self.position + n])
        self.position += len(out)
        return out

    def drain(self):
        for _ in self.pieces:
            pass


def ustar_header(h):
    """(path, size) of a 512-byte ustar header, by the Swift verifier's TarReader rules: the
    checksum unsigned, numbers octal digits (spaces ignored, empty is 0), regular files only, no
    absolute path and no `..`."""
    def text(a, b):
        return h[a:b].split(b"\0", 1)[0].decode("utf-8", errors="replace")

    def number(a, b):
        # As GNU tar reads one: leading spaces, octal digits, then only spaces and NULs to the end
        # of the field ("3 000" is not 3000: tar would read 3 and the rest of the archive otherwise).
        m = re.fullmatch(rb" *([0-7]{0,21})[ \0]*", h[a:b])
        if not m:
            raise ValueError("tar: bad number in a header")
        return int(m.group(1) or b"0", 8)

    # A POSIX ustar header: "ustar", NUL, version "00" (a v7 or GNU header reads its prefix field
    # otherwise, and tar would write the file elsewhere).
    if h[257:265] != b"ustar\x0000":
        raise ValueError("tar: a header that is not POSIX ustar")

    if number(148, 156) != sum(32 if 148 <= i < 156 else b for i, b in enumerate(h)):
        raise ValueError("tar: header checksum mismatch")
    # Every number field is octal: mode, uid, gid, mtime, devmajor and devminor too.
    for a, b in ((100, 108), (108, 116), (116, 124), (136, 148), (329, 337), (337, 345)):
        number(a, b)
    name, prefix = text(0, 100), text(345, 500)
    path = prefix + "/" + name if prefix else name
    if h[156] not in (0, ord("0")):
        raise ValueError(f"tar: {path} is not a regular file: refused")
    if not path or path.startswith("/"):
        raise ValueError(f"tar: {path or 'an empty path'} is absolute: refused")
    if ".." in path.split("/"):
        raise ValueError(f"tar: {path} leaves the folder (..): refused")
    return path, number(124, 136)


def ustar_entries(plain):
    """Each entry's (path, size); the caller reads its `size` bytes before asking for the next.
    The archive ends at two zero blocks in a row; what follows them is not read as entries."""
    zero_blocks, seen = 0, set()
    while True:
        header = plain.read(512)
        if len(header) < 512:
            raise ValueError("the archive ends early (truncated?)")
        if header == bytes(512):
            zero_blocks += 1
            if zero_blocks == 2:
                return
            continue
        if zero_blocks == 1:
            # One zero block, then an entry: not an end (two in a row), not an entry either.
            raise ValueError("tar: a lone zero block before an entry")
        path, size = ustar_header(header)
        if path in seen:
            raise ValueError(f"tar: {path} appears twice")
        seen.add(path)
        yield path, size
        padding = (512 - size % 512) % 512
        if len(plain.read(padding)) < padding:
            raise ValueError("the archive ends early (truncated?)")


def parse_note(text):
    """A checkpoint note (docs/evidence-bundle.md §3) as (origin, size, root, signatures), each
    signature (name, key id, signature); ValueError when it breaks a rule (the Swift verifier's
    Checkpoint.parse has the same rules: both must refuse the same notes)."""
    parts = text.split("\n\n")
    lines = parts[0].split("\n")
    root = b64(lines[2]) if len(lines) >= 3 else None
    if len(lines) < 3 or not lines[0] or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]) or root is None or len(root) != 32:
        raise ValueError("not origin, size and root hash on three lines")
    signatures = []
    if len(parts) == 1:
        # The note ends with a newline: the root's line, unsigned; the last signature line, signed.
        if not (len(lines) == 4 and lines[3] == ""):
            raise ValueError("not three lines each ending in a newline (no extension lines)")
        return lines[0], int(lines[1]), root, signatures
    if len(parts) > 2:
        raise ValueError("more than one blank line")
    if len(lines) != 3:
        raise ValueError("extension lines are not expected")
    if not parts[1].endswith("\n") or len(parts[1]) < 2:
        raise ValueError("the signature lines do not end in a newline")
    for line in parts[1][:-1].split("\n"):
        fields = line.split(" ")  # one space between the fields, no more
        blob = b64(fields[2]) if len(fields) == 3 else None
        if len(fields) != 3 or fields[0] != "\u2014" or not KEY_NAME.fullmatch(fields[1]) or blob is None or len(blob) != 68:
            raise ValueError("malformed signature line")
        signatures.append((fields[1], blob[:4], blob[4:]))
    return lines[0], int(lines[1]), root, signatures


def note_body(origin, size, root):
    """The signed text of a checkpoint."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def key_id(name, public):
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


def verify_proof(path, pinned, allow_unpinned):
    """An inclusion proof alone (docs/evidence-bundle.md §5)."""
    try:
        with open_regular(path) as f:
            text = f.read((64 << 20) + 1)
        if len(text) > 64 << 20:
            raise ValueError("over the limit of 64 MiB")
        proof = json.loads(text, object_pairs_hook=no_duplicates)
        assert proof["format"] == "failback-proof/1"
        event = proof["event"].encode()
        value = json.loads(event, object_pairs_hook=no_duplicates)
        index, size = json_integer(proof["leaf_index"]), json_integer(proof["tree_size"])
        path_hashes = [hash32(h) for h in proof["audit_path"]]
    except FileNotFoundError as e:
        print(f"verify-bundle: {path}: {e.strerror}", file=sys.stderr)
        return 66
    except (OSError, ValueError, KeyError, AssertionError, TypeError, RecursionError) as e:
        print(f"verify-bundle: {path}: not a proof ({e})", file=sys.stderr)
        return 65
    problems = []
    try:
        origin, cp_size, root, signatures = parse_note(proof["checkpoint"])
    except ValueError as e:
        problems.append(f"checkpoint: {e}")
        origin, cp_size, root, signatures = None, None, b"", []
    if jcs(value).encode() != event:
        problems.append("the event is not canonical JSON")
    if type(value.get("drill_seq")) is not int or value.get("drill_seq") != index + 1:
        problems.append(f"the event is not drill event #{index + 1}")
    if origin is not None and (origin != "failback/" + str(value.get("drill_id")) or cp_size != size):
        problems.append("the checkpoint is not this event's drill's, or not of this size")
    if not verify_inclusion(index, size, leaf_hash(event), path_hashes, root):
        problems.append("the audit path does not lead from the event to the checkpoint's root")
    public = None
    if proof.get("public_key"):
        try:
            public = pem_public_key(str(proof["public_key"]).encode())
        except ValueError:
            problems.append("the proof's public key is not a PEM Ed25519 public key")
    if public is not None and pinned and fingerprint(public) not in pinned:
        problems.append(f"signed by the key {fingerprint(public)}, which is not a trusted key")
    if public is not None and proof.get("key_fingerprint") != fingerprint(public):
        problems.append(f"key_fingerprint is not the proof's public key's ({fingerprint(public)})")
    if public is None and not proof.get("public_key") and ("key_name" in proof or "key_fingerprint" in proof):
        problems.append("key_name or key_fingerprint without a public key")
    if public is None and not proof.get("public_key") and pinned:
        problems.append("the proof is unsigned, but a trusted key asks for a signature")
    if public is not None and not isinstance(proof.get("key_name"), str):
        problems.append("the proof has a public key but no key_name")
    elif public is not None:
        name = proof["key_name"]
        body = note_body(origin, cp_size, root).encode() if origin is not None else b""
        if not any(n == name and k == key_id(name, public) and ed25519_verify(public, body, sig) for n, k, sig in signatures):
            problems.append(f"the checkpoint's signature by {name} does not verify")
    elif signatures and not proof.get("public_key"):
        # A signature left without its key is a proof stripped of it, not an unsigned one.
        problems.append("the checkpoint is signed, but the proof has no public key to check it with")
    for p in problems:
        print(f"verify-bundle: {path}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"ok: event #{index + 1} (seq {value.get('seq')}, {value.get('type')}) is in the tree of {size} events, root {root.hex()}")
    if public is not None:
        print(f"ok: checkpoint signed by {proof.get('key_name')}, key {fingerprint(public)}")
    line, trusted = trust_verdict(fingerprint(public) if public is not None else None, pinned, allow_unpinned)
    print(line)
    if not trusted:
        print(f"verify-bundle: {path}: {line}: not verified", file=sys.stderr)
        return 3
    return 0


def parse_arguments(argv):
    """(what, path, pinned {fingerprint: where from}, allow_unpinned); SystemExit(64/65) when wrong."""
    args, what, path, pinned, allow_unpinned = argv[1:], "bundle", None, {}, False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--allow-unpinned":
            allow_unpinned = True
        elif a in ("--pubkey", "--proof") and i + 1 < len(args):
            i += 1
            if a == "--proof":
                if path is not None:
                    break
                what, path = "proof", args[i]
            elif FINGERPRINT.fullmatch(args[i]):
                pinned.setdefault(args[i], "--pubkey")
            else:
                try:
                    pinned.setdefault(fingerprint(read_key(args[i])), args[i])
                except FileNotFoundError as e:
                    print(f"verify-bundle: {args[i]}: {e.strerror}", file=sys.stderr)
                    raise SystemExit(66)
                except (OSError, ValueError) as e:
                    print(f"verify-bundle: {args[i]}: not a PEM Ed25519 public key ({e})", file=sys.stderr)
                    raise SystemExit(65)
        elif not a.startswith("--") and path is None:
            path = a
        else:
            break
        i += 1
    if i < len(args) or path is None:
        sys.stderr.write("\n".join(__doc__.strip().splitlines()[5:7]) + "\n")
        raise SystemExit(64)
    return what, path, pinned, allow_unpinned


def main(argv):
    what, bundle, pinned, allow_unpinned = parse_arguments(argv)
    if what == "proof":
        return verify_proof(bundle, pinned, allow_unpinned)
    argv = [argv[0], bundle]
    problems, oks = [], []
    order, digests, kept = [], {}, {}
    tree, head, drill_ids, events_problem = MerkleRoot(), bytes(32), set(), None
    first_event = []  # the first event, parsed (the runbook the drill started with)
    folder = None

    def check_line(line):
        """One line of events.jsonl: an event in canonical JSON, the next drill_seq; hashed in."""
        nonlocal head, events_problem
        n = tree.count + 1
        try:
            if verify_log.too_deep(line):
                raise ValueError("nested too deep")
            value = json.loads(line, object_pairs_hook=no_duplicates)
            if n == 1:
                first_event.append(value)
            text = jcs(value)
            # An event: the envelope's members, each of its kind (true is no drill_seq).
            place = (value.get("drill_seq"), value.get("drill_id")) if verify_log.envelope_problem(value) is None else None
            del value  # a long line's values go before its canonical text is encoded
            canonical = text.encode() == line
            del text
        except (ValueError, RecursionError):  # RecursionError: nested past Python's stack
            canonical = False
        if not canonical or place is None:
            events_problem = f"line {n} is not an event in canonical JSON"
        elif place[0] != n:
            events_problem = f"line {n} is event #{place[0]}: events are missing, extra or out of order"
        else:
            drill_ids.add(place[1])
            head = hashlib.sha256(head + line).digest()
            tree.append(leaf_hash(line))

    try:
        plain = PlainStream(gzip_member(argv[1]))
        for name, member_size in ustar_entries(plain):
            top, _, path = name.partition("/")
            folder = folder or top
            if top != folder or not path:
                raise ValueError(f"tar: {name} is outside the bundle's folder")
            if len(order) >= MAX_FILES:
                raise ValueError(f"tar: more than {MAX_FILES} files")
            order.append(path)
            h, size, partial, lines = hashlib.sha256(), 0, bytearray(), 0
            while size < member_size:
                chunk = plain.read(min(member_size - size, 1 << 18))
                if not chunk:
                    raise ValueError("the archive ends early (truncated?)")
                h.update(chunk)
                size += len(chunk)
                if path in KEPT:
                    if size > KEPT[path]:
                        raise ValueError(f"{path} is over the limit of {byte_size(KEPT[path])}")
                    kept[path] = kept.get(path, b"") + chunk
                if path == "events.jsonl":
                    # Lines are cut from a buffer that never holds more than one line and a chunk.
                    partial += chunk
                    start = 0
                    while True:
                        end = partial.find(b"\n", start)
                        if end < 0:
                            break
                        if end - start > MAX_LINE:
                            raise ValueError(f"events.jsonl: line {lines + 1} is longer than {byte_size(MAX_LINE)}")
                        lines += 1
                        line = bytes(partial[start:end])
                        if end - start > 1 << 20:  # a long line is held once while it is checked
                            del partial[:end + 1]
                            end = -1
                        start = end + 1
                        if len(line) > MAX_LINE_VALUES and json_value_count(line) > MAX_LINE_VALUES:
                            raise ValueError(f"events.jsonl: line {lines} holds more than {MAX_LINE_VALUES} JSON values")
                        if events_problem is None:
                            check_line(line)
                        del line
                    del partial[:start]
                    if len(partial) > MAX_LINE:
                        raise ValueError(f"events.jsonl: line {lines + 1} is longer than {byte_size(MAX_LINE)}")
            if path == "events.jsonl" and partial and events_problem is None:
                events_problem = "the last line has no newline"
            digests[path] = (h.hexdigest(), size)
        plain.drain()
    except FileNotFoundError as e:
        print(f"verify-bundle: {argv[1]}: {e.strerror}", file=sys.stderr)
        return 66
    except (OSError, ValueError, zlib.error) as e:
        print(f"verify-bundle: {argv[1]}: {e}", file=sys.stderr)
        return 65

    sums = kept.get("SHA256SUMS")
    if sums is None:
        print("verify-bundle: SHA256SUMS is missing", file=sys.stderr)
        return 1
    listed = []
    sums_text = sums.decode("utf-8", errors="replace")
    if not sums_text.endswith("\n"):
        problems.append("SHA256SUMS: the last line has no newline")
    for line in sums_text.split("\n")[:-1]:
        # 64 lowercase hex digits, two spaces, the path: sha256sum's text form, nothing else.
        digest, sep, path = line.partition("  ")
        if not sep or not path or not re.fullmatch(r"[0-9a-f]{64}", digest):
            problems.append(f"SHA256SUMS: malformed line {line!r}")
            continue
        listed.append(path)
        if path not in digests:
            problems.append(f"{path} is listed in SHA256SUMS but missing")
        elif digests[path][0] != digest:
            problems.append(f"{path} was changed (its SHA-256 is not the one in SHA256SUMS)")
    for path in order:
        if path not in ("SHA256SUMS", "SHA256SUMS.sig") and path not in listed:
            problems.append(f"{path} is an extra file (not in SHA256SUMS)")
    summed = [p for p in order if p not in ("SHA256SUMS", "SHA256SUMS.sig")]
    if set(listed) == set(summed) and listed != summed:
        problems.append("SHA256SUMS: the files are not listed in the archive's order")
    if not problems:
        oks.append(f"ok: SHA256SUMS matches all {len(listed)} files")

    has_key = "public-key.pem" in kept
    public = None
    if has_key:
        try:
            public = pem_public_key(kept["public-key.pem"])
        except ValueError as e:
            problems.append(f"public-key.pem: {e}" if "acceptable" in str(e) else "public-key.pem is not a PEM Ed25519 public key")
    signed = "SHA256SUMS.sig" in kept
    if signed:
        if not has_key:
            problems.append("SHA256SUMS.sig without public-key.pem")
        elif public is None:
            pass  # named above: nothing to check the signature with
        elif not ed25519_verify(public, sums, kept["SHA256SUMS.sig"]):
            problems.append("SHA256SUMS.sig is not a valid signature of SHA256SUMS")
        else:
            oks.append(f"ok: SHA256SUMS signed by the bundle's Ed25519 key {fingerprint(public)}")
        if pinned and public is not None and fingerprint(public) not in pinned:
            problems.append(f"signed by the key {fingerprint(public)}, which is not a trusted key")
    else:
        if has_key:
            problems.append("public-key.pem without SHA256SUMS.sig")
        if pinned:
            problems.append("the bundle is unsigned, but a trusted key asks for a signature")

    try:
        manifest = json.loads(kept["manifest.json"], object_pairs_hook=no_duplicates, parse_constant=not_json)
        if (jcs(manifest) + "\n").encode() != kept["manifest.json"]:
            problems.append("manifest.json is not canonical JSON (RFC 8785) and a line feed")
    except (KeyError, ValueError, RecursionError, UnicodeError):
        problems.append("manifest.json is missing or not JSON")
        manifest = {}
    if not isinstance(manifest, dict) or manifest.get("format") != "failback-evidence/1":
        problems.append("manifest.json: not failback-evidence/1")
        manifest = {}
    entries = [f for f in manifest.get("files", []) if isinstance(f, dict) and isinstance(f.get("path"), str)]
    files = [f["path"] for f in entries]
    expected = ["events.jsonl"] + [f for f in files if f != "events.jsonl"] + ["manifest.json", "checkpoint"]
    expected += (["public-key.pem"] if has_key or signed else []) + ["SHA256SUMS"] + (["SHA256SUMS.sig"] if signed else [])
    if order != expected:
        problems.append("the files are not in the bundle's order")
    # The manifest's shape: every file an object of path, bytes and sha256 (lowercase hex).
    if not isinstance(manifest.get("files"), list):
        problems.append("manifest.json: files is not an array")
    for f in manifest.get("files", []) if isinstance(manifest.get("files"), list) else []:
        if not (isinstance(f, dict) and set(f) == {"path", "bytes", "sha256"} and isinstance(f["path"], str)
                and type(f["bytes"]) is int and f["bytes"] >= 0 and isinstance(f["sha256"], str) and re.fullmatch(r"[0-9a-f]{64}", f["sha256"])):
            problems.append("manifest.json: a file entry is not {path, bytes, sha256}")
    if manifest.get("tree_size") != tree.count or type(manifest.get("tree_size")) is not int:
        problems.append(f"manifest.json: tree_size is not the number of events ({tree.count})")
    if isinstance(manifest.get("drill_id"), str):
        if manifest.get("checkpoint_origin") != "failback/" + manifest["drill_id"]:
            problems.append(f"manifest.json: checkpoint_origin is not failback/{manifest['drill_id']}")
        if folder != manifest["drill_id"]:
            problems.append(f"the bundle's folder is {folder or 'none'}, not the drill's ({manifest['drill_id']})")
    else:
        problems.append("manifest.json: drill_id is not a string")
    # The runbook the manifest names is the one the drill's first event recorded, and runbook.json
    # is that event's document.
    # A drill's bundle holds its events, the first a DrillStarted: an empty one is no drill's.
    if events_problem is None and tree.count == 0:
        problems.append("events.jsonl holds no event")
    if first_event and isinstance(first_event[0], dict):
        started = first_event[0].get("payload") if isinstance(first_event[0].get("payload"), dict) else {}
        ref = started.get("runbook") if isinstance(started.get("runbook"), dict) else {}
        runbook = manifest.get("runbook")
        if first_event[0].get("type") != "DrillStarted":
            problems.append("events.jsonl: the first event is not DrillStarted")
        elif not (isinstance(runbook, dict) and set(runbook) == {"id", "version", "sha256"} and runbook["id"] == ref.get("id")
                  and runbook["version"] == ref.get("version") and runbook["sha256"] == ref.get("digest")):
            problems.append("manifest.json: runbook is not the one the drill started with (event #1)")
        if "runbook.json" in kept and kept["runbook.json"] != (jcs(started.get("runbook_document")) + "\n").encode():
            problems.append("runbook.json is not the runbook document the drill started with (event #1)")

    # What the manifest says of the signature is what the bundle holds.
    if manifest.get("signed") is not signed:
        problems.append(f"manifest.json: signed is not {str(signed).lower()}, though the bundle is {'signed' if signed else 'unsigned'}")
    if signed:
        if not (isinstance(manifest.get("key_name"), str) and KEY_NAME.fullmatch(manifest["key_name"])):
            problems.append("manifest.json: key_name is not a key name, though the bundle is signed")
        if public is not None and manifest.get("key_fingerprint") != fingerprint(public):
            problems.append(f"manifest.json: key_fingerprint is not public-key.pem's ({fingerprint(public)})")
    elif "key_name" in manifest or "key_fingerprint" in manifest:
        problems.append("manifest.json: key_name or key_fingerprint, though the bundle is unsigned")
    for f in entries:
        d = digests.get(f["path"])
        if d and (d[0] != f.get("sha256") or d[1] != f.get("bytes")):
            problems.append(f"{f['path']} does not match manifest.json")

    if events_problem:
        problems.append("events.jsonl: " + events_problem)
    if drill_ids and drill_ids != {manifest.get("drill_id")}:
        problems.append("events.jsonl holds another drill than manifest.json")
    root, count = tree.root(), tree.count
    if manifest.get("events") != count:
        problems.append(f"events.jsonl has {count} events, manifest.json says {manifest.get('events')}")
    if manifest.get("chain_head") != head.hex():
        problems.append(f"the hash chain's head is {head.hex()}, manifest.json says {manifest.get('chain_head')}")
    if manifest.get("merkle_root") != root.hex():
        problems.append(f"the Merkle root of the events is {root.hex()}, manifest.json says {manifest.get('merkle_root')}")
    if not events_problem:
        oks.append(f"ok: {count} events of drill {manifest.get('drill_id')}, chain head {head.hex()}")

    try:
        if "checkpoint" not in kept:
            raise ValueError("is missing")
        origin, cp_size, cp_root, signatures = parse_note(kept["checkpoint"].decode())
    except ValueError as e:
        problems.append(f"checkpoint: {e}")
    else:
        if cp_size != count or cp_root != root:
            problems.append(f"checkpoint: tree size {cp_size} and root do not match the events")
        if origin != manifest.get("checkpoint_origin"):
            problems.append(f"checkpoint: origin {origin} is not manifest.json's")
        if public is not None:
            name = str(manifest.get("key_name") or "")
            mine = [sig for n, k, sig in signatures if n == name and k == key_id(name, public)]
            if not mine:
                problems.append(f"checkpoint: no signature by {name}'s key")
            if any(not ed25519_verify(public, note_body(origin, cp_size, cp_root).encode(), sig) for sig in mine):
                problems.append(f"checkpoint: the signature by {name} does not verify")
        elif signatures and not has_key:
            problems.append("checkpoint: signed, but the bundle has no public key")
        if not problems:
            oks.append(f"ok: checkpoint {origin}, {cp_size} events, root {root.hex()}")

    cited = 0
    before_manifest = set(order[:order.index("manifest.json")] if "manifest.json" in order else order)
    if not isinstance(manifest.get("controls"), list):
        problems.append("manifest.json: controls is not an array")
    for control in manifest.get("controls", []) if isinstance(manifest.get("controls"), list) else []:
        cid = control.get("id") if isinstance(control, dict) and isinstance(control.get("id"), str) else "?"
        if not (isinstance(control, dict) and set(control) == {"id", "title", "files", "events"} and isinstance(control["id"], str)
                and isinstance(control["title"], str) and isinstance(control["files"], list) and all(isinstance(f, str) for f in control["files"])
                and isinstance(control["events"], list)):
            problems.append(f"controls {cid}: not {{id, title, files, events}}")
            continue
        for f in control["files"]:
            if f in digests and f not in before_manifest:
                problems.append(f"controls {cid}: cites {f}, which is not evidence (only files before manifest.json are)")
        for c in control["events"]:
            cited += 1
            # A path that leads from the cited leaf hash at its index to the root recomputed from
            # the events proves the event there has that hash: no leaf needs keeping.
            try:
                i = c["leaf_index"]
                audit_path = [hash32(p) for p in c["audit_path"]]
                leaf = hash32(c["leaf_hash"])
                well_formed = (type(i) is int and i >= 0 and set(c) == {"leaf_index", "drill_seq", "leaf_hash", "audit_path"}
                               and type(c["drill_seq"]) is int and c["drill_seq"] == i + 1 and isinstance(c["audit_path"], list))
            except (AttributeError, KeyError, TypeError, ValueError):
                well_formed = False
            if not well_formed:
                problems.append(f"controls {control.get('id')}: a malformed citation")
            elif not 0 <= i < count:
                problems.append(f"controls {control.get('id')}: event #{i + 1} is not in the events")
            elif not verify_inclusion(i, count, leaf, audit_path, root):
                problems.append(f"controls {control.get('id')}: the inclusion proof of event #{i + 1} does not verify")
        for f in control.get("files", []):
            if f not in digests:
                problems.append(f"controls {control.get('id')}: cites {f}, which is missing")
    trusted = False
    if not problems:
        oks.append(f"ok: {cited} cited events included in the tree (audit paths verified)")
        line, trusted = trust_verdict(fingerprint(public) if signed and public is not None else None, pinned, allow_unpinned)
        oks.append(line)

    for line in oks:
        print(line)
    for p in problems:
        print(f"verify-bundle: {argv[1]}: {p}", file=sys.stderr)
    if problems:
        return 1
    if not trusted:
        print(f"verify-bundle: {argv[1]}: {oks[-1]}: not verified", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (ArithmeticError, AttributeError, IndexError, KeyError, RecursionError, TypeError, ValueError) as e:
        # Content shaped as no check above foresaw (a manifest member of another type...): the
        # bundle or proof fails, in one line, never with a traceback.
        named = next((a for a in sys.argv[1:] if not a.startswith("--")), "?")
        print(f"verify-bundle: {named}: malformed content ({type(e).__name__}: {e})", file=sys.stderr)
        sys.exit(1)
