import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryStore } from "../../src/app/memory-store.js";
import { sessionStoreContract } from "./session-store-contract.js";

sessionStoreContract("memory", async () => new MemoryStore({ maxSessions: 10_000, ttlSeconds: 60 }));

function manualClock() {
  let now = 0;
  return { now: () => now, advance: (s: number) => (now += s) };
}

test("memory: a session idle for longer than the TTL is gone and its id is not revived", async () => {
  const clock = manualClock();
  const store = new MemoryStore({ maxSessions: 10, ttlSeconds: 30, now: clock.now });
  const { id } = store.hitSync(undefined, () => "a");
  clock.advance(30);
  assert.equal(await store.peek(id), undefined);
  assert.deepEqual(
    store.hitSync(id, () => "b"),
    { id: "b", count: 1, created: true },
  );
  await store.close();
});

test("memory: every hit slides the expiry", async () => {
  const clock = manualClock();
  const store = new MemoryStore({ maxSessions: 10, ttlSeconds: 30, now: clock.now });
  store.hitSync(undefined, () => "a");
  for (let i = 0; i < 5; i++) {
    clock.advance(20);
    assert.equal(store.hitSync("a", () => "x").created, false);
  }
  assert.equal(await store.peek("a"), 6);
  await store.close();
});

test("memory: beyond MAX_SESSIONS the least recently used session is evicted first", async () => {
  const store = new MemoryStore({ maxSessions: 3, ttlSeconds: 60, now: () => 0 });
  for (const id of ["a", "b", "c"]) store.hitSync(undefined, () => id);
  store.hitSync("a", () => "x"); // a is now the most recent; b the least
  store.hitSync(undefined, () => "d");
  assert.equal(store.size(), 3);
  assert.equal(await store.peek("b"), undefined);
  assert.equal(await store.peek("a"), 2);
  assert.equal(await store.peek("c"), 1);
  assert.equal(await store.peek("d"), 1);
  await store.close();
});

test("memory: a flood of 200,000 new sessions stays within MAX_SESSIONS", async () => {
  const store = new MemoryStore({ maxSessions: 1000, ttlSeconds: 60, now: () => 0 });
  let n = 0;
  for (let i = 0; i < 200_000; i++) store.hitSync(undefined, () => `s${n++}`);
  assert.equal(store.size(), 1000);
  assert.equal(await store.peek("s199999"), 1);
  assert.equal(await store.peek("s198999"), undefined);
  await store.close();
});

test("memory: expired sessions are reclaimed from the old end only, up to the limit", async () => {
  const clock = manualClock();
  const store = new MemoryStore({ maxSessions: 100, ttlSeconds: 10, now: clock.now });
  for (let i = 0; i < 5; i++) store.hitSync(undefined, () => `old${i}`);
  clock.advance(5);
  for (let i = 0; i < 3; i++) store.hitSync(undefined, () => `new${i}`);
  clock.advance(6); // old* expired, new* still live
  assert.equal(store.reclaimExpired(2), 2);
  assert.equal(store.reclaimExpired(100), 3);
  assert.equal(store.reclaimExpired(100), 0);
  assert.equal(store.size(), 3);
  await store.close();
});
