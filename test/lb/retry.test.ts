import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MaglevLoadBalancer } from "../../src/lb/maglev.js";
import { istioDefaultRetryPolicy, selectHost } from "../../src/lb/retry.js";
import { RingHashLoadBalancer } from "../../src/lb/ring-hash.js";

const six = [90, 91, 92, 93, 94, 95].map((p) => ({ address: `127.0.0.1:${p}`, weight: 1 }));
const withPredicate = { numRetries: 2, hostSelectionRetryMaxAttempts: 2, previousHostsPredicate: true };

describe("Istio's retry policy", () => {
  it("drops the previous-hosts predicate only for a single consistent-hash destination", () => {
    assert.equal(
      istioDefaultRetryPolicy({ consistentHash: true, destinations: 1 }).previousHostsPredicate,
      false,
    );
    assert.equal(
      istioDefaultRetryPolicy({ consistentHash: true, destinations: 2 }).previousHostsPredicate,
      true,
    );
    assert.equal(
      istioDefaultRetryPolicy({ consistentHash: false, destinations: 1 }).previousHostsPredicate,
      true,
    );
    assert.deepEqual(istioDefaultRetryPolicy({ consistentHash: false, destinations: 1 }), {
      numRetries: 2,
      hostSelectionRetryMaxAttempts: 5,
      previousHostsPredicate: true,
    });
  });
});

describe("host selection loop (Envoy BasicWithRetryHostPredicate)", () => {
  const ring = new RingHashLoadBalancer(six, { minRingSize: 12 });

  it("the first try is one attempt even when retries are configured", () => {
    assert.equal(selectHost(ring, { hash: 0n, policy: withPredicate })?.address, "127.0.0.1:94");
  });

  it("a retry skips the previous host by moving to the next ring entry", () => {
    const host = selectHost(ring, {
      hash: 0n,
      previousHosts: new Set(["127.0.0.1:94"]),
      policy: withPredicate,
    });
    assert.equal(host?.address, "127.0.0.1:92");
  });

  it("when every attempt is rejected the last attempted host is returned", () => {
    const all = new Set(six.map((h) => h.address));
    assert.equal(
      selectHost(ring, { hash: 0n, previousHosts: all, policy: withPredicate })?.address,
      "127.0.0.1:90",
    );
    const maglev = new MaglevLoadBalancer(six, { tableSize: 7 });
    assert.equal(
      selectHost(maglev, { hash: 10n, previousHosts: all, policy: withPredicate })?.address,
      "127.0.0.1:95",
    );
  });

  it("without the predicate (Istio ≥1.23, single consistent-hash destination) retries stay on the host", () => {
    const policy = istioDefaultRetryPolicy({ consistentHash: true, destinations: 1 });
    const host = selectHost(ring, { hash: 0n, previousHosts: new Set(["127.0.0.1:94"]), policy });
    assert.equal(host?.address, "127.0.0.1:94");
  });
});
