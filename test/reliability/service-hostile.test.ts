import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { MemoryStore } from "../../src/app/memory-store.js";
import { record } from "../helpers/reliability.js";
import { startTestService } from "../helpers/service.js";

const FLOOD_PROBE = join(import.meta.dirname, "..", "helpers", "memory-flood-probe.ts");

test("a flood of 1,000,000 new sessions keeps the memory store at MAX_SESSIONS and the heap bounded", async () => {
  const max = 50_000;
  const probe = (n: number) => {
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", FLOOD_PROBE, String(max), String(n)],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    return JSON.parse(out) as { size: number; retainedBytes: number };
  };
  const filled = probe(max);
  const flooded = probe(1_000_000);
  assert.equal(flooded.size, max);
  const grown = flooded.retainedBytes;
  // Bounded means a 20× bigger flood retains about what a store just filled to MAX_SESSIONS does
  // (~120 bytes a session); keeping all 1,000,000 would retain ~115 MiB.
  assert.ok(
    grown < filled.retainedBytes * 1.5 + 2 * 2 ** 20,
    `retained ${(grown / 2 ** 20).toFixed(1)} MiB after the flood, ${(filled.retainedBytes / 2 ** 20).toFixed(1)} MiB when just full`,
  );
  record({
    group: "hostile",
    scenario: "flood of 1,000,000 new sessions into the memory store (MAX_SESSIONS 50,000)",
    load: "1,000,000 session creations",
    faults: "none",
    badInputs: 1_000_000,
    requests: 1_000_000,
    failed: 0,
    sessionsLost: 0,
    notes: `store held ${max} sessions; the store retained ${(grown / 2 ** 20).toFixed(1)} MiB (just full: ${(filled.retainedBytes / 2 ** 20).toFixed(1)} MiB); oldest evicted first (next test)`,
  });
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
