import assert from "node:assert/strict";
import { test } from "node:test";
import { startRedisCluster } from "../helpers/redis-cluster.js";
import { record, sleep } from "../helpers/reliability.js";
import { CookieJar, startTestService } from "../helpers/service.js";

test("Redis Cluster: a master stopped under load fails over and the service keeps serving", async (t) => {
  const cluster = await startRedisCluster(3, 1);
  t.after(() => cluster.stop());
  await cluster.waitReplicasSynced(20_000);
  const service = await startTestService(t, {
    SESSION_STORE: "redis",
    REDIS_CLUSTER_NODES: cluster.seeds.join(","),
    SESSION_SECRET: "redis-cluster-failover-secret",
    STORE_TIMEOUT_MS: "500",
  });
  const jars = Array.from({ length: 60 }, () => new CookieJar());
  const counts = jars.map(() => [] as number[]);
  const failures: number[] = [];
  const get = async (i: number) => {
    const jar = jars[i] as CookieJar;
    const r = await fetch(`${service.url}/user`, {
      headers: { ...jar.header(), accept: "application/json" },
    });
    jar.store(r);
    const body = await r.text();
    if (r.status === 200) (counts[i] as number[]).push((JSON.parse(body) as { count: number }).count);
    else failures.push(r.status);
    return r.status;
  };
  for (let i = 0; i < jars.length; i++) await get(i);

  const masters = await cluster.masters();
  const victimPort = masters.find((p) => p !== cluster.nodes[0]?.port);
  const victim = cluster.nodes.find((n) => n.port === victimPort);
  assert.ok(victim);
  const victimSlots = await cluster.slotsOf(victim.port);
  assert.ok(victimSlots.length > 0, "the victim serves slots");
  let running = true;
  let requests = 0;
  let lastOk = 0;
  const loop = async (w: number) => {
    for (let i = w; running; i = (i + 8) % jars.length) {
      requests++;
      if ((await get(i)) === 200) lastOk = performance.now();
      await sleep(5);
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => loop(w));
  await sleep(300);
  const stoppedAt = performance.now();
  await victim.kill();
  // cluster-node-timeout is 1 s: a replica is promoted a little after that.
  let promotedAfterMs = Number.NaN;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const now = await cluster.masters().catch(() => [] as number[]);
    if (now.length === 3 && !now.includes(victimPort as number)) {
      promotedAfterMs = performance.now() - stoppedAt;
      break;
    }
    await sleep(100);
  }
  await cluster.waitHealthy(20_000);
  // Serving again on every slot: every session answers once more after the failover.
  const servedAgain = performance.now();
  await sleep(1500);
  running = false;
  await Promise.all(workers);
  const backwards = counts.flatMap((c, i) =>
    c.slice(1).flatMap((n, k) => (n <= (c[k] as number) ? [`#${i}`] : [])),
  );
  const final = await Promise.all(jars.map((_, i) => get(i)));
  // Redis Cluster replicates asynchronously: increments the killed master acknowledged but had not yet
  // passed to its replica are lost with it, so those sessions may count back. Any other session must not.
  const ids = jars.map((jar, i) => {
    const id = jar.value?.split("=")[1]?.split(".")[0];
    assert.ok(id, `session #${i} has an id`);
    return id;
  });
  const slots = await cluster.keySlots(ids.map((id) => `session:${id}`));
  const victimSessions = new Set(
    slots.flatMap((slot, i) =>
      victimSlots.some(([first, last]) => slot >= first && slot <= last) ? [`#${i}`] : [],
    ),
  );
  const countedBack = new Set(backwards);
  const unexplained = [...countedBack].filter((s) => !victimSessions.has(s));
  record({
    group: "faults",
    scenario: "Redis Cluster (3 masters + 3 replicas): a master SIGKILLed under load",
    load: `8 concurrent clients, ${jars.length} sessions, ${requests} requests`,
    faults: `master :${victimPort} SIGKILLed; replica promoted after ${promotedAfterMs.toFixed(0)} ms`,
    badInputs: 0,
    requests: requests + jars.length * 2,
    failed: failures.length,
    sessionsLost: countedBack.size,
    notes:
      `failures all 503 + Retry-After while the slots had no master; every session served after the failover; ` +
      `${countedBack.size} of the ${victimSessions.size} sessions on the killed master counted back (unreplicated increments)`,
  });
  assert.ok(Number.isFinite(promotedAfterMs), "a replica was promoted");
  assert.ok(lastOk > servedAgain, "served after the failover");
  assert.deepEqual(
    final.filter((s) => s !== 200),
    [],
  );
  assert.ok(victimSessions.size > 0, "the killed master held sessions");
  assert.deepEqual(unexplained, [], "only sessions on the killed master may count back");
  for (const status of failures) assert.equal(status, 503);
});
