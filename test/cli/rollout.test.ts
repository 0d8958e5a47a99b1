import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEPLOY, startTestMesh, type TestMesh } from "../helpers/mesh.js";

describe("session-affinity rollout", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, { manifests: [join(DEPLOY, "session.yaml")], replicas: 2 });
  });
  after(() => tm?.stop());

  it("restart replaces every pod with pods of a new template hash; status waits for it", async () => {
    const before = tm.mesh.views().pods.map((p) => p.templateHash);
    const r = await tm.cli("rollout", "restart", "deployment/session-deployment");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/session-deployment restarted\n");
    const status = await tm.cli("rollout", "status", "deployment/session-deployment");
    assert.equal(status.stdout, 'deployment "session-deployment" successfully rolled out\n');
    const hashes = new Set(tm.mesh.views().pods.map((p) => p.templateHash));
    assert.equal(hashes.size, 1);
    assert.equal(hashes.has(before[0] ?? ""), false);
  });

  it("bad input: exit 2", async () => {
    const r = await tm.cli("rollout", "undo", "deployment/session-deployment");
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "session-affinity: rollout: 'undo' — use restart or status\n");
    assert.equal((await tm.cli("rollout", "restart")).code, 2);
  });
});
