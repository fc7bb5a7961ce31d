#!/usr/bin/env python3
"""Damages a copy of a store at random (seeded) and asks failback to read it (standard library only).

  scripts/fuzz-store.py --failback BIN --store STORE [--iterations N] [--seed S]

Each iteration copies STORE, drops its triggers (as an attacker with the file would) and either
- edits bytes of one row's canonical bytes, hash or leaf hash: `failback verify` and
  `scripts/verify-log.py` must both fail (status 1) and name the same first bad seq; or
- changes one member of one stored payload (removed, null, another type, huge...) and recomputes
  the chain, so the store verifies as intact (a payload written by a broken writer).
Then one reading command (status, report in every format, log, replay, evidence export, gaps,
verify --deep) runs on it: it must succeed or fail with one line `failback: error: ...`, never crash.
Prints each problem with how to reproduce it, then a summary; exit 1 if there was any.
"""
import argparse
import hashlib
import importlib.util
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _script(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify_log = _script("verify_log", "verify-log.py")
mutate = _script("fuzz_verifiers", "fuzz-verifiers.py").mutate  # the byte edits, shared

VALUES = [None, "", "x", -1, 0, 1.5, 1e300, 2 ** 53, [], {}, [1], {"a": 1}, True, "\u2014", "a" * 2000, [None], [{}], [""]]


def reading_commands(work):
    return [["status"], ["status", "--as-of", "3"], ["log"], ["log", "--json"], ["replay"], ["replay", "--json"], ["drill", "list"],
            ["report", "--format", "md"], ["report", "--format", "json"], ["report", "--format", "csv"], ["report", "--format", "junit"],
            ["report", "--format", "html", "-o", os.path.join(work, "report.html")], ["evidence", "gaps"],
            ["evidence", "export", "-o", os.path.join(work, "bundle.tar.gz")], ["verify", "--deep"]]


def member_paths(value, prefix=()):
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from member_paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from member_paths(v, prefix + (i,))


def edit_payload(rng, db):
    """One member of one payload changed, the chain recomputed: the store verifies as intact."""
    rows = db.execute("SELECT seq, canonical FROM events ORDER BY seq").fetchall()
    seq, canonical = rng.choice(rows)
    event = json.loads(canonical)
    paths = list(member_paths(event["payload"]))
    if not paths:
        return None
    path = rng.choice(paths)
    parent = event["payload"]
    for k in path[:-1]:
        parent = parent[k]
    if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(VALUES)
    new = verify_log.jcs(event).encode()
    db.execute("UPDATE events SET canonical = ?, leaf_hash = ? WHERE seq = ?", (new, hashlib.sha256(b"\0" + new).digest(), seq))
    for (drill,) in db.execute("SELECT drill_id FROM drills").fetchall():
        head = bytes(32)
        for s, c in db.execute("SELECT seq, canonical FROM events WHERE drill_id = ? ORDER BY drill_seq", (drill,)).fetchall():
            head = hashlib.sha256(head + c).digest()
            db.execute("UPDATE events SET hash = ? WHERE seq = ?", (head, s))
        total = db.execute("SELECT sum(length(canonical)) FROM events WHERE drill_id = ?", (drill,)).fetchone()[0]
        db.execute("UPDATE drills SET head_hash = ?, canonical_bytes = ? WHERE drill_id = ?", (head, total, drill))
    return f"payload of seq {seq} ({event['type']}) at {'/'.join(map(str, path))}"


def run(command):
    r = subprocess.run(command, capture_output=True, timeout=120)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--failback", required=True)
    a.add_argument("--store", required=True)
    a.add_argument("--iterations", type=int, default=200)
    a.add_argument("--seed", type=int, default=1)
    args = a.parse_args()
    rng = random.Random(args.seed)
    work = os.path.join(os.path.dirname(os.path.abspath(args.store)), f"fuzz-store-{args.seed}")
    os.makedirs(work, exist_ok=True)
    damaged = os.path.join(work, "ledger.sqlite")
    problems = 0
    for i in range(args.iterations):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(damaged + suffix):
                os.remove(damaged + suffix)
        shutil.copy(args.store, damaged)
        db = sqlite3.connect(damaged)
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f'DROP TRIGGER "{trigger}"')
        if rng.random() < 0.5:
            column = rng.choice(["canonical", "canonical", "hash", "leaf_hash"])
            seq = rng.choice([s for (s,) in db.execute("SELECT seq FROM events")])
            (old,) = db.execute(f"SELECT {column} FROM events WHERE seq = ?", (seq,)).fetchone()
            db.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (mutate(rng, old or b""), seq))
            what, intact = f"{column} of seq {seq}", False
        else:
            what, intact = edit_payload(rng, db), True
        db.commit()
        db.close()
        if what is None:
            continue
        if not intact:
            ours, theirs = run([args.failback, "verify", "--store", damaged]), run([sys.executable, os.path.join(HERE, "verify-log.py"), damaged])
            first = [re.findall(r"seq (\d+)", o[1] + o[2])[:1] for o in (ours, theirs)]
            if ours[0] != 1 or theirs[0] != 1 or first[0] != first[1] or "Traceback" in theirs[2]:
                problems += 1
                print(f"seed {args.seed}, iteration {i} ({what}): failback verify {ours[0]} {first[0]}, verify-log.py {theirs[0]} {first[1]}: {(ours[2] + theirs[2]).strip()[-300:]!r}")
        command = rng.choice(reading_commands(work))
        status, _, err = run([args.failback] + command + ["--store", damaged])
        lines = [line for line in err.splitlines() if line]
        clean_failure = status not in (0, 1, 64) and status < 128 and len(lines) == 1 and lines[0].startswith("failback: error:")
        if status < 0 or "Fatal error" in err or not (status in (0, 1) or clean_failure):
            problems += 1
            print(f"seed {args.seed}, iteration {i} ({what}): failback {' '.join(command)} exited {status}: {err.strip()[:300]!r}")
    shutil.rmtree(work, ignore_errors=True)
    print(f"{args.iterations} damaged stores: {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
