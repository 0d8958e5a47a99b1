import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RedisStore } from "../../src/app/redis-store.js";
import { SessionAffinityError } from "../../src/errors.js";
import { type RedisCluster, startRedisCluster } from "../helpers/redis-cluster.js";
import { type RedisServer, startRedis } from "../helpers/redis-server.js";
import { sessionStoreContract } from "./session-store-contract.js";

let redis: RedisServer;
let cluster: RedisCluster;
let prefixes = 0;

before(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster(3, 0)]);
});
after(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

const single = () =>
  new RedisStore({
    url: redis.url,
    clusterNodes: [],
    keyPrefix: `t${prefixes++}:`,
    ttlSeconds: 60,
    timeoutMs: 1000,
  });
const clustered = () =>
  new RedisStore({
    url: "redis://127.0.0.1:6379",
    clusterNodes: cluster.seeds,
    keyPrefix: `c${prefixes++}:`,
    ttlSeconds: 60,
    timeoutMs: 2000,
  });

sessionStoreContract("redis", async () => single());
sessionStoreContract("redis cluster (3 masters)", async () => clustered());

test("redis: a session key carries the TTL and every hit refreshes it", async () => {
  const store = new RedisStore({
    url: redis.url,
    clusterNodes: [],
    keyPrefix: "ttl:",
    ttlSeconds: 5,
    timeoutMs: 1000,
  });
  const { id } = await store.hit(undefined, () => "ttl-session-0000000000");
  const { Redis } = await import("ioredis");
  const probe = new Redis(redis.url);
  try {
    const first = await probe.pttl(`ttl:${id}`);
    assert.ok(first > 4000 && first <= 5000, `pttl ${first}`);
    await probe.pexpire(`ttl:${id}`, 1000);
    await store.hit(id, () => "unused");
    const refreshed = await probe.pttl(`ttl:${id}`);
    assert.ok(refreshed > 4000, `pttl after hit ${refreshed}`);
    assert.equal(await probe.get(`ttl:${id}`), "2");
  } finally {
    probe.disconnect();
    await store.close();
  }
});

test("redis cluster: sessions spread over the masters' slots and all keep counting", async (t) => {
  const store = clustered();
  t.after(() => store.close());
  const ids: string[] = [];
  for (let i = 0; i < 30; i++)
    ids.push((await store.hit(undefined, () => `cluster-session-${String(i).padStart(6, "0")}`)).id);
  for (const id of ids) await store.hit(id, () => "unused");
  for (const id of ids) assert.equal(await store.peek(id), 2);
});

test("redis: an unreachable server fails within the store timeout with ERR_STORE_UNAVAILABLE", async (t) => {
  const store = new RedisStore({
    url: "redis://127.0.0.1:1",
    clusterNodes: [],
    keyPrefix: "x:",
    ttlSeconds: 60,
    timeoutMs: 300,
  });
  t.after(() => store.close());
  const started = Date.now();
  await assert.rejects(
    store.hit(undefined, () => "a"),
    (err: unknown) => {
      assert.ok(err instanceof SessionAffinityError);
      assert.equal(err.code, "ERR_STORE_UNAVAILABLE");
      return true;
    },
  );
  await assert.rejects(store.peek("a"), SessionAffinityError);
  assert.ok(Date.now() - started < 5000, "both calls gave up near the 300 ms timeout");
});
