/**
 * Envoy RANDOM: one 64-bit draw per pick, `hosts[draw % n]` (source/extensions/load_balancing_policies/
 * random/random_lb.cc). The same draw also selects the priority level, which is a no-op with Istio's
 * single priority, so one draw per pick is faithful.
 */
import type { Endpoint } from "./endpoint.js";
import type { ChooseContext, LoadBalancer, LoadBalancerStats } from "./load-balancer.js";
import { type RandomSource, seededRandom } from "./random-source.js";
import { modUint64, splitUint64 } from "./uint64.js";

export class RandomLoadBalancer implements LoadBalancer {
  readonly policy = "random";
  readonly endpoints: readonly Endpoint[];
  readonly #random: RandomSource;

  constructor(endpoints: readonly Endpoint[], random: RandomSource = seededRandom(Date.now())) {
    this.endpoints = endpoints;
    this.#random = random;
  }

  choose(_context?: ChooseContext): Endpoint | undefined {
    const n = this.endpoints.length;
    if (n === 0) return undefined;
    const [high, low] = splitUint64(this.#random());
    return this.endpoints[modUint64(high, low, n)];
  }

  stats(): LoadBalancerStats {
    return { endpoints: this.endpoints.length };
  }
}
