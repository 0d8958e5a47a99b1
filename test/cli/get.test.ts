import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEPLOY, startTestMesh, type TestMesh } from "../helpers/mesh.js";

describe("session-affinity get", () => {
  let tm: TestMesh;
  before(async () => {
    tm = await startTestMesh(undefined, { manifests: [DEPLOY], replicas: 2 });
  });
  after(() => tm?.stop());

  it("prints kubectl's columns for every resource and alias", async () => {
    const [po, deploy, svc, gw, vs, dr, ep] = await Promise.all(
      ["po", "deploy", "svc", "gw", "vs", "dr", "ep"].map((r) => tm.cli("get", r)),
    );
    assert.match(
      po?.stdout ?? "",
      /^NAME {2,}READY {3}STATUS {4}RESTARTS {3}AGE\nsession-deployment-\S+ {3}1\/1 {5}Running {3}0 {10}\d+s\n/,
    );
    assert.match(
      deploy?.stdout ?? "",
      /^NAME {17}READY {3}UP-TO-DATE {3}AVAILABLE {3}AGE\nsession-deployment {3}2\/2 {5}2 {12}2 {11}\d+s\n$/,
    );
    assert.match(
      svc?.stdout ?? "",
      /^NAME {10}TYPE {8}CLUSTER-IP {3}EXTERNAL-IP {3}PORT\(S\) {3}AGE\nsession-svc {3}ClusterIP/,
    );
    assert.match(gw?.stdout ?? "", /^NAME {14}AGE\nsession-gateway {3}\d+s\n$/);
    assert.match(
      vs?.stdout ?? "",
      /^NAME {6}GATEWAYS {12}HOSTS {3}AGE\nsession {3}\[session-gateway\] {3}\[\*\] {5}\d+s\n$/,
    );
    assert.match(dr?.stdout ?? "", /^NAME {6}HOST {10}AGE\nsession {3}session-svc {3}\d+s\n$/);
    assert.match(
      ep?.stdout ?? "",
      /^NAME {10}ENDPOINTS {2,}AGE\nsession-svc {3}127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ {3}\d+s\n$/,
    );
  });

  it("-o json gives the control API's view; unknown types exit 2", async () => {
    const json = await tm.cli("get", "pods", "-o", "json");
    const items = (JSON.parse(json.stdout) as { items: { name: string; ready: boolean; address: string }[] })
      .items;
    assert.equal(items.length, 2);
    assert.ok(items.every((p) => p.ready && /^127\.0\.0\.1:\d+$/.test(p.address)));
    const bad = await tm.cli("get", "nodes");
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'session-affinity: get: the server doesn\'t have a resource type "nodes"\n');
  });
});
