// Regenerate es6-numbers.txt:  node gen-es6-numbers.js > es6-numbers.txt
// Each line: IEEE-754 bits as 16 hex digits, a comma, and ECMAScript's String(number) —
// the number form RFC 8785 §3.2.2.3 requires. A fixed-seed generator makes the file reproducible.
let state = 0x2545F4914F6CDD1Dn;
function next() { // xorshift64*
  state ^= state >> 12n; state ^= (state << 25n) & 0xFFFFFFFFFFFFFFFFn; state ^= state >> 27n;
  return (state * 0x2545F4914F6CDD1Dn) & 0xFFFFFFFFFFFFFFFFn;
}
const buf = new DataView(new ArrayBuffer(8));
const out = [];
const edges = [0x0n, 0x8000000000000000n, 0x1n, 0x8000000000000001n, 0x7fefffffffffffffn, 0xffefffffffffffffn,
  0x4340000000000000n, 0xc340000000000000n, 0x4430000000000000n, 0x44b52d02c7e14af5n, 0x44b52d02c7e14af6n,
  0x44b52d02c7e14af7n, 0x444b1ae4d6e2ef4en, 0x444b1ae4d6e2ef4fn, 0x444b1ae4d6e2ef50n, 0x3eb0c6f7a0b5ed8cn,
  0x3eb0c6f7a0b5ed8dn, 0x41b3de4355555553n, 0x41b3de4355555554n, 0x41b3de4355555555n, 0x41b3de4355555556n,
  0x41b3de4355555557n, 0xbecbf647612f3696n, 0x43143ff3c1cb0959n, 0x3ff0000000000000n, 0x3fb999999999999an];
function emit(bits) {
  buf.setBigUint64(0, bits);
  const d = buf.getFloat64(0);
  if (!Number.isFinite(d)) return;
  out.push(bits.toString(16).padStart(16, "0") + "," + String(d));
}
edges.forEach(emit);
for (let i = 0; i < 3000; i++) emit(next());                       // any bit pattern
for (let i = 0; i < 1000; i++) emit(BigInt(Math.floor(Number(next() % 2000n)) + 960) << 52n | (next() & 0xFFFFFFFFFFFFFn)); // exponents near 1e-20..1e25
for (let i = 0; i < 1000; i++) { buf.setFloat64(0, Number(next() % 100000000n) / 1000); emit(buf.getBigUint64(0)); } // decimals like 41.5, 3.2
process.stdout.write(out.join("\n") + "\n");
