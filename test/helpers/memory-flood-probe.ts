/**
 * Run as `node --expose-gc --import tsx memory-flood-probe.ts MAX N`: floods a MemoryStore with N new
 * sessions and prints {size, retainedBytes} as JSON — what the store holds after a full collection.
 * A child process, because a collector switched on at run time does not compact like one given at start.
 */
import { randomBytes } from "node:crypto";
import { MemoryStore } from "../../src/app/memory-store.js";

const [max, n] = process.argv.slice(2).map(Number) as [number, number];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const store = new MemoryStore({ maxSessions: max, ttlSeconds: 1800, now: () => 0 });
for (let i = 0; i < n; i++) store.hitSync(undefined, () => randomBytes(16).toString("base64url"));
const size = store.size();
gc();
const withSessions = process.memoryUsage().heapUsed;
await store.close();
gc();
process.stdout.write(JSON.stringify({ size, retainedBytes: withSessions - process.memoryUsage().heapUsed }));
