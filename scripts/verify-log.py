#!/usr/bin/env python3
"""An independent verifier of a failback store, written from docs/log-format.md alone
(standard library only): a second implementation that must agree with `failback verify`.

usage: verify-log.py STORE [--drill ID]      (without --drill: every drill, and the global sequence)

For each drill, in drill_seq order, it checks that each event's stored bytes are the RFC 8785
canonical form of the JSON they hold, that the envelope's seq / drill_id / drill_seq match the row
and run gapless, that hash_n = SHA-256(hash_{n-1} || canonical_n) from 32 zero bytes, that a stored
leaf hash (format 3) is SHA-256(0x00 || canonical_n), that the type, recorded_at and
idempotency_key columns equal the envelope's members, that a DrillCompleted event is the drill's last
and at its closed_seq, and that the drills table's count (every row of the drill, not only those up to
its head), head hash and (format 2 on) total canonical bytes equal the recomputed ones; without
--drill, also that every event's drill is in the drills table. Prints one line a drill; exits 1 on
the first broken drill, naming the first bad seq.
"""
import hashlib
import json
import re
import math
import sqlite3
import sys
import unicodedata


def es6_number(x):
    """ECMAScript Number::toString for a finite double (RFC 8785 section 3.2.2.3)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("NaN and Infinity have no RFC 8785 form")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))  # shortest round-trip digits
    mantissa, _, exp = r.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    n = len(whole) + (int(exp) if exp else 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + s


_ESCAPED = re.compile('[\\\\"\\x00-\\x1f]')
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _escape(match):
    ch = match.group()
    return _ESCAPES.get(ch) or "\\u%04x" % ord(ch)


# Objects and arrays nest at most 512 levels in an event, its own object level 1
# (docs/log-format.md §2): deeper is not an event, to every verifier. Python's parser and the
# writer below recurse once a level: the limit is raised so that 512 levels parse, and a deeper
# line is refused before it is parsed.
MAX_DEPTH = 512
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * MAX_DEPTH))
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")


# The envelope (docs/log-format.md §1): these members only, all but the two optional ones
# present, each of its kind (an integer is no bool, though Python's bool is an int).
ENVELOPE = {"actor": str, "drill_id": str, "drill_seq": int, "host": str, "idempotency_key": str, "payload": dict,
            "recorded_at": str, "redactions": list, "schema_version": int, "seq": int, "type": str}
OPTIONAL = {"idempotency_key", "redactions"}


def envelope_problem(event):
    """Why a parsed event is not an envelope, or None."""
    if not isinstance(event, dict):
        return "not an object"
    for name, value in event.items():
        kind = ENVELOPE.get(name)
        if kind is None:
            return f"envelope: a member {json.dumps(name)} that is not one of the envelope's"
        if type(value) is not kind or (kind is int and value < 0):
            return f"envelope: {name} is not of its kind"
    missing = next((m for m in ENVELOPE if m not in OPTIONAL and m not in event), None)
    return f"envelope: no {missing} member" if missing else None


def too_deep(data):
    """Whether objects and arrays nest deeper than MAX_DEPTH in JSON bytes (the outermost level 1;
    strings skipped). A line with fewer openers than that cannot be, and is not scanned."""
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return False
    depth = deepest = 0
    for m in _BRACKET.finditer(_STRING.sub(b"", data)):
        depth += 1 if m.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest > MAX_DEPTH


def jcs(value):
    """RFC 8785 canonical text of a parsed JSON value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return es6_number(value)
    if isinstance(value, str):
        # One pass in C over the string (a character at a time in Python took ~2 GB for a 16 MiB string).
        return '"' + _ESCAPED.sub(_escape, value) + '"'

    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(value[k]) for k in keys) + "}"
    raise TypeError(type(value))


def no_duplicates(pairs):
    """An object's members; a name twice is refused, as Unicode text (canonically equivalent
    names are one name: docs/log-format.md §2)."""
    d, texts = {}, set()
    for k, v in pairs:
        text = k if k.isascii() else unicodedata.normalize("NFD", k)
        if k in d or text in texts:
            raise ValueError("duplicate key " + k)
        d[k] = v
        texts.add(text)
    return d


# The event types that close a drill: such an event is the drill's last, at its closed_seq.
CLOSING_TYPES = {"DrillCompleted"}


