import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEPLOY, runCli, startTestMesh, type TestMesh } from "../helpers/mesh.js";

describe("session-affinity apply", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, { manifests: [join(DEPLOY, "session.yaml")], replicas: 1 });
  });
  after(() => tm?.stop());

  it("applies a file live and reports each object like kubectl; a re-apply is unchanged", async () => {
    const r = await tm.cli("apply", "-f", "deploy/session-gateway.yaml");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "gateway.networking.istio.io/session-gateway created\nvirtualservice.networking.istio.io/session created\n",
    );
    const again = await tm.cli("apply", "-f", "deploy/session-gateway.yaml");
    assert.equal(
      again.stdout,
      "gateway.networking.istio.io/session-gateway unchanged\nvirtualservice.networking.istio.io/session unchanged\n",
    );
    assert.equal((await tm.get("/user")).status, 200);
  });

  it("rejects a file with lint errors as a whole, printing the findings, exit 2", async () => {
    const file = join(tmpdir(), `sa-apply-${process.pid}.yaml`);
    await writeFile(
      file,
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: good}
spec: {host: session-svc}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: bad}
spec:
  host: session-svc
  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {ttl: 10s}}}}
`,
    );
    const r = await tm.cli("apply", "-f", file);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /DestinationRule\/bad schema\/invalid spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name is required/,
    );
    assert.match(
      r.stderr,
      /^The DestinationRule "bad" is invalid: spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name is required$/m,
    );
    assert.match(r.stderr, /rejected with \d+ errors?; nothing applied\n$/);
    assert.equal(tm.mesh.controlPlane.list("DestinationRule").length, 0, "not even the good rule");
  });

  it("names the missing flag or file with exit 2, and a mesh that is not there with exit 1", async () => {
    const none = await tm.cli("apply");
    assert.equal(none.code, 2);
    assert.equal(none.stderr, "session-affinity: apply: -f FILE is required\n");
    const missing = await tm.cli("apply", "-f", "deploy/nope.yaml");
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, "session-affinity: -f deploy/nope.yaml: no such file or folder\n");
    const down = await runCli(["apply", "-f", "deploy/session.yaml", "--admin", "http://127.0.0.1:9"]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /no local mesh answers at http:\/\/127\.0\.0\.1:9/);
  });
});
