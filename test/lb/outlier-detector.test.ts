import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ENVOY_OUTLIER_DEFAULTS, OutlierDetector } from "../../src/lb/outlier-detector.js";
import { seededRandom } from "../../src/lb/random-source.js";

const HOSTS = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80", "10.0.0.5:80"];
const [A, B] = HOSTS as [string, string];

/** Istio's translation of `consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 10s, maxEjectionPercent: 100`. */
function detector(overrides: Partial<typeof ENVOY_OUTLIER_DEFAULTS> = {}): OutlierDetector {
  const d = new OutlierDetector(
    {
      ...ENVOY_OUTLIER_DEFAULTS,
      consecutive5xx: 3,
      intervalMs: 1000,
      baseEjectionTimeMs: 10_000,
      maxEjectionPercent: 100,
      ...overrides,
    },
    seededRandom(1),
    0,
  );
  d.setHosts(HOSTS);
  return d;
}

describe("outlier detector: consecutive 5xx", () => {
  it("ejects a host at once on its Nth consecutive 5xx, not before", () => {
    const d = detector();
    assert.equal(d.putResult(A, 500, 1), false);
    assert.equal(d.putResult(A, 503, 2), false);
    assert.equal(d.isEjected(A), false);
    assert.equal(d.putResult(A, 502, 3), true);
    assert.deepEqual(d.ejected(), [A]);
    assert.equal(d.stats.ejectionsEnforcedConsecutive5xx, 1);
    assert.equal(d.stats.ejectionsActive, 1);
  });

  it("starts the run over after any response below 500", () => {
    const d = detector();
    d.putResult(A, 500, 1);
    d.putResult(A, 500, 2);
    d.putResult(A, 404, 3);
    d.putResult(A, 500, 4);
    assert.equal(d.putResult(A, 500, 5), false);
    assert.equal(d.putResult(A, 500, 6), true);
  });

  it("counts runs per host", () => {
    const d = detector();
    d.putResult(A, 500, 1);
    d.putResult(B, 500, 2);
    d.putResult(A, 500, 3);
    d.putResult(B, 500, 4);
    assert.deepEqual(d.ejected(), []);
  });

  it("never ejects with a threshold of 0 (Istio's explicit 0 also sets enforcement to 0)", () => {
    const d = detector({ consecutive5xx: 0, enforcingConsecutive5xx: 0 });
    for (let i = 0; i < 20; i++) d.putResult(A, 500, i);
    assert.deepEqual(d.ejected(), []);
  });
});

describe("outlier detector: gateway errors", () => {
  it("detects a run of 502/503/504 but ejects only when enforced (Envoy's default enforcement is 0)", () => {
    const off = detector({ consecutive5xx: 100, consecutiveGatewayFailure: 2 });
    off.putResult(A, 503, 1);
    off.putResult(A, 504, 2);
    assert.deepEqual(off.ejected(), []);
    assert.equal(off.stats.ejectionsDetectedConsecutiveGatewayFailure, 1);
    const on = detector({
      consecutive5xx: 100,
      consecutiveGatewayFailure: 2,
      enforcingConsecutiveGatewayFailure: 100,
    });
    on.putResult(A, 503, 1);
    assert.equal(on.putResult(A, 504, 2), true);
    assert.equal(on.stats.ejectionsEnforcedConsecutiveGatewayFailure, 1);
  });

  it("ends a gateway run on another 5xx", () => {
    const d = detector({
      consecutive5xx: 100,
      consecutiveGatewayFailure: 2,
      enforcingConsecutiveGatewayFailure: 100,
    });
    d.putResult(A, 503, 1);
    d.putResult(A, 500, 2);
    assert.equal(d.putResult(A, 503, 3), false);
    assert.equal(d.putResult(A, 503, 4), true);
  });
});

describe("outlier detector: max ejection percent", () => {
  it("counts the host being ejected in the share, so Envoy's default 10% ejects none of 5 hosts", () => {
    const d = detector({ maxEjectionPercent: 10 });
    for (let i = 0; i < 3; i++) d.putResult(A, 500, i);
    assert.deepEqual(d.ejected(), []);
    assert.equal(d.stats.ejectionsOverflow, 1);
    assert.equal(d.stats.ejectionsDetectedConsecutive5xx, 1);
  });

  it("ejects up to the share and no further (40% of 5 hosts: two)", () => {
    const d = detector({ maxEjectionPercent: 40 });
    for (const host of HOSTS.slice(0, 3)) for (let i = 0; i < 3; i++) d.putResult(host, 500, i);
    assert.equal(d.ejected().length, 2);
    assert.equal(d.stats.ejectionsOverflow, 1);
  });
});

describe("outlier detector: coming back", () => {
  it("brings a host back on the first interval tick once base_ejection_time has passed", () => {
    const d = detector();
    for (let i = 0; i < 3; i++) d.putResult(A, 500, 500);
    assert.equal(d.advance(10_000), false, "ticks at 1 s … 10 s: out for 9.5 s only");
    assert.equal(d.isEjected(A), true);
    assert.equal(d.advance(10_999), false);
    assert.equal(d.advance(11_000), true, "the tick at 11 s finds it out for 10.5 s");
    assert.equal(d.isEjected(A), false);
    assert.equal(d.stats.ejectionsActive, 0);
  });

  it("keeps a host ejected again soon after for twice as long, and lowers the back-off once it stays back", () => {
    const d = detector();
    for (let i = 0; i < 3; i++) d.putResult(A, 500, 0);
    d.advance(10_000);
    assert.equal(d.isEjected(A), false, "back at the 10 s tick");
    for (let i = 0; i < 3; i++) d.putResult(A, 500, 10_000);
    d.advance(29_000);
    assert.equal(d.isEjected(A), true, "second ejection: 2 × 10 s");
    d.advance(30_000);
    assert.equal(d.isEjected(A), false);
    // Back for more than two intervals: the back-off is down to 0, so the next ejection lasts 10 s again.
    d.advance(33_000);
    for (let i = 0; i < 3; i++) d.putResult(A, 500, 33_000);
    d.advance(43_000);
    assert.equal(d.isEjected(A), false);
  });

  it("caps the time out at max_ejection_time", () => {
    const d = detector({ maxEjectionTimeMs: 25_000 });
    const eject = (now: number) => {
      for (let i = 0; i < 3; i++) d.putResult(A, 500, now);
    };
    eject(0);
    d.advance(10_000);
    eject(10_000); // back-off 2: 20 s
    d.advance(30_000);
    assert.equal(d.isEjected(A), false);
    eject(30_000); // back-off 3: 30 s, capped at 25 s
    d.advance(54_000);
    assert.equal(d.isEjected(A), true);
    d.advance(55_000);
    assert.equal(d.isEjected(A), false, "out 25 s, not 30 s");
  });

  it("forgets hosts that left the cluster, ejected ones included", () => {
    const d = detector();
    for (let i = 0; i < 3; i++) d.putResult(A, 500, 0);
    d.setHosts(HOSTS.slice(1));
    assert.deepEqual(d.ejected(), []);
    assert.equal(d.stats.ejectionsActive, 0);
    assert.equal(d.putResult(A, 500, 1), false);
  });
});
