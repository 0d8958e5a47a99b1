/**
 * Heap bytes per idle session in the memory store: 1,000,000 sessions created through `hitSync` with
 * ids shaped like the service's (16 random bytes, base64url), heapUsed after a full GC minus before,
 * divided by the count. Writes the `session-memory` section of BENCHMARKS.md.
 * Run: node --expose-gc --import tsx bench/session-memory.ts
 */
import { randomBytes } from "node:crypto";
import { MemoryStore } from "../src/app/memory-store.js";
import { machineLine, writeSection } from "./report.js";

const SESSIONS = 1_000_000;
const TARGET_BYTES = 256;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("run with node --expose-gc");
  process.exit(2);
}

/** Several passes, because one full GC can leave weak and finalizable garbage for the next. */
function settledHeap(): number {
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

// A large id pool drawn once, so the measurement loop allocates nothing long-lived besides sessions.
const ID_BYTES = 16;
const pool = randomBytes(ID_BYTES * 4096);
let drawn = 0;
let poolBytes = pool;
function freshId(): string {
  if (drawn === 4096) {
    poolBytes = randomBytes(ID_BYTES * 4096);
    drawn = 0;
  }
  const at = drawn++ * ID_BYTES;
  return poolBytes.toString("base64url", at, at + ID_BYTES);
}

const store = new MemoryStore({ maxSessions: SESSIONS * 2, ttlSeconds: 1800 });
const before = settledHeap();
const started = performance.now();
for (let i = 0; i < SESSIONS; i++) store.hitSync(undefined, freshId);
const fillMs = performance.now() - started;
const after = settledHeap();
if (store.size() !== SESSIONS) throw new Error(`expected ${SESSIONS} sessions, store holds ${store.size()}`);

const perSession = (after - before) / SESSIONS;
const met = perSession <= TARGET_BYTES;
console.log(
  `${perSession.toFixed(1)} bytes/session (${met ? "met" : "missed"}), fill ${fillMs.toFixed(0)} ms`,
);

const markdown = `## Memory store heap per session (\`bench/session-memory.ts\`)

${machineLine()}

| What                                                     | Measured                 | Target  | Met |
| -------------------------------------------------------- | ------------------------ | ------- | --- |
| heap per idle session, ${SESSIONS.toLocaleString("en-US")} sessions in \`MemoryStore\` | ${perSession.toFixed(1)} bytes | ≤ ${TARGET_BYTES} B | ${met ? "met" : "missed"} |

Sessions are created with \`hitSync(undefined, freshId)\`, ids like the service's (16 random bytes,
base64url, 22 characters); the figure is \`heapUsed\` after forced full GCs minus before, divided by the
session count, so it includes the id string, the entry object and the Map's share of its hash table.
Filling took ${(fillMs / 1000).toFixed(2)} s. Node.js 20 release builds run V8 without pointer compression, so every
tagged field is 8 bytes.
`;
await writeSection("session-memory", markdown);
store.close();
