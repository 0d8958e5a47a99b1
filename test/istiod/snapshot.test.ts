import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMULATED_ISTIOD_VERSION, translate } from "../../src/istiod/index.js";
import { type Component, walkthroughInput } from "./walkthrough-input.js";

const VARIANTS: (Component | undefined)[] = [
  undefined,
  "header-hash",
  "source-ip-hash",
  "maglev",
  "persistent-session",
];

describe("one xDS snapshot per push", () => {
  it("holds every resource the others name: the listener's routes, the routes' clusters, the EDS clusters' endpoints", () => {
    for (const variant of VARIANTS) {
      const snapshot = translate(walkthroughInput(variant), "7");
      const routeNames = new Set(snapshot.routes.map((r) => r.name));
      const clusterNames = new Set(snapshot.clusters.map((c) => c.name));
      const assigned = new Set(snapshot.endpoints.map((e) => e.clusterName));
      const json = JSON.stringify(snapshot.listeners);
      for (const name of json.matchAll(/"routeConfigName":"([^"]+)"/g)) {
        assert.ok(routeNames.has(name[1] as string), `${variant}: route ${name[1]}`);
      }
      for (const m of JSON.stringify(snapshot.routes).matchAll(/"cluster":"([^"]+)"/g)) {
        assert.ok(clusterNames.has(m[1] as string), `${variant}: cluster ${m[1]}`);
      }
      for (const c of snapshot.clusters) {
        if (c.type === "EDS") assert.ok(assigned.has(c.name), `${variant}: endpoints of ${c.name}`);
      }
      assert.equal(snapshot.version, "7");
      assert.equal(snapshot.istioVersion, EMULATED_ISTIOD_VERSION);
      assert.ok(Object.isFrozen(snapshot));
    }
  });
});
