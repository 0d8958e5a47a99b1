/**
 * The endpoints a balancer is built from: what EDS gives Envoy for one cluster. Istio sends pod
 * `ip:targetPort` with weight 1 unless the ServiceEntry/WorkloadEntry says otherwise.
 */
import { SessionAffinityError } from "../errors.js";
import { formatSocketAddress, parseSocketAddress } from "./address.js";

export interface Endpoint {
  /** `ip:port` as Envoy prints it; also the ring/Maglev hash key unless `hashKey` is set. */
  readonly address: string;
  /** Load-balancing weight, a positive integer (Envoy: 1..2^32-1 summed). */
  readonly weight: number;
  /**
   * Envoy's `envoy.lb/hash_key` metadata or hostname (with use_hostname_for_hashing). Istio sets
   * neither; it exists so Envoy's own hostname-keyed test expectations can be reproduced.
   */
  readonly hashKey?: string;
}

export interface EndpointInput {
  readonly address: string;
  readonly weight?: number;
  readonly hashKey?: string;
}

/**
 * Validates and canonicalises endpoints. `field` names the setting in error messages, e.g.
 * `pick: --endpoints`.
 */
export function normalizeEndpoints(inputs: readonly EndpointInput[], field = "endpoints"): Endpoint[] {
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  let total = 0;
  for (const input of inputs) {
    const parsed = parseSocketAddress(input.address);
    if (!parsed) {
      throw new SessionAffinityError(
        "ERR_LB_CONFIG",
        `${field}: '${input.address}' is not an ip:port endpoint address`,
      );
    }
    const address = formatSocketAddress(parsed);
    if (seen.has(address)) {
      throw new SessionAffinityError("ERR_LB_CONFIG", `${field}: endpoint ${address} is listed twice`);
    }
    seen.add(address);
    const weight = input.weight ?? 1;
    if (!Number.isInteger(weight) || weight < 1) {
      throw new SessionAffinityError(
        "ERR_LB_CONFIG",
        `${field}: weight ${weight} of ${address} must be a positive integer`,
      );
    }
    total += weight;
    if (total > 0xffffffff) {
      throw new SessionAffinityError("ERR_LB_CONFIG", `${field}: total weight ${total} exceeds 4294967295`);
    }
    endpoints.push(
      input.hashKey === undefined ? { address, weight } : { address, weight, hashKey: input.hashKey },
    );
  }
  return endpoints;
}

/** The key Envoy hashes for an endpoint on the ring / Maglev table. */
export function endpointHashKey(endpoint: Endpoint): string {
  return endpoint.hashKey ?? endpoint.address;
}

/**
 * Envoy's normalised weights: weight / sum (as doubles, in host order), with the minimum starting
 * from 1.0 and the maximum from 0.0 (thread_aware_lb_impl.cc normalizeHostWeights).
 */
export function normalizedWeights(endpoints: readonly Endpoint[]): {
  weights: number[];
  min: number;
  max: number;
} {
  let sum = 0;
  for (const e of endpoints) sum += e.weight;
  let min = 1.0;
  let max = 0.0;
  const weights = endpoints.map((e) => {
    const w = e.weight / sum;
    if (w < min) min = w;
    if (w > max) max = w;
    return w;
  });
  return { weights, min, max };
}