def verify_drill(db, drill_id):
    version = db.execute("PRAGMA user_version").fetchone()[0]
    sizes, leaves = version >= 2, version >= 3
    head = db.execute(f"SELECT event_count, head_hash, {'canonical_bytes' if sizes else 'NULL'}, closed_seq, started_seq, started_at FROM drills WHERE drill_id = ?", (drill_id,)).fetchone()
    if head is None:
        return f"drill {drill_id}: not in the drills table", False
    previous, expected, last_seq, size, closed_at = bytes(32), 1, 0, 0, None
    rows = db.execute(f"SELECT seq, drill_seq, drill_id, canonical, hash, {'leaf_hash' if leaves else 'NULL'}, type, recorded_at, idempotency_key FROM events WHERE drill_id = ? ORDER BY drill_seq", (drill_id,))
    for seq, drill_seq, row_drill, canonical, stored, leaf, row_type, row_time, row_key in rows:
        def broken(why):
            return f"drill {drill_id}: BROKEN at seq {seq}: {why}", False
        if too_deep(canonical):
            return broken(f"nested deeper than {MAX_DEPTH} levels")
        try:
            event = json.loads(canonical.decode("utf-8"), object_pairs_hook=no_duplicates)
        except Exception as e:  # noqa: BLE001
            return broken(f"not JSON: {e}")
        if closed_at is not None:
            return broken(f"the drill was closed at seq {closed_at}, yet an event follows it")
        if envelope_problem(event):
            return broken(envelope_problem(event))
        if type(event.get("drill_seq")) is not int or event.get("drill_seq") != expected:
            return broken(f"expected drill event #{expected}, found #{event.get('drill_seq')}")
        if hashlib.sha256(previous + canonical).digest() != stored:
            return broken("hash mismatch")
        # Format 3: the RFC 9162 leaf hash beside the chain hash (NULL in rows stored before).
        if leaf is not None and hashlib.sha256(b"\x00" + canonical).digest() != leaf:
            return broken("leaf hash mismatch")
        if type(event.get("seq")) is not int or event.get("seq") != seq or event.get("drill_id") != row_drill or row_drill != drill_id or drill_seq != expected or seq <= last_seq:
            return broken("event bytes do not match their row")
        # The columns beside the bytes are copies of envelope members (docs/log-format.md §4).
        if (row_type, row_time, row_key) != (event.get("type"), event.get("recorded_at"), event.get("idempotency_key")):
            return broken("a column (type, recorded_at or idempotency_key) differs from the event's bytes")
        if jcs(event).encode("utf-8") != canonical:
            return broken("not RFC 8785 canonical")
        if event.get("type") in CLOSING_TYPES:
            closed_at = seq
        if expected == 1:
            started = (seq, event.get("recorded_at"))
        previous, expected, last_seq, size = stored, expected + 1, seq, size + len(canonical)
    count = expected - 1
    if count > 0 and (head[4], head[5]) != started:
        return f"drill {drill_id}: BROKEN: drills table says it started at seq {head[4]}, {head[5]}; its first event is seq {started[0]}, {started[1]}", False
    if count != head[0]:
        return f"drill {drill_id}: BROKEN: drills table records {head[0]} events, chain has {count}", False
    if closed_at != head[3]:
        return f"drill {drill_id}: BROKEN: closed by its event at seq {closed_at} but the drills table says closed_seq {head[3]}", False
    if previous != head[1]:
        return f"drill {drill_id}: BROKEN: head hash differs from drills table", False
    if sizes and size != head[2]:
        return f"drill {drill_id}: BROKEN: drills table records {head[2]} bytes of events, they hold {size}", False
    return f"drill {drill_id}: intact, {count} events, head {previous.hex()}", True


def store_format_problem(db):
    """Why the file is not a failback store of a format read here (docs/log-format.md §4), or None:
    the application id, a format version from 1 to 4, and tables of the format it says (format 2's
    column, format 3's, format 4's triggers); the version decides which checks run."""
    if db.execute("PRAGMA application_id").fetchone()[0] != 0x46424C47:
        return "not a failback store"
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if not 1 <= version <= 4:
        return f"a failback store of format {version}; this verifier reads formats 1 to 4"
    sizes = db.execute("SELECT count(*) FROM pragma_table_info('drills') WHERE name = 'canonical_bytes'").fetchone()[0] == 1
    leaves = db.execute("SELECT count(*) FROM pragma_table_info('events') WHERE name = 'leaf_hash'").fetchone()[0] == 1
    triggers = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('events_insert_only_appends', 'drills_insert_only_new')").fetchone()[0] > 0
    if sizes != (version >= 2) or leaves != (version >= 3) or (triggers and version < 4):
        return f"an inconsistent failback store: user_version says format {version} but its tables are of another format"
    return None


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 64
    db = sqlite3.connect(f"file:{argv[1]}?mode=ro", uri=True)
    problem = store_format_problem(db)
    if problem:
        print(f"verify-log: {argv[1]}: {problem}", file=sys.stderr)
        return 65
    if "--drill" in argv:
        drills = [argv[argv.index("--drill") + 1]]
    else:
        drills = [r[0] for r in db.execute("SELECT drill_id FROM drills ORDER BY started_seq")]
        seqs = [r[0] for r in db.execute("SELECT seq FROM events ORDER BY seq")]
        gap = next((s for i, s in enumerate(seqs, 1) if s != i), None)
        if gap is not None:
            print(f"store: BROKEN at seq {gap}: global sequence has a gap")
            return 1
        orphan = db.execute("SELECT min(seq) FROM events WHERE drill_id NOT IN (SELECT drill_id FROM drills)").fetchone()[0]
        if orphan is not None:
            print(f"store: BROKEN at seq {orphan}: the event's drill is not in the drills table")
            return 1
        print(f"store: global sequence gapless, {len(seqs)} events")
    ok = True
    for d in drills:
        line, good = verify_drill(db, d)
        print(line)
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
