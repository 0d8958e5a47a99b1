/**
 * Envoy LEAST_REQUEST (source/extensions/load_balancing_policies/least_request/least_request_lb.cc),
 * Istio's default when no DestinationRule sets an algorithm (since 1.14).
 *
 * Equal weights: N_CHOICES with choice_count 2 — draw `random % n` choice_count times (duplicates
 * allowed), keep the first and replace it only by a host with strictly fewer active requests.
 * Unequal weights: EDF over weight / (active + 1) (active_request_bias 1.0), recomputed when a host
 * is re-added after its pick; the schedule is built on each host update as if `seed` picks had been
 * made (EdfLoadBalancerBase: one seed drawn when the balancer is created, kept across host updates).
 * Each pick first consumes one draw, as Envoy spends one on choosing the priority level (a no-op
 * here), so mocked draw sequences from Envoy's tests replay exactly.
 *
 * Active requests come from the shared {@link ActiveRequests} books.
 */
import { ActiveRequests } from "./active-requests.js";
import { EdfScheduler } from "./edf-scheduler.js";
import type { Endpoint } from "./endpoint.js";
import type { BalancerMemory, ChooseContext, LoadBalancer, LoadBalancerStats } from "./load-balancer.js";
import { type RandomSource, seededRandom } from "./random-source.js";
import { modUint64, splitUint64 } from "./uint64.js";

export interface LeastRequestOptions {
  readonly random?: RandomSource;
  readonly activeRequests?: ActiveRequests;
  readonly choiceCount?: number;
  readonly memory?: BalancerMemory;
}

export class LeastRequestLoadBalancer implements LoadBalancer {
  readonly policy = "least-request";
  readonly endpoints: readonly Endpoint[];
  readonly activeRequests: ActiveRequests;
  readonly #random: RandomSource;
  readonly #choices: number;
  readonly #edf: EdfScheduler | undefined;

  constructor(endpoints: readonly Endpoint[], options: LeastRequestOptions = {}) {
    this.endpoints = endpoints;
    this.activeRequests = options.activeRequests ?? new ActiveRequests();
    this.#random = options.random ?? seededRandom(Date.now());
    // Envoy treats a configured choice_count of 0 as the default 2.
    this.#choices = options.choiceCount || 2;
    const memory = options.memory ?? {};
    memory.seed ??= this.#random();
    const weighted = endpoints.length > 1 && endpoints.some((e) => e.weight !== endpoints[0]?.weight);
    if (weighted) {
      this.#edf = EdfScheduler.createWithPicks(endpoints.length, (i) => this.#weight(i), memory.seed);
    }
  }

  #weight(index: number): number {
    const endpoint = this.endpoints[index] as Endpoint;
    return endpoint.weight / (this.activeRequests.get(endpoint.address) + 1);
  }

  #draw(n: number): number {
    const [high, low] = splitUint64(this.#random());
    return modUint64(high, low, n);
  }

  choose(_context?: ChooseContext): Endpoint | undefined {
    const n = this.endpoints.length;
    if (n === 0) return undefined;
    this.#random();
    if (this.#edf) return this.endpoints[this.#edf.pickAndAdd((i) => this.#weight(i)) as number];
    let candidate = this.endpoints[this.#draw(n)] as Endpoint;
    let candidateActive = this.activeRequests.get(candidate.address);
    for (let c = 1; c < this.#choices; c++) {
      const sampled = this.endpoints[this.#draw(n)] as Endpoint;
      const active = this.activeRequests.get(sampled.address);
      if (active < candidateActive) {
        candidate = sampled;
        candidateActive = active;
      }
    }
    return candidate;
  }

  stats(): LoadBalancerStats {
    return { endpoints: this.endpoints.length };
  }
}
