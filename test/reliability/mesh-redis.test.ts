import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { DEPLOY, startTestMesh, type TestMesh } from "../helpers/mesh.js";
import { type RedisServer, startRedis } from "../helpers/redis-server.js";
import { pool, record, sleep, TrackedSession } from "../helpers/reliability.js";
import { exactnessCases, loopSessions } from "./load.js";

const CLUSTER = "outbound|80||session-svc.default.svc.cluster.local";

/** Counters that went backwards, or skipped more increments than the session had failed requests. */
function lostOrBackwards(sessions: readonly TrackedSession[]): string[] {
  const out: string[] = [];
  for (const [i, s] of sessions.entries()) {
    let skipped = 0;
    for (const [a, b] of s.jumps()) {
      if (b <= a) out.push(`#${i}: ${a} → ${b}`);
      else skipped += b - a - 1;
    }
    // A request that failed may still have counted (its answer was lost); one that succeeded always did.
    if (skipped > s.failures.length + s.errors)
      out.push(`#${i}: ${skipped} skipped, ${s.failures.length} failed`);
  }
  return out;
}

// A private append-only Redis (appendfsync always) that the test may kill: the mesh does not own it.
describe("Redis store behind the gateway, 5 replicas", () => {
  let tm: TestMesh;
  let redis: RedisServer;
  before(async () => {
    // fsync on every write stalls past the store timeout on a shared disk under 1,000 clients; the load
    // runs with everysec and the Redis-kill scenario switches to always before it kills.
    redis = await startRedis({ appendOnly: true, extraArgs: ["--appendfsync", "everysec"] });
    tm = await startTestMesh(undefined, {
      manifests: [DEPLOY],
      replicas: 5,
      store: "redis",
      redisUrl: redis.url,
      readyTimeoutMs: 60_000,
    });
  });
  after(async () => {
    await tm?.stop();
    await redis?.stop();
  });

  exactnessCases(
    { clients: "1,000 clients through the gateway, Redis store", store: "Redis store" },
    () => tm.gatewayUrl,
  );

  it("SIGKILL of a replica under load: no counter lost or going backwards", async () => {
    const sessions = Array.from({ length: 200 }, () => new TrackedSession(tm.gatewayUrl));
    await pool(sessions, 50, async (s) => {
      await s.get();
    });
    const victim = tm.mesh.replicaSets.pods().find((p) => p.ready);
    assert.ok(victim?.port);
    const address = `127.0.0.1:${victim.port}`;
    const concurrency = 24;
    let removedAfterMs = Number.NaN;
    const load = await loopSessions(sessions, concurrency, async () => {
      await sleep(300);
      const killedAt = performance.now();
      victim.signal("SIGKILL");
      await tm.mesh.waitFor(
        () => !tm.mesh.clusters.get(CLUSTER)?.endpoints.some((e) => e.address === address),
        2000,
        "the endpoint to be removed",
      );
      removedAfterMs = performance.now() - killedAt;
      await tm.mesh.waitSettled(30_000);
      await sleep(1000);
    });
    const failures = sessions.flatMap((s) => s.failures.map((f) => `${f.status} ${f.body.trim()}`));
    const errors = sessions.reduce((n, s) => n + s.errors, 0);
    const broken = lostOrBackwards(sessions);
    record({
      group: "faults",
      scenario: "SIGKILL of a replica under load, Redis store",
      load: `${concurrency} concurrent clients, ${sessions.length} sessions`,
      faults: `SIGKILL of ${victim.name}; endpoint removed after ${removedAfterMs.toFixed(0)} ms`,
      badInputs: 0,
      requests: load.requests,
      failed: failures.length + errors,
      sessionsLost: broken.length,
    });
    assert.ok(removedAfterMs < 2000);
    assert.ok(failures.length + errors <= concurrency, `${failures.length + errors} failures: ${failures}`);
    assert.deepEqual(broken, []);
  });

  it("Redis SIGKILLed and restarted under load: every replica stays ready, each failure a 503 + Retry-After from a replica, back within 500 ms, nothing acknowledged lost", async () => {
    await tm.mesh.waitSettled(30_000);
    const admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
    await admin.config("SET", "appendfsync", "always");
    assert.deepEqual(await admin.config("GET", "appendfsync"), ["appendfsync", "always"]);
    admin.disconnect();
    const restartsBefore = tm.mesh.views().pods.reduce((n, p) => n + p.restarts, 0);
    const sessions = Array.from({ length: 100 }, () => new TrackedSession(tm.gatewayUrl));
    await pool(sessions, 50, async (s) => {
      await s.get();
    });
    let downAt = 0;
    let upAt = 0;
    let firstOkAfterUp = 0;
    let endpointsWhileDown = -1;
    const concurrency = 16;
    const load = await loopSessions(
      sessions,
      concurrency,
      async () => {
        await sleep(300);
        await redis.kill();
        downAt = performance.now();
        // Longer than a readiness period, so whatever the probes make of the outage shows.
        await sleep(3000);
        endpointsWhileDown = tm.mesh.clusters.get(CLUSTER)?.endpoints.length ?? 0;
        // Started again on the same directory: it replays the append-only file it was killed with.
        await redis.restart();
        upAt = performance.now();
        const deadline = Date.now() + 10_000;
        while (firstOkAfterUp === 0 && Date.now() < deadline) await sleep(10);
        await sleep(1500);
      },
      () => {
        if (upAt > 0 && firstOkAfterUp === 0) firstOkAfterUp = performance.now();
      },
    );
    const failures = sessions.flatMap((s) => s.failures);
    const withRetryAfter = failures.filter((f) => f.status === 503 && f.headers.get("retry-after") === "1");
    // Readiness is the pod's own, so the outage leaves every endpoint in place: the gateway never has
    // to answer "no healthy upstream" (which carries no Retry-After) for the replicas.
    const noUpstream = failures.filter((f) => f.status === 503 && f.body.trim() === "no healthy upstream");
    const other = failures.filter((f) => !withRetryAfter.includes(f) && !noUpstream.includes(f));
    const errors = sessions.reduce((n, s) => n + s.errors, 0);
    const broken = lostOrBackwards(sessions);
    // The final read of every session: one more than its last acknowledged counter, at least.
    const finals = await Promise.all(sessions.map((s) => s.get({ readOnlyJar: true })));
    const regressed = sessions.filter((s, i) => (finals[i]?.count ?? 0) <= (s.counts.at(-2) ?? 0));
    const restartsAfter = tm.mesh.views().pods.reduce((n, p) => n + p.restarts, 0);
    const recoveryMs = firstOkAfterUp - upAt;
    const kinds = new Map<string, number>();
    for (const f of other) {
      const key = `${f.status} ${f.body.trim().slice(0, 40)}`;
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    }
    record({
      group: "faults",
      scenario: "Redis SIGKILLed and restarted under load (AOF, appendfsync always)",
      load: `${concurrency} concurrent clients, ${sessions.length} sessions`,
      faults: `redis-server SIGKILL, down ${((upAt - downAt) / 1000).toFixed(1)} s, restarted on its AOF; first 200 ${recoveryMs.toFixed(0)} ms after; endpoints while down ${endpointsWhileDown}/5`,
      badInputs: 0,
      requests: load.requests,
      failed: failures.length + errors,
      sessionsLost: broken.length + regressed.length,
      notes:
        `while down: ${withRetryAfter.length} × 503 + Retry-After: 1 from the replicas, ` +
        `${noUpstream.length} × 503 "no healthy upstream" from the gateway` +
        `${[...kinds].map(([k, n]) => `, ${n} × ${k}`).join("")}; replica restarts ${restartsAfter - restartsBefore}`,
    });
    console.log(
      `# redis down: ${withRetryAfter.length} 503+Retry-After, ${noUpstream.length} no healthy upstream, other: ${JSON.stringify([...kinds])}, recovery ${recoveryMs.toFixed(0)} ms`,
    );
    assert.ok(withRetryAfter.length > 0, "the replicas answered the outage with 503 + Retry-After");
    assert.equal(endpointsWhileDown, 5, "every replica stayed an endpoint through the outage");
    assert.equal(noUpstream.length, 0, "no replica left the endpoints: the gateway never answered for them");
    assert.deepEqual([...kinds], [], "every failure is a replica's 503 with Retry-After");
    assert.equal(errors, 0);
    assert.ok(recoveryMs <= 500, `first 200 ${recoveryMs.toFixed(0)} ms after redis returned`);
    assert.equal(restartsAfter, restartsBefore, "no replica crashed");
    assert.deepEqual(broken, []);
    assert.deepEqual(regressed.length, 0);
  });
});
