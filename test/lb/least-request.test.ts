import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ActiveRequests } from "../../src/lb/active-requests.js";
import type { Endpoint } from "../../src/lb/endpoint.js";
import { LeastRequestLoadBalancer } from "../../src/lb/least-request.js";
import { sequenceRandom } from "../../src/lb/random-source.js";

const hosts = (ports: number[], weights: number[] = []): Endpoint[] =>
  ports.map((p, i) => ({ address: `127.0.0.1:${p}`, weight: weights[i] ?? 1 }));

function books(endpoints: Endpoint[], counts: number[]): ActiveRequests {
  const active = new ActiveRequests();
  for (const [i, e] of endpoints.entries()) active.set(e.address, counts[i] ?? 0);
  return active;
}

// Expectations from Envoy's test/extensions/load_balancing_policies/least_request/least_request_lb_test.cc.
// Envoy's first draw of each pick selects the priority; the next choice_count draws pick hosts. The
// fixture's balancer is built before a test mocks any draw, so its seed is the mock's default 0.
const SEED_0 = { memory: { seed: 0n } } as const;
describe("least request (Envoy LeastRequestLoadBalancerTest)", () => {
  it("SingleHost: the only host is chosen", () => {
    const h = hosts([80]);
    const lb = new LeastRequestLoadBalancer(h, { ...SEED_0, random: sequenceRandom([0n, 2n, 3n]) });
    assert.equal(lb.choose(), h[0]);
  });

  it("Normal: of two sampled hosts the one with fewer active requests wins", () => {
    const h = hosts([80, 81]);
    const active = books(h, [1, 2]);
    assert.equal(
      new LeastRequestLoadBalancer(h, {
        ...SEED_0,
        activeRequests: active,
        random: sequenceRandom([0n, 2n, 3n]),
      }).choose(),
      h[0],
    );
    active.set(h[0]?.address as string, 2);
    active.set(h[1]?.address as string, 1);
    assert.equal(
      new LeastRequestLoadBalancer(h, {
        ...SEED_0,
        activeRequests: active,
        random: sequenceRandom([0n, 2n, 3n]),
      }).choose(),
      h[1],
    );
  });

  it("PNC: choice counts 0 and 2 sample twice, 5 samples five times", () => {
    const h = hosts([80, 81, 82, 83]);
    const active = books(h, [4, 3, 2, 1]);
    for (const choiceCount of [0, 2, 5]) {
      const lb = new LeastRequestLoadBalancer(h, {
        ...SEED_0,
        activeRequests: active,
        choiceCount,
        random: sequenceRandom([0n]),
      });
      assert.equal(lb.choose(), h[0], `all-zero draws, choice_count ${choiceCount}`);
    }
    const p5c = new LeastRequestLoadBalancer(h, {
      ...SEED_0,
      activeRequests: active,
      choiceCount: 5,
      random: sequenceRandom([0n, 3n, 0n, 3n, 2n, 1n]),
    });
    assert.equal(p5c.choose(), h[3]);
  });

  it("WeightImbalance: weights 1:2 follow EDF over weight/(active+1)", () => {
    const h = hosts([80, 81], [1, 2]);
    const active = new ActiveRequests();
    const lb = new LeastRequestLoadBalancer(h, {
      ...SEED_0,
      activeRequests: active,
      random: sequenceRandom([0n]),
    });
    const picks = (n: number) => Array.from({ length: n }, () => h.indexOf(lb.choose() as Endpoint));
    assert.deepEqual(picks(6), [1, 0, 1, 1, 0, 1]);
    active.set(h[1]?.address as string, 1);
    assert.deepEqual(picks(5), [1, 0, 1, 0, 1]);
    active.set(h[0]?.address as string, 1);
    active.set(h[1]?.address as string, 0);
    assert.deepEqual(picks(10), [0, 1, 1, 1, 0, 1, 1, 1, 1, 0]);
  });

  it("WeightImbalanceCallbacks: a host update rebuilds the schedule; one host left is simply chosen", () => {
    const h = hosts([80, 81], [1, 2]);
    const memory = { seed: 0n };
    const random = sequenceRandom([0n]);
    const lb = new LeastRequestLoadBalancer(h, { memory, random });
    assert.deepEqual([lb.choose(), lb.choose()], [h[1], h[0]]);
    const one = [h[0] as Endpoint];
    assert.equal(new LeastRequestLoadBalancer(one, { memory, random }).choose(), h[0]);
  });

  it("a weighted schedule starts seed picks in: seed 1 starts 1:2 one pick in", () => {
    const h = hosts([80, 81], [1, 2]);
    const lb = new LeastRequestLoadBalancer(h, { random: sequenceRandom([1n, 0n]) });
    assert.deepEqual(
      Array.from({ length: 6 }, () => h.indexOf(lb.choose() as Endpoint)),
      [0, 1, 1, 0, 1, 1],
    );
  });

  it("NoHosts: nothing is chosen", () => {
    assert.equal(new LeastRequestLoadBalancer([]).choose(), undefined);
  });

  it("the shared books see begin/end from the caller", () => {
    const active = new ActiveRequests();
    active.begin("10.0.0.1:80");
    active.begin("10.0.0.1:80");
    active.end("10.0.0.1:80");
    assert.equal(active.get("10.0.0.1:80"), 1);
    active.end("10.0.0.1:80");
    assert.equal(active.snapshot().size, 0);
  });
});
