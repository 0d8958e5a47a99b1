import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Cluster } from "../../src/envoy/cluster.js";
import type { ClusterConfig } from "../../src/envoy/cluster-config.js";
import type { HostEntry } from "../../src/envoy/endpoints.js";
import { DEFAULT_LIMITS } from "../../src/envoy/upstream/circuit-breakers.js";
import { ENVOY_OUTLIER_DEFAULTS } from "../../src/lb/outlier-detector.js";
import { seededRandom } from "../../src/lb/random-source.js";
import { xxh64 } from "../../src/lb/xxhash64.js";

const ENDPOINTS: HostEntry[] = [1, 2, 3, 4, 5].map((i) => ({
  address: `127.0.0.1:900${i}`,
  weight: 1,
  health: "HEALTHY",
  locality: {},
}));

function config(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name: "outbound|80||session-svc.default.svc.cluster.local",
    lbPolicy: "ring-hash",
    minRingSize: 1024,
    connectTimeoutMs: 10_000,
    idleTimeoutMs: 3_600_000,
    circuitBreakers: DEFAULT_LIMITS,
    outlierDetection: {
      ...ENVOY_OUTLIER_DEFAULTS,
      consecutive5xx: 3,
      intervalMs: 1000,
      baseEjectionTimeMs: 5000,
      maxEjectionPercent: 100,
    },
    panicThresholdPercent: 0,
    overrideHostStatuses: ["HEALTHY", "UNKNOWN"],
    ...overrides,
  };
}

/** A cluster on a clock the test moves. */
function clusterAt(cfg: ClusterConfig) {
  const clock = { now: 0 };
  const cluster = new Cluster(cfg, ENDPOINTS, seededRandom(7), () => clock.now);
  return { cluster, clock };
}

const addresses = (c: Cluster) => c.endpoints.map((e) => e.address);
const SESSIONS = Array.from({ length: 200 }, (_, i) => xxh64(`session-${i}`));

describe("cluster: outlier detection", () => {
  it("takes a host that answers N 5xx in a row out of the ring: its sessions move, most others stay, all come back", () => {
    const { cluster, clock } = clusterAt(config());
    const before = SESSIONS.map((hash) => cluster.lb.choose({ hash })?.address);
    const bad = ENDPOINTS[2]?.address as string;
    for (let i = 0; i < 3; i++) cluster.countResponse(bad, 500);
    assert.deepEqual(
      addresses(cluster),
      ENDPOINTS.map((e) => e.address).filter((a) => a !== bad),
    );
    assert.equal(cluster.hosts().find((h) => h.address === bad)?.ejected, true);
    const during = SESSIONS.map((hash) => cluster.lb.choose({ hash })?.address);
    let stayed = 0;
    let healthy = 0;
    for (const [i, pod] of before.entries()) {
      if (pod === bad) assert.notEqual(during[i], bad);
      else {
        healthy++;
        if (during[i] === pod) stayed++;
      }
    }
    // Envoy's ring gives each host ⌈1024 / hosts⌉ points, so four hosts get more points than five did
    // and a few sessions of healthy hosts move as well.
    assert.ok(stayed / healthy >= 0.8, `${stayed} of ${healthy} sessions on healthy hosts stayed`);
    assert.ok(before.includes(bad), "the test's sessions reach the ejected host");

    clock.now = 4999;
    cluster.refresh();
    assert.equal(addresses(cluster).includes(bad), false);
    clock.now = 5000;
    cluster.refresh();
    assert.equal(addresses(cluster).includes(bad), true);
    assert.deepEqual(
      SESSIONS.map((hash) => cluster.lb.choose({ hash })?.address),
      before,
      "the ring is the one before the ejection",
    );
  });

  it("counts refused connects and resets as 503 and timeouts as 504, as Envoy does without the local-origin split", () => {
    const { cluster } = clusterAt(
      config({
        outlierDetection: {
          ...ENVOY_OUTLIER_DEFAULTS,
          consecutive5xx: 100,
          consecutiveGatewayFailure: 3,
          enforcingConsecutiveGatewayFailure: 100,
          maxEjectionPercent: 100,
        },
      }),
    );
    const bad = ENDPOINTS[0]?.address as string;
    cluster.countFailure(bad, "connect-failure");
    cluster.countFailure(bad, "reset");
    assert.equal(cluster.hosts()[0]?.ejected, false);
    cluster.countFailure(bad, "timeout");
    assert.equal(cluster.hosts()[0]?.ejected, true);
    assert.equal(cluster.outlierStats?.ejectionsEnforcedConsecutiveGatewayFailure, 1);
  });

  it("leaves no host when all are ejected under Istio's panic threshold of 0, and uses all of them below a set one", () => {
    const all = clusterAt(config());
    for (const e of ENDPOINTS) for (let i = 0; i < 3; i++) all.cluster.countResponse(e.address, 503);
    assert.deepEqual(addresses(all.cluster), []);
    assert.equal(all.cluster.lb.choose({ hash: 1n }), undefined);

    const panic = clusterAt(config({ panicThresholdPercent: 50 }));
    for (const e of ENDPOINTS.slice(0, 2))
      for (let i = 0; i < 3; i++) panic.cluster.countResponse(e.address, 500);
    assert.equal(addresses(panic.cluster).length, 3, "60% healthy: not in panic");
    for (let i = 0; i < 3; i++) panic.cluster.countResponse(ENDPOINTS[2]?.address as string, 500);
    assert.equal(addresses(panic.cluster).length, 5, "40% healthy: panic, every host serves");
  });

  it("does nothing of the kind without an outlierDetection", () => {
    const { cluster } = clusterAt(config({ outlierDetection: undefined, panicThresholdPercent: 50 }));
    for (let i = 0; i < 50; i++) cluster.countResponse(ENDPOINTS[0]?.address as string, 500);
    assert.equal(addresses(cluster).length, 5);
    assert.equal(cluster.outlierStats, undefined);
  });
});
