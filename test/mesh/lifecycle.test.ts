import assert from "node:assert/strict";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CookieJar, DEPLOY, FIXTURES, startTestMesh, type TestMesh, underLoad } from "../helpers/mesh.js";

const CLUSTER = "outbound|80||session-svc.default.svc.cluster.local";

describe("pods come and go under load", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, { manifests: [DEPLOY], replicas: 5 });
  });
  after(() => tm?.stop());

  /** Four clients, each with its own cookie jar, looping GET /user until `during` ends. */
  const load = (during: () => Promise<void>) => {
    const jars = Array.from({ length: 4 }, () => new CookieJar());
    let next = 0;
    return underLoad(4, () => tm.get("/user", { jar: jars[next++ % 4] }), during);
  };

  it("scale 5→6→3 and rollout restart: no failed GET", async () => {
    const result = await load(async () => {
      await tm.client.scale("session-deployment", 6);
      await tm.mesh.waitSettled(20_000);
      await tm.client.scale("session-deployment", 3);
      await tm.mesh.waitSettled(20_000);
      const before = new Set(tm.mesh.views().pods.map((p) => p.templateHash));
      await tm.client.rolloutRestart("session-deployment");
      await tm.mesh.waitSettled(30_000);
      const afterHashes = new Set(tm.mesh.views().pods.map((p) => p.templateHash));
      assert.equal(afterHashes.size, 1);
      assert.notDeepEqual([...afterHashes], [...before], "new template hash after a restart");
    });
    console.log(`# scale/rollout under load: ${result.total} requests, ${result.failed.length} failed`);
    assert.ok(result.total > 100, `only ${result.total} requests`);
    assert.deepEqual(
      result.failed.map((r) => `${r.status} ${r.body}`),
      [],
    );
    assert.deepEqual(result.errors, []);
  });

  it("a SIGKILLed pod: its endpoint is gone within 1 s and only requests sent before that can fail", async () => {
    await tm.client.scale("session-deployment", 5);
    await tm.mesh.waitSettled(20_000);
    const victim = tm.mesh.replicaSets.pods().find((p) => p.ready);
    assert.ok(victim?.port);
    const address = `127.0.0.1:${victim.port}`;
    let killedAt = Number.NaN;
    let removedAt = Number.NaN;
    const jars = Array.from({ length: 4 }, () => new CookieJar());
    let next = 0;
    const sent = async () => {
      const startedAt = performance.now();
      return { ...(await tm.get("/user", { jar: jars[next++ % 4] })), startedAt };
    };
    const result = await underLoad(4, sent, async () => {
      await new Promise((r) => setTimeout(r, 300));
      killedAt = performance.now();
      victim.signal("SIGKILL");
      await tm.mesh.waitFor(
        () => !tm.mesh.clusters.get(CLUSTER)?.endpoints.some((e) => e.address === address),
        1000,
        "the endpoint to be removed",
      );
      removedAt = performance.now();
      await tm.mesh.waitSettled(20_000);
    });
    console.log(
      `# SIGKILL: endpoint removed after ${(removedAt - killedAt).toFixed(1)} ms; ${result.failed.length} of ${result.total} requests failed`,
    );
    assert.ok(removedAt - killedAt < 1000);
    // A request can fail only if it reached the pod before the gateway saw it die: in flight when it
    // died, or written on a pooled connection whose close was not yet read. Envoy fails those the same
    // way, as Istio's default retry policy does not retry a reset.
    for (const f of result.failed) {
      assert.equal(f.status, 503, f.body);
      assert.match(f.body, /^upstream connect error or disconnect\/reset before headers/);
      assert.ok(f.startedAt <= removedAt, "a request sent after the endpoint was removed failed");
    }
    const restarted = tm.mesh.views().pods.find((p) => p.name === victim.name);
    assert.equal(restarted?.restarts, 1, "the kubelet restarts the container in place");
    // A restarted container keeps its pod's IP: the same endpoint, so the ring is as it was.
    assert.ok(
      tm.mesh.clusters.get(CLUSTER)?.endpoints.some((e) => e.address === address),
      `the restarted pod is back at ${address}`,
    );
  });

  it("a deleted pod is replaced by one with a new name", async () => {
    const [first] = tm.mesh.views().pods;
    assert.ok(first);
    await tm.client.deletePod(first.name, { wait: true });
    await tm.mesh.waitSettled(20_000);
    const names = tm.mesh.views().pods.map((p) => p.name);
    assert.equal(names.length, 5);
    assert.equal(names.includes(first.name), false);
  });
});

describe("a container that keeps crashing", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, { backoffInitialMs: 200, backoffMaxMs: 10_000 });
  });
  after(() => tm?.stop());

  it("restarts with back-off and shows CrashLoopBackOff", async () => {
    const file = join(FIXTURES, "crashing.yaml");
    await tm.client.apply(file, await readFile(file, "utf8"));
    const statuses = new Set<string>();
    await tm.mesh.waitFor(
      () => {
        const pod = tm.mesh.views().pods[0];
        if (pod) statuses.add(pod.status);
        return (pod?.restarts ?? 0) >= 6 && pod?.status === "CrashLoopBackOff";
      },
      40_000,
      "CrashLoopBackOff",
    );
    // Back-off doubles from 200 ms: the sixth restart waits 6.4 s, long enough for the CLI to start and
    // look even on a busy machine (at 3.2 s a loaded CI run once saw the next restart instead).
    const pods = tm.mesh.views().pods;
    assert.equal(pods.length, 1, "restarted in place, not replaced");
    const get = await tm.cli("get", "pods");
    assert.match(get.stdout, /crashing-\S+\s+0\/1\s+CrashLoopBackOff\s+\d+ \(\d+s ago\)/);
  });
});

describe("a pod whose old port is taken during its back-off", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, { manifests: [DEPLOY], replicas: 1, backoffInitialMs: 800 });
  });
  after(() => tm?.stop());

  it("comes back on another port without crashing once more", async () => {
    await tm.mesh.waitSettled(20_000);
    const pod = tm.mesh.replicaSets.pods()[0];
    assert.ok(pod?.port);
    const firstPort = pod.port;
    // The first restart is immediate and keeps the port; the second waits out the back-off.
    pod.signal("SIGKILL");
    const restarts = () => tm.mesh.views().pods[0]?.restarts;
    await tm.mesh.waitFor(() => restarts() === 1 && pod.ready, 20_000, "the first restart");
    assert.equal(pod.port, firstPort, "the first restart keeps the port");
    pod.signal("SIGKILL");
    await tm.mesh.waitFor(() => restarts() === 2, 5000, "the second exit");
    const squatter = createServer();
    squatter.listen(firstPort, "127.0.0.1");
    await once(squatter, "listening");
    try {
      await tm.mesh.waitFor(() => pod.ready, 20_000, "the pod to be ready again");
      assert.notEqual(pod.port, firstPort);
      assert.equal(restarts(), 2, "two kills, two restarts: no crash on a taken port");
    } finally {
      squatter.close();
    }
  });
});
