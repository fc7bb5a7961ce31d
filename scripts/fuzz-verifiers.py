#!/usr/bin/env python3
"""Differential fuzzing of the two evidence verifiers (Python standard library only).

  scripts/fuzz-verifiers.py --failback BIN --bundle BUNDLE --proof PROOF [--iterations N] [--seed S]

Mutates a good bundle and a good inclusion proof N times each (seeded: the same seed gives the same
mutations), and runs `failback evidence verify` / `verify-proof` and `verify-bundle.py` on each:
- every bundle with a file's bytes mutated must fail in both (status 1: the archive itself stays
  well formed; every byte of every file is covered by SHA256SUMS and its signature);
- on a bundle whose archive is mutated (tar headers, end blocks, the gzip stream) both must agree,
  and may pass only if every file they would read is unchanged;
- on a mutated proof both must agree (a proof can change without changing what it says, e.g.
  the case of a hex digit), and a failure is one named line, never a traceback.
Prints each disagreement with how to reproduce it, then a summary; exit 1 if there was any.
"""
import argparse
import gzip
import io
import os
import random
import subprocess
import sys
import tarfile

VERIFIER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "verify-bundle.py")
INSERTS = [b'"', b"{", b"[", b"\xff", b"0", b"\\n", b"\n", b"\n\n", b"-", b"e9999", b"\\u", b"null", b",", b"1e400", b"=", b" "]


def mutate(rng, data):
    """One to three random edits: a bit flipped, the tail cut, bytes inserted, deleted or repeated."""
    d = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["flip", "cut", "insert", "delete", "repeat"])
        p = rng.randrange(len(d)) if d else 0
        if op == "flip" and d:
            d[p] ^= 1 << rng.randrange(8)
        elif op == "cut":
            d = d[:p]
        elif op == "insert" or not d:
            d[p:p] = rng.choice(INSERTS)
        elif op == "delete":
            del d[p:p + rng.randrange(1, 20)]
        else:
            d[p:p] = d[p:p + rng.randrange(1, 40)]
    return bytes(d)


def run(command):
    r = subprocess.run(command, capture_output=True)
    return r.returncode, r.stderr.decode(errors="replace")


def sound(status, stderr):
    """A verdict, not a crash: 0, 1 or 65, a failure says why, and no traceback."""
    return status in (0, 1, 65) and "Traceback" not in stderr and (status == 0 or stderr.strip() != "")


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--failback", required=True)
    a.add_argument("--bundle", required=True)
    a.add_argument("--proof", required=True)
    a.add_argument("--pubkey", default=None, help="the key both verifiers trust (else: integrity only, --allow-unpinned)")
    a.add_argument("--iterations", type=int, default=200)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--work", default=None, help="folder for the mutated files (default: beside the bundle)")
    args = a.parse_args()
    work = args.work or os.path.dirname(os.path.abspath(args.bundle))
    rng = random.Random(args.seed)
    trust = ["--pubkey", args.pubkey] if args.pubkey else ["--allow-unpinned"]
    problems = 0

    with tarfile.open(args.bundle, "r:gz") as t:
        members = [(m, t.extractfile(m).read()) for m in t]
    mutated_bundle = os.path.join(work, f"fuzz-{args.seed}.tar.gz")
    for i in range(args.iterations):
        k = rng.randrange(len(members))
        edited = [(m, mutate(rng, d) if j == k else d) for j, (m, d) in enumerate(members)]
        if edited[k][1] == members[k][1]:
            continue
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
            for m, d in edited:
                info = tarfile.TarInfo(m.name)
                info.size, info.mtime, info.mode = len(d), m.mtime, m.mode
                t.addfile(info, io.BytesIO(d))
        with open(mutated_bundle, "wb") as f:
            f.write(buffer.getvalue())
        ours = run([args.failback, "evidence", "verify", "--deep", mutated_bundle] + trust)
        theirs = run([sys.executable, VERIFIER, mutated_bundle] + trust)
        if not (ours[0] == theirs[0] == 1 and sound(*ours) and sound(*theirs)):
            problems += 1
            print(f"bundle, seed {args.seed}, iteration {i} ({members[k][0].name}): failback {ours[0]} {ours[1].strip()[-300:]!r}; "
                  f"verify-bundle.py {theirs[0]} {theirs[1].strip()[-300:]!r}")

    # The archive itself: tar headers and end blocks (mostly), or the gzip stream.
    with open(args.bundle, "rb") as f:
        compressed = f.read()
    plain = gzip.decompress(compressed)
    headers, offset = [], 0
    while plain[offset:offset + 512] != bytes(512):
        headers.append(offset)
        offset += 512 + (int(plain[offset + 124:offset + 136].strip(b"\0 ") or b"0", 8) + 511) // 512 * 512
    headers.append(offset)  # the end blocks

    def contents(data):
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
                return [(m.name, m.type, t.extractfile(m).read() if m.isreg() else None) for m in t]
        except Exception as e:  # noqa: BLE001 -- anything tarfile cannot read is "changed"
            return repr(e)

    original = contents(compressed)
    for i in range(args.iterations):
        if rng.random() < 0.8:
            edited = bytearray(plain)
            start = rng.choice(headers)
            for _ in range(rng.randint(1, 3)):
                p = start + rng.randrange(1024)
                if p < len(edited):
                    edited[p] = rng.choice([edited[p] ^ (1 << rng.randrange(8)), rng.randrange(256), rng.choice(b"01234567 \0x-")])
            data = gzip.compress(bytes(edited), mtime=0)
        else:
            data = mutate(rng, compressed)
        if data == compressed:
            continue
        with open(mutated_bundle, "wb") as f:
            f.write(data)
        ours = run([args.failback, "evidence", "verify", mutated_bundle] + trust)
        theirs = run([sys.executable, VERIFIER, mutated_bundle] + trust)
        unchanged = contents(data) == original
        if not (sound(*ours) and sound(*theirs) and (ours[0] == 0) == (theirs[0] == 0) and (ours[0] != 0 or unchanged)):
            problems += 1
            print(f"archive, seed {args.seed}, iteration {i}: failback {ours[0]} {ours[1].strip()[-300:]!r}; "
                  f"verify-bundle.py {theirs[0]} {theirs[1].strip()[-300:]!r}")

    with open(args.proof, "rb") as f:
        proof = f.read()
    mutated_proof = os.path.join(work, f"fuzz-{args.seed}.json")
    for i in range(args.iterations):
        edited = mutate(rng, proof)
        with open(mutated_proof, "wb") as f:
            f.write(edited)
        ours = run([args.failback, "evidence", "verify-proof", mutated_proof] + trust)
        theirs = run([sys.executable, VERIFIER, "--proof", mutated_proof] + trust)
        if not (sound(*ours) and sound(*theirs) and (ours[0] == 0) == (theirs[0] == 0)):
            problems += 1
            print(f"proof, seed {args.seed}, iteration {i}: failback {ours[0]} {ours[1].strip()[-300:]!r}; "
                  f"verify-bundle.py {theirs[0]} {theirs[1].strip()[-300:]!r}")

    print(f"{args.iterations} bundles with a file mutated, {args.iterations} with the archive mutated, "
          f"{args.iterations} mutated proofs: {problems} disagreements or crashes")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
