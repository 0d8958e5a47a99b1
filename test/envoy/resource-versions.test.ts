import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applySnapshot, envoyTimestamp } from "../../src/envoy/resource-versions.js";
import { translate } from "../../src/istiod/index.js";
import type { XdsSnapshot } from "../../src/xds/snapshot.js";
import { walkthroughInput } from "../istiod/walkthrough-input.js";

const T1 = Date.UTC(2026, 6, 1, 12, 0, 0, 250);
const T2 = Date.UTC(2026, 6, 1, 12, 5, 0);
const SESSION = "outbound|80||session-svc.default.svc.cluster.local";

/** A copy with nothing shared, so only a JSON comparison can tell it is unchanged. */
function deepCopy(snapshot: XdsSnapshot, version: string): XdsSnapshot {
  return Object.freeze({ ...(JSON.parse(JSON.stringify(snapshot)) as XdsSnapshot), version });
}

describe("resource versions as Envoy records them", () => {
  it("stamps every resource of the first push with its version and time, clusters and endpoints by cluster name", () => {
    const snapshot = translate(walkthroughInput(), "1");
    const applied = applySnapshot(undefined, snapshot, T1);
    const first = { versionInfo: "1", lastUpdated: "2026-07-01T12:00:00.250Z" };
    assert.equal(applied.version, "1");
    assert.equal(applied.snapshot, snapshot);
    assert.deepEqual([...applied.listeners], [["0.0.0.0_8080", first]]);
    assert.deepEqual([...applied.routes], [["http.8080", first]]);
    assert.deepEqual(new Set(applied.clusters.keys()), new Set(["BlackHoleCluster", SESSION]));
    assert.deepEqual([...applied.endpoints], [[SESSION, first]]);
  });

  it("keeps the version and time of a resource whose JSON did not change, even as a new object", () => {
    const one = applySnapshot(undefined, translate(walkthroughInput(), "1"), T1);
    // header-hash changes the route's hash policy and nothing else.
    const two = applySnapshot(one, deepCopy(translate(walkthroughInput("header-hash"), "2"), "2"), T2);
    assert.equal(two.version, "2", "the dumps' top-level version follows every push");
    assert.deepEqual(two.listeners.get("0.0.0.0_8080"), one.listeners.get("0.0.0.0_8080"));
    assert.deepEqual(two.clusters.get(SESSION), one.clusters.get(SESSION));
    assert.deepEqual(two.endpoints.get(SESSION), one.endpoints.get(SESSION));
    assert.deepEqual(two.routes.get("http.8080"), { versionInfo: "2", lastUpdated: "2026-07-01T12:05:00Z" });
  });

  it("keeps the books of resources a push passes on as the same objects", () => {
    const snapshot = translate(walkthroughInput(), "1");
    const one = applySnapshot(undefined, snapshot, T1);
    const two = applySnapshot(one, Object.freeze({ ...snapshot, version: "2" }), T2);
    for (const kind of ["listeners", "routes", "clusters", "endpoints"] as const) {
      assert.deepEqual([...two[kind]], [...one[kind]], kind);
    }
  });

  it("stamps a changed resource anew and forgets a removed one", () => {
    const one = applySnapshot(undefined, translate(walkthroughInput(), "1"), T1);
    const maglev = translate(walkthroughInput("maglev"), "2");
    const withoutBlackHole = Object.freeze({
      ...maglev,
      clusters: maglev.clusters.filter((c) => c.name !== "BlackHoleCluster"),
    });
    const two = applySnapshot(one, withoutBlackHole, T2);
    assert.deepEqual(
      [...two.clusters],
      [[SESSION, { versionInfo: "2", lastUpdated: "2026-07-01T12:05:00Z" }]],
    );
    const back = applySnapshot(two, translate(walkthroughInput("maglev"), "3"), T2 + 1000);
    assert.deepEqual(back.clusters.get("BlackHoleCluster"), {
      versionInfo: "3",
      lastUpdated: "2026-07-01T12:05:01Z",
    });
    assert.deepEqual(back.clusters.get(SESSION), two.clusters.get(SESSION));
  });

  it("prints times as protobuf prints Envoy's millisecond Timestamps: no fraction on a whole second", () => {
    assert.equal(envoyTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5)), "2026-01-02T03:04:05Z");
    assert.equal(envoyTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 60)), "2026-01-02T03:04:05.060Z");
  });
});
