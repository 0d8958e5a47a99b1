/**
 * Envoy ROUND_ROBIN (source/extensions/load_balancing_policies/round_robin/round_robin_lb.h on
 * EdfLoadBalancerBase, source/extensions/load_balancing_policies/common/load_balancer_impl.cc).
 * One seed is drawn when the balancer is created and kept across host updates.
 * Equal weights: `hosts[(seed + picks) % n]`, the pick count carried over host updates.
 * Unequal weights: an EDF schedule over the static weights, rebuilt on each host update as if `seed`
 * picks had been made ({@link EdfScheduler.createWithPicks}).
 * Like every Envoy zone-aware balancer, each pick first spends one draw on priority selection.
 */
import { EdfScheduler } from "./edf-scheduler.js";
import type { Endpoint } from "./endpoint.js";
import type { BalancerMemory, ChooseContext, LoadBalancer, LoadBalancerStats } from "./load-balancer.js";
import { type RandomSource, seededRandom } from "./random-source.js";
import { modUint64, splitUint64 } from "./uint64.js";

export interface RoundRobinOptions {
  readonly random?: RandomSource;
  readonly memory?: BalancerMemory;
}

export class RoundRobinLoadBalancer implements LoadBalancer {
  readonly policy = "round-robin";
  readonly endpoints: readonly Endpoint[];
  readonly #random: RandomSource;
  readonly #memory: BalancerMemory;
  readonly #edf: EdfScheduler | undefined;
  /** seed mod n: with the pick count, the index without 64-bit arithmetic per pick. */
  readonly #start: number;

  constructor(endpoints: readonly Endpoint[], options: RoundRobinOptions = {}) {
    this.endpoints = endpoints;
    this.#random = options.random ?? seededRandom(Date.now());
    this.#memory = options.memory ?? {};
    this.#memory.seed ??= this.#random();
    const seed = this.#memory.seed;
    const [high, low] = splitUint64(seed);
    this.#start = endpoints.length > 0 ? modUint64(high, low, endpoints.length) : 0;
    const weighted = endpoints.length > 1 && endpoints.some((e) => e.weight !== endpoints[0]?.weight);
    if (weighted) {
      this.#edf = EdfScheduler.createWithPicks(endpoints.length, (i) => this.#weight(i), seed);
    }
  }

  #weight(index: number): number {
    return (this.endpoints[index] as Endpoint).weight;
  }

  choose(_context?: ChooseContext): Endpoint | undefined {
    const n = this.endpoints.length;
    if (n === 0) return undefined;
    this.#random();
    if (this.#edf) return this.endpoints[this.#edf.pickAndAdd((i) => this.#weight(i)) as number];
    const picks = this.#memory.roundRobinPicks ?? 0;
    this.#memory.roundRobinPicks = picks + 1;
    return this.endpoints[(this.#start + (picks % n)) % n];
  }

  stats(): LoadBalancerStats {
    return { endpoints: this.endpoints.length };
  }
}
