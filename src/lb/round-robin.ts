/**
 * Envoy ROUND_ROBIN (source/extensions/load_balancing_policies/round_robin/round_robin_lb.h).
 * Equal weights: `hosts[index++ % n]` where the index starts at a random seed drawn when the
 * balancer is built (each Envoy worker has its own). Unequal weights: EDF with static weights.
 * Like every Envoy zone-aware balancer, each pick first spends one draw on priority selection.
 */
import { EdfScheduler } from "./edf-scheduler.js";
import type { Endpoint } from "./endpoint.js";
import type { ChooseContext, LoadBalancer, LoadBalancerStats } from "./load-balancer.js";
import { type RandomSource, seededRandom } from "./random-source.js";
import { modUint64, splitUint64 } from "./uint64.js";

export interface RoundRobinOptions {
  readonly random?: RandomSource;
}

export class RoundRobinLoadBalancer implements LoadBalancer {
  readonly policy = "round-robin";
  readonly endpoints: readonly Endpoint[];
  readonly #random: RandomSource;
  readonly #edf: EdfScheduler | undefined;
  #next: number;

  constructor(endpoints: readonly Endpoint[], options: RoundRobinOptions = {}) {
    this.endpoints = endpoints;
    this.#random = options.random ?? seededRandom(Date.now());
    const [high, low] = splitUint64(this.#random());
    this.#next = endpoints.length > 0 ? modUint64(high, low, endpoints.length) : 0;
    const weighted = endpoints.length > 1 && endpoints.some((e) => e.weight !== endpoints[0]?.weight);
    if (weighted) {
      this.#edf = new EdfScheduler();
      for (const [i, e] of endpoints.entries()) this.#edf.add(i, e.weight);
    }
  }

  choose(_context?: ChooseContext): Endpoint | undefined {
    const n = this.endpoints.length;
    if (n === 0) return undefined;
    this.#random();
    if (this.#edf)
      return this.endpoints[this.#edf.pickAndAdd((i) => (this.endpoints[i] as Endpoint).weight) as number];
    const endpoint = this.endpoints[this.#next];
    this.#next = (this.#next + 1) % n;
    return endpoint;
  }

  stats(): LoadBalancerStats {
    return { endpoints: this.endpoints.length };
  }
}
