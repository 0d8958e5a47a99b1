import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionAffinityError } from "../../src/errors.js";
import { type Endpoint, normalizeEndpoints } from "../../src/lb/endpoint.js";
import { sequenceRandom } from "../../src/lb/random-source.js";
import { RingHashLoadBalancer, ringKeyShares } from "../../src/lb/ring-hash.js";
import { UINT64_MAX } from "../../src/lb/uint64.js";
import { xxh64 } from "../../src/lb/xxhash64.js";

// Envoy's tests build hosts from "tcp://127.0.0.1:<port>"; the ring key is the address string
// without the scheme, i.e. "127.0.0.1:<port>".
const local = (port: number, weight = 1): Endpoint => ({ address: `127.0.0.1:${port}`, weight });
const ports = (list: number[]) => list.map((p) => local(p));
const bump = (counts: number[], i: number) => {
  counts[i] = (counts[i] ?? 0) + 1;
};
const portOf = (e: Endpoint | undefined) => Number(e?.address.split(":")[1]);

// Expectations below are from Envoy's test/extensions/load_balancing_policies/ring_hash/ring_hash_lb_test.cc.
describe("ring hash (Envoy RingHashLoadBalancerTest)", () => {
  it("Basic: 6 hosts, min ring 12 give the documented ring and picks", () => {
    const lb = new RingHashLoadBalancer(ports([90, 91, 92, 93, 94, 95]), {
      minRingSize: 12,
      random: sequenceRandom([16117243373044804880n]),
    });
    assert.deepEqual(lb.stats(), { endpoints: 6, size: 12, minEntriesPerHost: 2, maxEntriesPerHost: 2 });
    const ring = lb.entries().map((e) => [portOf(e.endpoint), e.hash]);
    assert.deepEqual(ring, [
      [94, 833437586790550860n],
      [92, 928266305478181108n],
      [90, 1033482794131418490n],
      [95, 3551244743356806947n],
      [93, 3851675632748031481n],
      [91, 5583722120771150861n],
      [91, 6311230543546372928n],
      [93, 7700377290971790572n],
      [95, 13144177310400110813n],
      [92, 13444792449719432967n],
      [94, 15516499411664133160n],
      [90, 16117243373044804889n],
    ]);
    assert.equal(portOf(lb.choose({ hash: 0n })), 94);
    assert.equal(portOf(lb.choose({ hash: UINT64_MAX })), 94, "wraps to the first entry");
    assert.equal(portOf(lb.choose({ hash: 3551244743356806947n })), 95);
    assert.equal(portOf(lb.choose({ hash: 3551244743356806948n })), 93);
    assert.equal(portOf(lb.choose({})), 90, "no hash uses the random point");
  });

  it("BasicWithHostname / BasicWithMetadataHashKey: the hash key replaces the address", () => {
    const hosts = [90, 91, 92, 93, 94, 95].map((p) => ({ ...local(p), hashKey: String(p) }));
    const lb = new RingHashLoadBalancer(hosts, { minRingSize: 12 });
    assert.deepEqual(
      lb.entries().map((e) => [e.endpoint.hashKey, e.hash]),
      [
        ["95", 1975508444536362413n],
        ["95", 2376063919839173711n],
        ["93", 2386806903309390596n],
        ["94", 6749904478991551885n],
        ["93", 6803900775736438537n],
        ["92", 7225015537174310577n],
        ["90", 8787465352164086522n],
        ["92", 11282020843382717940n],
        ["91", 13723418369486627818n],
        ["90", 13776502110861797421n],
        ["91", 14338313586354474791n],
        ["94", 15364271037087512980n],
      ],
    );
    assert.equal(portOf(lb.choose({ hash: 0n })), 95);
    assert.equal(portOf(lb.choose({ hash: UINT64_MAX })), 95);
    assert.equal(portOf(lb.choose({ hash: 7225015537174310577n })), 92);
    assert.equal(portOf(lb.choose({ hash: 6803900775736438537n })), 93);
  });

  it("BasicWithRetryHostPredicate: attempt a moves a entries clockwise and wraps", () => {
    const lb = new RingHashLoadBalancer(ports([90, 91, 92, 93, 94, 95]), { minRingSize: 12 });
    assert.equal(portOf(lb.choose({ hash: 0n, attempt: 0 })), 94);
    assert.equal(portOf(lb.choose({ hash: 0n, attempt: 1 })), 92, "second attempt is the next entry");
    assert.equal(portOf(lb.choose({ hash: 0n, attempt: 2 })), 90, "last of 3 attempts (retry count 2)");
    assert.equal(portOf(lb.choose({ hash: 0n, attempt: 13 })), 92, "last of 14 attempts wraps the ring");
  });

  it("UnevenHosts: 2 hosts, min ring 3 give 2 hashes each and a ring of 4", () => {
    const lb = new RingHashLoadBalancer(ports([80, 81]), { minRingSize: 3 });
    assert.deepEqual(lb.stats(), { endpoints: 2, size: 4, minEntriesPerHost: 2, maxEntriesPerHost: 2 });
    assert.deepEqual(
      lb.entries().map((e) => [portOf(e.endpoint), e.hash]),
      [
        [80, 5454692015285649509n],
        [81, 7859399908942313493n],
        [80, 13838424394637650569n],
        [81, 16064866803292627174n],
      ],
    );
    assert.equal(portOf(lb.choose({ hash: 0n })), 80);
    const next = new RingHashLoadBalancer(ports([81, 82]), { minRingSize: 3 });
    assert.deepEqual(
      next.entries().map((e) => [portOf(e.endpoint), e.hash]),
      [
        [81, 7859399908942313493n],
        [82, 8241336090459785962n],
        [82, 12882406409176325258n],
        [81, 16064866803292627174n],
      ],
    );
    assert.equal(portOf(next.choose({ hash: 0n })), 81);
  });

  it("HostWeightedTinyRing: weights 1,2,3 on a ring of exactly 6", () => {
    const lb = new RingHashLoadBalancer([local(90, 1), local(91, 2), local(92, 3)], {
      minRingSize: 6,
      maxRingSize: 6,
    });
    assert.deepEqual(lb.stats(), { endpoints: 3, size: 6, minEntriesPerHost: 1, maxEntriesPerHost: 3 });
    const expected: [bigint, number][] = [
      [928266305478181108n, 92],
      [4443673547860492590n, 92],
      [5583722120771150861n, 91],
      [6311230543546372928n, 91],
      [13444792449719432967n, 92],
      [16117243373044804889n, 90],
    ];
    for (const [hash, port] of expected) assert.equal(portOf(lb.choose({ hash })), port, String(hash));
  });

  it("HostWeightedLargeRing: 6000 evenly spaced hashes land 987/1932/3081", () => {
    const lb = new RingHashLoadBalancer([local(90, 1), local(91, 2), local(92, 3)], { minRingSize: 6144 });
    assert.deepEqual(lb.stats(), {
      endpoints: 3,
      size: 6144,
      minEntriesPerHost: 1024,
      maxEntriesPerHost: 3072,
    });
    const counts = [0, 0, 0];
    const step = UINT64_MAX / 6000n;
    for (let i = 0n; i < 6000n; i++) bump(counts, portOf(lb.choose({ hash: i * step })) - 90);
    assert.deepEqual(counts, [987, 1932, 3081]);
  });

  it("SmallFractionalScale: 4 hosts on a ring of 2 leave two hosts out", () => {
    const lb = new RingHashLoadBalancer(ports([90, 91, 92, 93]), { minRingSize: 2, maxRingSize: 2 });
    assert.deepEqual(lb.stats(), { endpoints: 4, size: 2, minEntriesPerHost: 0, maxEntriesPerHost: 1 });
    const counts = [0, 0, 0, 0];
    const step = UINT64_MAX / 1024n;
    for (let i = 0n; i < 1024n; i++) bump(counts, portOf(lb.choose({ hash: i * step })) - 90);
    assert.equal(counts.filter((c) => c === 0).length, 2);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      1024,
    );
  });

  it("LargeFractionalScale: 2 hosts on a ring of 1023 get 511/512 entries and 526/497 hits", () => {
    const lb = new RingHashLoadBalancer(ports([90, 91]), { minRingSize: 1023, maxRingSize: 1023 });
    assert.deepEqual(lb.stats(), {
      endpoints: 2,
      size: 1023,
      minEntriesPerHost: 511,
      maxEntriesPerHost: 512,
    });
    const counts = [0, 0];
    const step = UINT64_MAX / 1023n;
    for (let i = 0n; i < 1023n; i++) bump(counts, portOf(lb.choose({ hash: i * step })) - 90);
    assert.deepEqual(counts, [526, 497]);
  });

  // Not reproduced: the Locality* tests (Istio never enables locality-weighted rings for hashing),
  // BasicWithMurmur2 (Istio never selects MURMUR_HASH_2), BasicFailover (priorities), and the
  // panic-mode halves of Basic (host health is outside the balancer here).

  it("BadRingSizeBounds: minimum > maximum is rejected with both values", () => {
    assert.throws(
      () => new RingHashLoadBalancer(ports([90]), { minRingSize: 20, maxRingSize: 10 }),
      (err: unknown) =>
        err instanceof SessionAffinityError &&
        err.code === "ERR_LB_CONFIG" &&
        err.message === "ring hash: minimum_ring_size (20) > maximum_ring_size (10)",
    );
  });

  it("NoHost: an empty endpoint set chooses nothing", () => {
    assert.equal(new RingHashLoadBalancer([]).choose({ hash: 1n }), undefined);
  });
});

