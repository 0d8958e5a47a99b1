import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { simulate } from "../../src/lb/simulate.js";
import { DEPLOY, gatewayGet, startTestMesh, type TestMesh } from "../helpers/mesh.js";
import { pool, record, sleep, TrackedSession } from "../helpers/reliability.js";
import { exactnessCases, loopSessions } from "./load.js";

const CLUSTER = "outbound|80||session-svc.default.svc.cluster.local";

// deploy/ as the walkthrough ends: 5 replicas, memory store, the cookie DestinationRule in force.
describe("memory store behind the gateway, DestinationRule applied, 5 replicas", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, { manifests: [DEPLOY], replicas: 5, readyTimeoutMs: 60_000 });
  });
  after(() => tm?.stop());

  exactnessCases(
    { clients: "1,000 clients through the gateway, memory store + DestinationRule", store: "memory store" },
    () => tm.gatewayUrl,
  );

  it("rolling restart, then scale 5→2→6, under load: zero failed GETs", async () => {
    const sessions = Array.from({ length: 64 }, () => new TrackedSession(tm.gatewayUrl));
    const started = performance.now();
    const load = await loopSessions(sessions, 32, async () => {
      await sleep(300);
      await tm.client.rolloutRestart("session-deployment");
      await tm.mesh.waitSettled(60_000);
      await tm.client.scale("session-deployment", 2);
      await tm.mesh.waitSettled(30_000);
      await tm.client.scale("session-deployment", 6);
      await tm.mesh.waitSettled(30_000);
      await sleep(300);
    });
    const ms = performance.now() - started;
    const failures = sessions.flatMap((s) => s.failures.map((f) => `${f.status} ${f.body.trim()}`));
    const errors = sessions.reduce((n, s) => n + s.errors, 0);
    // Memory sessions die with their pod on a restart: a counter may start again at 1, never anything else.
    const odd = sessions.flatMap((s) => s.jumps().filter(([, b]) => b !== 1));
    record({
      group: "faults",
      scenario: "rolling restart + scale 5→2→6 under load, memory store",
      load: `32 concurrent clients, 64 sessions, ${(ms / 1000).toFixed(1)} s`,
      faults: "rollout restart (5 pods replaced), scale 5→2, scale 2→6",
      badInputs: 0,
      requests: load.requests,
      failed: failures.length + errors,
      sessionsLost: odd.length,
      notes:
        "memory sessions end with their pod by design; counted here: counters that jumped other than back to 1",
    });
    assert.deepEqual(failures, []);
    assert.equal(errors, 0);
    assert.deepEqual(odd, []);
    assert.ok(load.requests > 200, `only ${load.requests} requests`);
  });

  it("SIGKILL of a replica under load: failures only in flight, only its sessions restart at 1", async () => {
    await tm.client.scale("session-deployment", 5);
    await tm.mesh.waitSettled(30_000);
    const count = 300;
    const sessions = Array.from({ length: count }, () => new TrackedSession(tm.gatewayUrl));
    // Every session exists (and counts ≥ 2) before the kill, so a reset shows as a jump back to 1.
    await pool(sessions, 50, async (s) => {
      await s.get();
      await s.get();
    });
    const victim = tm.mesh.replicaSets.pods().find((p) => p.ready);
    assert.ok(victim?.port);
    const address = `127.0.0.1:${victim.port}`;
    const concurrency = 24;
    let removedAfterMs = Number.NaN;
    const served = new Set<TrackedSession>();
    const load = await loopSessions(
      sessions,
      concurrency,
      async () => {
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
        served.clear();
        // Every session is served at least twice more on the final endpoint set.
        const deadline = Date.now() + 20_000;
        while (served.size < count && Date.now() < deadline) await sleep(50);
      },
      (s) => served.add(s),
    );
    const restartedPort = victim.port;
    const failures = sessions.flatMap((s) => s.failures.map((f) => `${f.status} ${f.body.trim()}`));
    const errors = sessions.reduce((n, s) => n + s.errors, 0);
    const resets = sessions.filter((s) => s.jumps().some(([, b]) => b === 1));
    const odd = sessions.flatMap((s) => s.jumps().filter(([, b]) => b !== 1));
    const predicted = simulate({
      sessions: 100_000,
      from: 5,
      to: 5,
      seed: 7,
      minRingSize: 1024,
      tableSize: 65537,
      policies: ["ring-hash"],
    });
    const pct = (name: string) => predicted.find((r) => r.scenario === name)?.movedPercent ?? Number.NaN;
    const removed = pct("remove one pod");
    record({
      group: "faults",
      scenario: "SIGKILL of a replica under load, memory store",
      load: `${concurrency} concurrent clients, ${count} sessions`,
      faults: `SIGKILL of ${victim.name}; endpoint removed after ${removedAfterMs.toFixed(0)} ms; restarted in place on port ${restartedPort} (was ${address.split(":")[1]})`,
      badInputs: 0,
      requests: load.requests,
      failed: failures.length + errors,
      sessionsLost: resets.length,
      notes:
        `sessions restarted at 1: ${resets.length}/${count} (${((100 * resets.length) / count).toFixed(1)} %); ` +
        `simulate (ring-hash, 5 pods): remove one pod ${removed.toFixed(1)} % ≈ ${Math.round((removed * count) / 100)} ` +
        "(the pod returns at its address, so only the sessions it held restart)",
    });
    console.log(
      `# SIGKILL (memory): removal ${removedAfterMs.toFixed(0)} ms, ${failures.length + errors}/${load.requests} failed, ${resets.length} sessions reset; predicted ${removed.toFixed(1)} %`,
    );
    assert.ok(removedAfterMs < 2000);
    assert.ok(failures.length + errors <= concurrency, `${failures.length + errors} failures: ${failures}`);
    for (const f of sessions.flatMap((s) => s.failures)) assert.equal(f.status, 503);
    assert.deepEqual(odd, [], "a counter moved other than +1 or back to 1");
    // The restarted container listens at its old address, so the ring is what it was and only the
    // sessions that lived on the killed pod restart. One pod's share of a 1024-entry ring over 5 hosts
    // strays well away from 20 %, and simulate's removed pod is not this one, so the band is wide.
    assert.equal(restartedPort, Number(address.split(":")[1]), "the pod came back at its address");
    assert.ok(resets.length > 0, "the killed pod held sessions");
    assert.ok(
      resets.length <= Math.ceil((removed * count) / 100) * 2 + 10,
      `${resets.length} resets, predicted ≈ ${((removed * count) / 100).toFixed(0)}`,
    );
    const again = await gatewayGet(tm.gatewayUrl, "/healthz");
    assert.equal(again.status, 200);
  });
});
