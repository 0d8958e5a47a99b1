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
