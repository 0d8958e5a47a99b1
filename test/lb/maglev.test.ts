import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionAffinityError } from "../../src/errors.js";
import type { Endpoint } from "../../src/lb/endpoint.js";
import { DEFAULT_TABLE_SIZE, MaglevLoadBalancer } from "../../src/lb/maglev.js";
import { xxh64 } from "../../src/lb/xxhash64.js";

// Envoy's tests use hosts "tcp://127.0.0.1:<port>", whose hash key is "127.0.0.1:<port>".
const local = (port: number, weight = 1): Endpoint => ({ address: `127.0.0.1:${port}`, weight });
const six = () => [90, 91, 92, 93, 94, 95].map((p) => local(p));

function assertAssignments(lb: MaglevLoadBalancer, hosts: readonly Endpoint[], expected: number[]) {
  for (let i = 0; i < 3 * expected.length; i++) {
    assert.equal(lb.choose({ hash: BigInt(i) }), hosts[expected[i % expected.length] as number], `hash ${i}`);
  }
}

// Expectations from Envoy's test/extensions/load_balancing_policies/maglev/maglev_lb_test.cc.
describe("Maglev (Envoy MaglevLoadBalancerTest)", () => {
  it("Basic / BasicStability: table of 7 for 6 hosts is 92,94,90,91,95,90,93", () => {
    const hosts = six();
    const lb = new MaglevLoadBalancer(hosts, { tableSize: 7 });
    assert.equal(lb.stats().minEntriesPerHost, 1);
    assert.equal(lb.stats().maxEntriesPerHost, 2);
    assertAssignments(lb, hosts, [2, 4, 0, 1, 5, 0, 3]);
    const shuffled = [hosts[3], hosts[0], hosts[5], hosts[1], hosts[4], hosts[2]] as Endpoint[];
    assertAssignments(new MaglevLoadBalancer(shuffled, { tableSize: 7 }), hosts, [2, 4, 0, 1, 5, 0, 3]);
  });

  it("BasicWithHostName / BasicWithMetadataHashKey: hash keys 90..95 give 92,95,90,93,94,91,90", () => {
    const hosts = six().map((h) => ({ ...h, hashKey: h.address.split(":")[1] as string }));
    const lb = new MaglevLoadBalancer(hosts, { tableSize: 7 });
    assertAssignments(lb, hosts, [2, 5, 0, 3, 4, 1, 0]);
  });

  it("BasicWithRetryHostPredicate: attempts perturb the hash (10 → 91, then 90, then 95)", () => {
    const hosts = six();
    const lb = new MaglevLoadBalancer(hosts, { tableSize: 7 });
    assert.equal(lb.choose({ hash: 10n, attempt: 0 }), hosts[1]);
    assert.equal(lb.choose({ hash: 10n, attempt: 1 }), hosts[0]);
    assert.equal(lb.choose({ hash: 10n, attempt: 2 }), hosts[5]);
  });

  it("Weighted: weights 1 and 2 on a table of 17 give 6/11 entries in Envoy's order", () => {
    const hosts = [local(90, 1), local(91, 2)];
    const lb = new MaglevLoadBalancer(hosts, { tableSize: 17 });
    assert.equal(lb.stats().minEntriesPerHost, 6);
    assert.equal(lb.stats().maxEntriesPerHost, 11);
    assertAssignments(lb, hosts, [1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1]);
  });

  it("SingleHost / WeightedSingleHost: one host is a degenerate table with stats 1/1", () => {
    for (const [host, size] of [
      [local(90), 7],
      [local(90, 7), 17],
    ] as const) {
      const lb = new MaglevLoadBalancer([host], { tableSize: size });
      assert.equal(lb.stats().minEntriesPerHost, 1);
      assert.equal(lb.stats().maxEntriesPerHost, 1);
      for (let i = 0n; i < BigInt(size); i++) assert.equal(lb.choose({ hash: i }), host);
    }
  });

  // Not reproduced: LocalityWeighted* and LocalityWeightedLopsided (Istio never turns on locality
  // weighting for hashing balancers), BasicWithBoundedLoad (Istio never sets hash_balance_factor),
  // worker/factory lifecycle tests (no threads here).

  it("NoPrimeNumber: a table size of 8 is rejected", () => {
    assert.throws(
      () => new MaglevLoadBalancer(six(), { tableSize: 8 }),
      (err: unknown) =>
        err instanceof SessionAffinityError &&
        err.code === "ERR_LB_CONFIG" &&
        /8 is not prime/.test(err.message),
    );
  });

  it("DefaultMaglevTableSize: 65537", () => {
    assert.equal(new MaglevLoadBalancer(six()).tableSize, DEFAULT_TABLE_SIZE);
    assert.equal(DEFAULT_TABLE_SIZE, 65537);
  });

  it("NoHost: an empty endpoint set chooses nothing", () => {
    assert.equal(new MaglevLoadBalancer([], { tableSize: 7 }).choose({ hash: 1n }), undefined);
  });
});

describe("Maglev (fact-sheet worked example)", () => {
  const pods = [10, 11, 12, 13, 14].map((i) => ({ address: `10.244.0.${i}:8080`, weight: 1 }));

  it("offsets and skips for M=65537 match the verified values", () => {
    const m = 65537n;
    assert.equal(xxh64("10.244.0.10:8080") % m, 12534n);
    assert.equal((xxh64("10.244.0.10:8080", 1n) % (m - 1n)) + 1n, 60072n);
    assert.equal(xxh64("10.244.0.11:8080") % m, 48329n);
    assert.equal((xxh64("10.244.0.11:8080", 1n) % (m - 1n)) + 1n, 40249n);
  });

  it("five pods fill 13108/13108/13107/13107/13107 slots and the cookie lands in slot 56308 on .11", () => {
    const lb = new MaglevLoadBalancer(pods);
    const counts = [0, 0, 0, 0, 0];
    for (const host of lb.table()) counts[host] = (counts[host] ?? 0) + 1;
    assert.deepEqual(counts, [13108, 13108, 13107, 13107, 13107]);
    const hash = xxh64("071ab12ec2c21647");
    assert.equal(hash % 65537n, 56308n);
    assert.equal(lb.choose({ hash })?.address, "10.244.0.11:8080");
  });

  it("rejects table sizes Istio rejects (not prime, or >= 5000011)", () => {
    assert.throws(() => new MaglevLoadBalancer(pods, { tableSize: 65536 }), /65536 is not prime/);
    assert.throws(() => new MaglevLoadBalancer(pods, { tableSize: 5000011 }), /less than 5000011/);
  });
});
