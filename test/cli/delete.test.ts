import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DEPLOY, startTestMesh, type TestMesh } from "../helpers/mesh.js";
import { rawRequest } from "../helpers/raw-http.js";

describe("session-affinity delete", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, {
      manifests: [join(DEPLOY, "session.yaml"), join(DEPLOY, "session-gateway.yaml")],
      replicas: 2,
    });
  });
  after(() => tm?.stop());

  it("delete pod: graceful, replaced by a new pod with a new name", async () => {
    const [victim] = tm.mesh.views().pods;
    assert.ok(victim);
    const r = await tm.cli("delete", "pod", victim.name);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `pod "${victim.name}" deleted\n`);
    await tm.mesh.waitSettled(20_000);
    const names = tm.mesh.views().pods.map((p) => p.name);
    assert.equal(names.length, 2);
    assert.equal(names.includes(victim.name), false);
  });

  it("delete -f is all or nothing: a file naming an object that is not applied deletes nothing", async () => {
    const r = await tm.cli("delete", "-f", "deploy/session-affinity.yaml");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing deleted; not found: destinationrule\.networking\.istio\.io\/session/);
    const ok = await tm.cli("delete", "-f", "deploy/session-gateway.yaml");
    assert.equal(
      ok.stdout,
      'gateway.networking.istio.io "session-gateway" deleted\nvirtualservice.networking.istio.io "session" deleted\n',
    );
    // With the Gateway gone Envoy has no listener: a new connection gets no HTTP answer, at once.
    const port = Number(new URL(tm.gatewayUrl).port);
    const answer = await rawRequest(port, "GET /user HTTP/1.1\r\nhost: x\r\n\r\n", 3000);
    assert.equal(answer.text, "", "no listener once the Gateway is gone");
    assert.ok(answer.ms < 2000, `the connection was cut after ${answer.ms} ms, not at once`);
  });

  it("bad input: exit 2 with one line", async () => {
    const none = await tm.cli("delete");
    assert.equal(none.code, 2);
    assert.equal(none.stderr, "session-affinity: delete: use -f FILE or pod NAME\n");
    const unknown = await tm.cli("delete", "pod", "nope");
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'session-affinity: pods "nope" not found\n');
  });
});
