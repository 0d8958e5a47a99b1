import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEPLOY, startTestMesh, type TestMesh } from "../helpers/mesh.js";

describe("session-affinity scale", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, { manifests: [join(DEPLOY, "session.yaml")], replicas: 1 });
  });
  after(() => tm?.stop());

  it("accepts the walkthrough's deployment.v1.apps/NAME and deployment/NAME", async () => {
    const r = await tm.cli("scale", "deployment.v1.apps/session-deployment", "--replicas=3");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/session-deployment scaled\n");
    await tm.mesh.waitSettled(20_000);
    assert.equal(tm.mesh.views().pods.length, 3);
    assert.equal((await tm.cli("scale", "deployment/session-deployment", "--replicas=1")).code, 0);
    await tm.mesh.waitSettled(20_000);
    assert.equal(tm.mesh.views().pods.length, 1);
  });

  it("bad input: exit 2 naming the problem", async () => {
    const cases: [string[], string][] = [
      [["deployment/session-deployment"], "scale: --replicas=N is required"],
      [
        ["deployment/session-deployment", "--replicas=-1"],
        "scale: --replicas=-1 is not a non-negative integer",
      ],
      [
        ["service/session-svc", "--replicas=2"],
        "scale: service/session-svc: only deployments can be named here",
      ],
      [["deployment/nope", "--replicas=2"], 'deployments.apps "nope" not found in namespace default'],
    ];
    for (const [args, message] of cases) {
      const r = await tm.cli("scale", ...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr, `session-affinity: ${message}\n`);
    }
  });
});
