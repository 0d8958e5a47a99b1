import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Endpoint } from "../../src/lb/endpoint.js";
import { RandomLoadBalancer } from "../../src/lb/random.js";
import { seededRandom, sequenceRandom } from "../../src/lb/random-source.js";
import { RoundRobinLoadBalancer } from "../../src/lb/round-robin.js";

const hosts = (n: number, weights: number[] = []): Endpoint[] =>
  Array.from({ length: n }, (_, i) => ({ address: `127.0.0.1:${80 + i}`, weight: weights[i] ?? 1 }));

describe("round robin", () => {
  it("cycles in host order starting at the seed drawn at build time", () => {
    const h = hosts(3);
    const lb = new RoundRobinLoadBalancer(h, { random: sequenceRandom([4n, 0n]) });
    assert.deepEqual(
      Array.from({ length: 5 }, () => lb.choose()),
      [h[1], h[2], h[0], h[1], h[2]],
    );
  });

  it("weights use EDF: 1:2 gives the heavier host two of every three picks", () => {
    const h = hosts(2, [1, 2]);
    const lb = new RoundRobinLoadBalancer(h, { random: sequenceRandom([0n]) });
    assert.deepEqual(
      Array.from({ length: 6 }, () => h.indexOf(lb.choose() as Endpoint)),
      [1, 0, 1, 1, 0, 1],
    );
  });

  // Envoy's test/extensions/load_balancing_policies/round_robin/round_robin_lb_test.cc. Its mocked
  // generator answers 0 unless told otherwise: the balancer's seed is then 0.
  it("Weighted: weights change on the next pick of each host; a host update rebuilds the schedule from the same seed", () => {
    const h0 = { address: "127.0.0.1:80", weight: 1 };
    const h1 = { address: "127.0.0.1:81", weight: 2 };
    const memory = {};
    const random = sequenceRandom([0n]);
    const picks = (lb: RoundRobinLoadBalancer, hosts: object[], n: number) =>
      Array.from({ length: n }, () => hosts.indexOf(lb.choose() as Endpoint));
    let hosts: { address: string; weight: number }[] = [h0, h1];
    let lb = new RoundRobinLoadBalancer(hosts, { random, memory });
    assert.deepEqual(picks(lb, hosts, 6), [1, 0, 1, 1, 0, 1]);
    h0.weight = 2;
    h1.weight = 1;
    assert.deepEqual(picks(lb, hosts, 8), [1, 0, 0, 1, 0, 0, 1, 0]);
    const h2 = { address: "127.0.0.1:82", weight: 3 };
    hosts = [h0, h1, h2];
    lb = new RoundRobinLoadBalancer(hosts, { random, memory });
    assert.deepEqual(picks(lb, hosts, 12), [2, 0, 2, 1, 0, 2, 2, 0, 2, 1, 0, 2]);
    const h3 = { address: "127.0.0.1:83", weight: 4 };
    h0.weight = 1;
    hosts = [h0, h3];
    lb = new RoundRobinLoadBalancer(hosts, { random, memory });
    assert.deepEqual(picks(lb, hosts, 10), [1, 1, 1, 0, 1, 1, 1, 1, 0, 1]);
  });

  it("WeightedSeed: seed 1 starts the 1:2 schedule one pick in", () => {
    const h = hosts(2, [1, 2]);
    const lb = new RoundRobinLoadBalancer(h, { random: sequenceRandom([1n]) });
    assert.deepEqual(
      Array.from({ length: 6 }, () => h.indexOf(lb.choose() as Endpoint)),
      [0, 1, 1, 0, 1, 1],
    );
  });

  it("WeightedInitializationPicksAllHosts: over seeds 0–9 the first pick of a 6:3:1 schedule follows the weights", () => {
    const h = hosts(3, [6, 3, 1]);
    const counts = [0, 0, 0];
    for (let i = 0n; i < 10n; i++) {
      const first = h.indexOf(
        new RoundRobinLoadBalancer(h, { random: sequenceRandom([i]) }).choose() as Endpoint,
      );
      counts[first] = (counts[first] ?? 0) + 1;
    }
    assert.deepEqual(counts, [6, 3, 1]);
  });

  it("Seed: equal weights start at seed mod n", () => {
    const h = hosts(3);
    const lb = new RoundRobinLoadBalancer(h, { random: sequenceRandom([1n]) });
    assert.deepEqual(
      Array.from({ length: 4 }, () => h.indexOf(lb.choose() as Endpoint)),
      [1, 2, 0, 1],
    );
  });

  it("Normal: a host update keeps the round robin index (it is not reset to the seed)", () => {
    const memory = {};
    const random = sequenceRandom([0n]);
    const two = hosts(2);
    const lb = new RoundRobinLoadBalancer(two, { random, memory });
    assert.deepEqual(
      Array.from({ length: 5 }, () => two.indexOf(lb.choose() as Endpoint)),
      [0, 1, 0, 1, 0],
    );
    const three = hosts(3);
    const rebuilt = new RoundRobinLoadBalancer(three, { random, memory });
    // Index 5 on three hosts: 5 % 3, then on.
    assert.deepEqual(
      Array.from({ length: 4 }, () => three.indexOf(rebuilt.choose() as Endpoint)),
      [2, 0, 1, 2],
    );
  });

  it("returns nothing without hosts", () => {
    assert.equal(new RoundRobinLoadBalancer([]).choose(), undefined);
  });
});

describe("random", () => {
  it("takes hosts[draw % n], one draw per pick (Envoy random_lb.cc)", () => {
    const h = hosts(4);
    const lb = new RandomLoadBalancer(h, sequenceRandom([7n, 18446744073709551615n, 4n]));
    assert.deepEqual([lb.choose(), lb.choose(), lb.choose()], [h[3], h[3], h[0]]);
  });

  it("spreads picks evenly within 10% over 4000 seeded picks", () => {
    const h = hosts(4);
    const lb = new RandomLoadBalancer(h, seededRandom(7));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const at = h.indexOf(lb.choose() as Endpoint);
      counts[at] = (counts[at] ?? 0) + 1;
    }
    for (const c of counts) assert.ok(Math.abs(c - 1000) < 100, `count ${c}`);
  });
});
