import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { type TestContext, test } from "node:test";
import type { SessionStore } from "../../src/app/session-store.js";

const freshId = () => randomBytes(16).toString("base64url");

/** The behaviour every SessionStore guarantees; each store's test file runs it against its own backend. */
export function sessionStoreContract(name: string, create: () => Promise<SessionStore>): void {
  // Closed after each test whatever happens, so a failing assertion cannot leave a client reconnecting.
  const open = async (t: TestContext) => {
    const store = await create();
    t.after(() => store.close());
    return store;
  };

  test(`${name}: a missing id creates a session at count 1 with the fresh id`, async (t) => {
    const store = await open(t);
    const hit = await store.hit(undefined, () => "fresh-id-000000000000a");
    assert.deepEqual(hit, { id: "fresh-id-000000000000a", count: 1, created: true });
  });

  test(`${name}: each hit on a known id counts up by one`, async (t) => {
    const store = await open(t);
    const first = await store.hit(undefined, freshId);
    const counts = [];
    for (let i = 0; i < 5; i++) counts.push((await store.hit(first.id, freshId)).count);
    assert.deepEqual(counts, [2, 3, 4, 5, 6]);
  });

  test(`${name}: an unknown id is never adopted; a fresh id is created instead`, async (t) => {
    const store = await open(t);
    const hit = await store.hit("client-chosen-id-00000", () => "server-minted-id-00000");
    assert.deepEqual(hit, { id: "server-minted-id-00000", count: 1, created: true });
    assert.equal(await store.peek("client-chosen-id-00000"), undefined);
  });

  test(`${name}: peek reports the count without changing it`, async (t) => {
    const store = await open(t);
    const { id } = await store.hit(undefined, freshId);
    await store.hit(id, freshId);
    assert.equal(await store.peek(id), 2);
    assert.equal(await store.peek(id), 2);
    assert.equal((await store.hit(id, freshId)).count, 3);
  });

  test(`${name}: 250 concurrent hits on one session advance it by exactly 250`, async (t) => {
    const store = await open(t);
    const { id } = await store.hit(undefined, freshId);
    const hits = await Promise.all(Array.from({ length: 250 }, () => store.hit(id, freshId)));
    const counts = hits.map((h) => h.count).sort((a, b) => a - b);
    assert.deepEqual(
      counts,
      Array.from({ length: 250 }, (_, i) => i + 2),
      "every count from 2 to 251 handed out exactly once",
    );
    assert.equal(await store.peek(id), 251);
  });

  test(`${name}: sessions are independent`, async (t) => {
    const store = await open(t);
    const a = await store.hit(undefined, freshId);
    const b = await store.hit(undefined, freshId);
    await store.hit(a.id, freshId);
    await store.hit(a.id, freshId);
    assert.equal(await store.peek(a.id), 3);
    assert.equal(await store.peek(b.id), 1);
  });
}
