/**
 * Policy name → balancer factory. The only place that maps names to algorithms: callers (the mesh,
 * the CLI, simulations) look a factory up here and never switch on the policy themselves.
 */
import { SessionAffinityError } from "../errors.js";
import type { ActiveRequests } from "./active-requests.js";
import type { Endpoint } from "./endpoint.js";
import { LeastRequestLoadBalancer } from "./least-request.js";
import type { BalancerMemory, LoadBalancer } from "./load-balancer.js";
import { MaglevLoadBalancer } from "./maglev.js";
import { RandomLoadBalancer } from "./random.js";
import type { RandomSource } from "./random-source.js";
import { RingHashLoadBalancer } from "./ring-hash.js";
import { RoundRobinLoadBalancer } from "./round-robin.js";

export interface LoadBalancerOptions {
  readonly minRingSize?: number;
  readonly maxRingSize?: number;
  readonly tableSize?: number;
  readonly choiceCount?: number;
  readonly random?: RandomSource;
  readonly activeRequests?: ActiveRequests;
  /** Kept by the caller across rebuilds of one cluster's balancer (round robin, least request). */
  readonly memory?: BalancerMemory;
}

export type LoadBalancerFactory = (
  endpoints: readonly Endpoint[],
  options: LoadBalancerOptions,
) => LoadBalancer;

export const loadBalancerFactories = {
  "ring-hash": (endpoints, options) => new RingHashLoadBalancer(endpoints, options),
  maglev: (endpoints, options) => new MaglevLoadBalancer(endpoints, options),
  "least-request": (endpoints, options) => new LeastRequestLoadBalancer(endpoints, options),
  "round-robin": (endpoints, options) => new RoundRobinLoadBalancer(endpoints, options),
  random: (endpoints, options) => new RandomLoadBalancer(endpoints, options.random),
} satisfies Record<string, LoadBalancerFactory>;

export type LoadBalancerPolicy = keyof typeof loadBalancerFactories;

export const LOAD_BALANCER_POLICIES = Object.keys(loadBalancerFactories) as LoadBalancerPolicy[];

/** Which policies map a request hash to an endpoint (and so need a hash policy to be sticky). */
export const HASHING_POLICIES: ReadonlySet<LoadBalancerPolicy> = new Set(["ring-hash", "maglev"]);

/** Istio DestinationRule `loadBalancer.simple` names (LEAST_CONN is Istio's deprecated alias). */
export const ISTIO_SIMPLE_POLICIES: Readonly<Record<string, LoadBalancerPolicy>> = {
  ROUND_ROBIN: "round-robin",
  LEAST_REQUEST: "least-request",
  LEAST_CONN: "least-request",
  RANDOM: "random",
  UNSPECIFIED: "least-request",
};

export function isLoadBalancerPolicy(name: string): name is LoadBalancerPolicy {
  return Object.hasOwn(loadBalancerFactories, name);
}

export function createLoadBalancer(
  policy: string,
  endpoints: readonly Endpoint[],
  options: LoadBalancerOptions = {},
  field = "lb",
): LoadBalancer {
  if (!isLoadBalancerPolicy(policy)) {
    throw new SessionAffinityError(
      "ERR_LB_CONFIG",
      `${field}: unknown policy '${policy}' (expected ${LOAD_BALANCER_POLICIES.join(", ")})`,
    );
  }
  return loadBalancerFactories[policy](endpoints, options);
}
