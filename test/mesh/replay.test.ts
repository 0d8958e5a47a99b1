import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { explain } from "../../src/explain/index.js";
import { proxyView } from "../../src/explain/proxy-view.js";
import { toConfigDump } from "../../src/proxy-config/config-dump.js";
import { endpointAddresses, snapshotOfDump } from "../../src/proxy-config/snapshot.js";
import { dumpOf } from "../helpers/config-dump.js";
import { DEPLOY, startTestMesh } from "../helpers/mesh.js";
import { walkthroughInput } from "../istiod/walkthrough-input.js";

/** The walkthrough's gateway as a cluster would dump it: three pods at 10.244.x.7. */
function realDump() {
  const input = walkthroughInput();
  const endpoints = input.endpoints.map((e) => ({
    ...e,
    endpoints: e.endpoints.map((p, j) => ({ ...p, address: `10.244.${j}.7` })),
  }));
  return toConfigDump(dumpOf({ ...input, endpoints }), "real.json");
}

describe("up --config-dump: a real proxy's configuration replayed on local replicas", () => {
  it("sends each cookie to the replica standing for the pod explain places it on, and keeps it there", async (t) => {
    const dump = realDump();
    const replay = snapshotOfDump(dump, "replay");
    const addresses = endpointAddresses(replay);
    assert.deepEqual(addresses, ["10.244.0.7:8080", "10.244.1.7:8080", "10.244.2.7:8080"]);
    const tm = await startTestMesh(t, { manifests: [join(DEPLOY, "session.yaml")], replicas: 3, replay });
    assert.equal(tm.mesh.dataPlane.rejected, undefined);
    const standsFor = new Map(addresses.map((a) => [tm.mesh.podAt(a), a]));
    assert.equal(standsFor.size, 3, "each real address has its own replica");
    const keys = ["071ab12ec2c21647", "36ad8887139f696a", "00000000000000ff", "deadbeefdeadbeef"];
    const report = explain(proxyView(dump, undefined), {
      request: { authority: "a.example", path: "/user", method: "GET", headers: [] },
      appCookies: [],
      placement: { keys, sessions: 0 },
    });
    const placed = report.routes[0]?.placement[0]?.keys ?? [];
    for (const { key, endpoint } of placed) {
      for (let i = 1; i <= 3; i++) {
        const r = await tm.get("/user", { headers: { cookie: `session-route=${key}` } });
        assert.equal(r.status, 200);
        assert.equal(standsFor.get(r.hostname), endpoint, `cookie ${key}`);
      }
    }
    // The admin shows the real addresses, as the real proxy's /clusters would.
    const clusters = await (await fetch(`${tm.adminUrl}/clusters`)).text();
    assert.match(clusters, /::10\.244\.2\.7:8080::rq_total::\d+/);
  });
});
