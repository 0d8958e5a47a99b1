import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createConnection, type Socket } from "node:net";
import { test } from "node:test";
import { MemoryStore } from "../../src/app/memory-store.js";
import { record } from "../helpers/reliability.js";
import { startTestService } from "../helpers/service.js";

test("a flood of 1,000,000 new sessions keeps the memory store at MAX_SESSIONS and the heap bounded", async () => {
  const max = 50_000;
  const store = new MemoryStore({ maxSessions: max, ttlSeconds: 1800, now: () => 0 });
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  for (let i = 0; i < 1_000_000; i++) {
    store.hitSync(undefined, () => randomBytes(16).toString("base64url"));
    if (i % 100_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  assert.equal(store.size(), max);
  const grown = peak - before;
  // 50,000 sessions at a few hundred bytes each plus garbage not yet collected; a leak of 1M would be far above.
  assert.ok(grown < 120 * 2 ** 20, `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB`);
  record({
    group: "hostile",
    scenario: "flood of 1,000,000 new sessions into the memory store (MAX_SESSIONS 50,000)",
    load: "1,000,000 session creations",
    faults: "none",
    badInputs: 1_000_000,
    requests: 1_000_000,
    failed: 0,
    sessionsLost: 0,
    notes: `store held ${store.size()} sessions; heap grew ${(grown / 2 ** 20).toFixed(1)} MiB at peak; oldest evicted first (next test)`,
  });
  await store.close();
});

test("the oldest sessions are the ones evicted by a flood; recently used ones survive", async () => {
  const store = new MemoryStore({ maxSessions: 1000, ttlSeconds: 1800, now: () => 0 });
  const keep = store.hitSync(undefined, () => "keep-me");
  const lose = store.hitSync(undefined, () => "lose-me");
  for (let i = 0; i < 5000; i++) {
    store.hitSync(undefined, () => `flood-${i}`);
    if (i % 500 === 0) store.hitSync(keep.id, () => "unused");
  }
  assert.ok((await store.peek("keep-me")) !== undefined);
  assert.equal(await store.peek("lose-me"), undefined);
  assert.equal(lose.count, 1);
  await store.close();
});

test("slowloris clients that never finish their headers are cut off while others are served", async (t) => {
  const service = await startTestService(t);
  const slow: Socket[] = [];
  const closedAt: number[] = [];
  const started = Date.now();
  for (let i = 0; i < 30; i++) {
    const s = createConnection({ host: "127.0.0.1", port: service.port });
    s.on("error", () => {});
    s.on("close", () => closedAt.push(Date.now() - started));
    s.write("GET /user HTTP/1.1\r\nHost: x\r\n");
    slow.push(s);
  }
  const drip = setInterval(() => {
    for (const s of slow)
      if (!s.destroyed) s.write(`X-Drip-${Math.random().toString(36).slice(2, 6)}: 1\r\n`);
  }, 500);
  t.after(() => {
    clearInterval(drip);
    for (const s of slow) s.destroy();
  });
  // Others are served normally while the slow ones hang on.
  for (let i = 0; i < 5; i++) {
    const r = await fetch(`${service.url}/user`);
    assert.equal(r.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // The headers timeout (10 s) closes every slow connection; wait at most 15 s.
  for (let i = 0; i < 150 && closedAt.length < slow.length; i++) await new Promise((r) => setTimeout(r, 100));
  clearInterval(drip);
  assert.equal(closedAt.length, slow.length, "every slow connection was closed by the server");
  assert.ok(Math.max(...closedAt) < 15_000);
  assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  record({
    group: "hostile",
    scenario: "slowloris heads against one replica",
    load: "30 slow connections + 5 normal requests",
    faults: "none",
    badInputs: slow.length,
    requests: 5,
    failed: 0,
    sessionsLost: 0,
    notes: `every slow connection closed by the headers timeout within ${(Math.max(...closedAt) / 1000).toFixed(1)} s`,
  });
});