describe("ring hash (fact-sheet worked example, Istio default min ring 1024)", () => {
  const pods = [10, 11, 12, 13, 14].map((i) => ({ address: `10.244.0.${i}:8080`, weight: 1 }));
  const lb = new RingHashLoadBalancer(pods, { minRingSize: 1024 });

  it("five pods give 205 entries each, 1025 in total, starting at (23782503374773142, .12)", () => {
    assert.deepEqual(lb.stats(), {
      endpoints: 5,
      size: 1025,
      minEntriesPerHost: 205,
      maxEntriesPerHost: 205,
    });
    const first = lb.entries()[0];
    assert.equal(first?.hash, 23782503374773142n);
    assert.equal(first?.endpoint.address, "10.244.0.12:8080");
  });

  it("cookie 071ab12ec2c21647 and key alice land on pod .11", () => {
    assert.equal(xxh64("071ab12ec2c21647"), 0x644ae6b1ebc2454en);
    assert.equal(lb.choose({ hash: xxh64("071ab12ec2c21647") })?.address, "10.244.0.11:8080");
    assert.equal(lb.choose({ hash: xxh64("alice") })?.address, "10.244.0.11:8080");
  });

  it("ring counts for 1, 2, 3 and 7 equal hosts match Envoy's scale rule", () => {
    const sizes = [1, 2, 3, 7].map((n) => {
      const hosts = Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${i + 1}:80`, weight: 1 }));
      const s = new RingHashLoadBalancer(hosts).stats();
      return [s.maxEntriesPerHost, s.size];
    });
    assert.deepEqual(sizes, [
      [1024, 1024],
      [512, 1024],
      [342, 1026],
      [147, 1029],
    ]);
  });

  it("lookup equals a linear scan for the first entry >= hash (bounded sample)", () => {
    const entries = lb.entries();
    for (let i = 0; i < 200; i++) {
      const hash = xxh64(`probe-${i}`);
      const index = entries.findIndex((e) => e.hash >= hash);
      const expected = entries[index === -1 ? 0 : index]?.endpoint;
      assert.equal(lb.choose({ hash }), expected);
    }
  });
});

describe("ring hash: each host's share of the hash space", () => {
  it("equals the arc lengths of the ring the balancer builds, for equal and weighted hosts", () => {
    for (const inputs of [
      Array.from({ length: 10 }, (_, i) => ({ address: `10.0.0.${i + 1}:8080` })),
      [
        { address: "10.0.0.1:8080", weight: 1 },
        { address: "10.0.0.2:8080", weight: 3 },
        { address: "[2001:db8::7]:80", weight: 2 },
      ],
    ]) {
      const endpoints = normalizeEndpoints(inputs);
      const ring = new RingHashLoadBalancer(endpoints, { minRingSize: 1024 });
      const entries = ring.entries();
      const arcs = new Map<string, number>();
      let previous = Number(entries.at(-1)?.hash ?? 0n) - 2 ** 64;
      for (const e of entries) {
        const hash = Number(e.hash);
        arcs.set(e.endpoint.address, (arcs.get(e.endpoint.address) ?? 0) + (hash - previous) / 2 ** 64);
        previous = hash;
      }
      const fast = ringKeyShares(endpoints, { minRingSize: 1024 });
      assert.equal(fast.size, ring.stats().size);
      assert.equal(fast.minEntriesPerHost, ring.stats().minEntriesPerHost);
      assert.equal(fast.maxEntriesPerHost, ring.stats().maxEntriesPerHost);
      for (const [address, share] of arcs)
        assert.ok(Math.abs((fast.shares.get(address) ?? 0) - share) < 1e-9, address);
      assert.ok(Math.abs([...fast.shares.values()].reduce((s, x) => s + x, 0) - 1) < 1e-9);
    }
  });
});
