/**
 * The one interface every algorithm implements. Hash-based balancers (ring hash, Maglev) map a
 * 64-bit request hash to an endpoint; the others ignore it. `attempt` is Envoy's host-selection
 * attempt (0 first, then 1.. when a retry host predicate rejected the previous pick).
 */
import type { Endpoint } from "./endpoint.js";

export interface ChooseContext {
  /** The request hash from the hash policy; absent means "no hash" (Envoy draws a random one). */
  readonly hash?: bigint | undefined;
  readonly attempt?: number;
}

/** Gauges Envoy publishes per balancer (ring_hash_lb.*, maglev_lb.*), plus the endpoint count. */
export interface LoadBalancerStats {
  readonly endpoints: number;
  readonly size?: number;
  readonly minEntriesPerHost?: number;
  readonly maxEntriesPerHost?: number;
}

export interface LoadBalancer {
  readonly policy: string;
  readonly endpoints: readonly Endpoint[];
  /** The chosen endpoint, or undefined when there are no endpoints. */
  choose(context?: ChooseContext): Endpoint | undefined;
  stats(): LoadBalancerStats;
}

/**
 * What Envoy's EDF-based balancers (round robin, least request) keep across the host updates of one
 * cluster (EdfLoadBalancerBase): the seed drawn once when the balancer is created, which sets both
 * where a rebuilt weighted schedule starts and round robin's first host, and round robin's pick count,
 * which a host update does not reset. A cluster hands the same object to every rebuild; a balancer
 * built without one draws a seed of its own.
 */
export interface BalancerMemory {
  seed?: bigint;
  roundRobinPicks?: number;
}
