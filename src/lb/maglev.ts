/**
 * Envoy MAGLEV (source/extensions/load_balancing_policies/maglev/maglev_lb.cc; Maglev paper §3.4,
 * pseudocode listing 1), chosen in Istio by `consistentHash.maglev`.
 *
 * Build: hosts sorted by hash key; offset = xxh64(key) mod M, skip = xxh64(key, seed 1) mod (M-1) + 1;
 * rounds over the hosts, each host filling its next free permutation slot when
 * iteration·weight >= its running target (target += max weight each time it fills). Lookup:
 * table[h mod M]; retry attempt a>0 first XORs h with 2^64 - a. A single host is Envoy's
 * degenerate table (every hash → that host, stats 1/1). The table size must be prime.
 *
 * Not implemented because Istio never configures them: bounded load (hash_balance_factor),
 * locality weighting, use_hostname_for_hashing (Endpoint.hashKey stands in for tests).
 */
import { SessionAffinityError } from "../errors.js";
import { type Endpoint, endpointHashKey, normalizedWeights } from "./endpoint.js";
import type { ChooseContext, LoadBalancer, LoadBalancerStats } from "./load-balancer.js";
import { isPrime } from "./primes.js";
import { type RandomSource, seededRandom } from "./random-source.js";
import { modUint64, splitUint64, UINT64_MAX } from "./uint64.js";
import { xxh64 } from "./xxhash64.js";

export const DEFAULT_TABLE_SIZE = 65537;
/** Istio's validation bound (pkg/config/validation: tableSize must be < 5000011). */
export const MAX_TABLE_SIZE = 5000011;

export interface MaglevOptions {
  readonly tableSize?: number;
  readonly random?: RandomSource;
}

export function validateTableSize(size: number, field = "maglev: table_size"): void {
  if (!Number.isSafeInteger(size) || size < 2) {
    throw new SessionAffinityError("ERR_LB_CONFIG", `${field} ${size} must be a prime number`);
  }
  if (size >= MAX_TABLE_SIZE) {
    throw new SessionAffinityError("ERR_LB_CONFIG", `${field} ${size} must be less than ${MAX_TABLE_SIZE}`);
  }
  if (!isPrime(size)) {
    throw new SessionAffinityError("ERR_LB_CONFIG", `${field} ${size} is not prime`);
  }
}

export class MaglevLoadBalancer implements LoadBalancer {
  readonly policy = "maglev";
  readonly endpoints: readonly Endpoint[];
  readonly tableSize: number;
  readonly #random: RandomSource;
  /** Endpoint index per slot; empty for zero or one endpoint. */
  readonly #table: Uint32Array;
  readonly #stats: LoadBalancerStats;

  constructor(endpoints: readonly Endpoint[], options: MaglevOptions = {}) {
    const size = options.tableSize ?? DEFAULT_TABLE_SIZE;
    validateTableSize(size);
    this.tableSize = size;
    this.endpoints = endpoints;
    this.#random = options.random ?? seededRandom(Date.now());
    if (endpoints.length <= 1) {
      this.#table = new Uint32Array(0);
      const n = endpoints.length;
      this.#stats = { endpoints: n, size, minEntriesPerHost: n, maxEntriesPerHost: n };
      return;
    }

    const { weights, max: maxWeight } = normalizedWeights(endpoints);
    const m = BigInt(size);
    const builds = endpoints
      .map((endpoint, index) => ({ key: endpointHashKey(endpoint), index, weight: weights[index] as number }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((e) => ({
        index: e.index,
        weight: e.weight,
        offset: Number(xxh64(e.key) % m),
        skip: Number(xxh64(e.key, 1n) % (m - 1n)) + 1,
        next: 0,
        target: 0,
        count: 0,
      }));

    const table = new Uint32Array(size);
    const taken = new Uint8Array(size);
    let filled = 0;
    for (let iteration = 1; filled < size; iteration++) {
      for (let i = 0; i < builds.length && filled < size; i++) {
        const e = builds[i] as (typeof builds)[number];
        if (iteration * e.weight < e.target) continue;
        e.target += maxWeight;
        let slot = (e.offset + e.skip * e.next) % size;
        while (taken[slot]) {
          e.next++;
          slot = (e.offset + e.skip * e.next) % size;
        }
        table[slot] = e.index;
        taken[slot] = 1;
        e.next++;
        e.count++;
        filled++;
      }
    }
    this.#table = table;
    let minCount = size;
    let maxCount = 0;
    for (const e of builds) {
      minCount = Math.min(minCount, e.count);
      maxCount = Math.max(maxCount, e.count);
    }
    this.#stats = {
      endpoints: endpoints.length,
      size,
      minEntriesPerHost: minCount,
      maxEntriesPerHost: maxCount,
    };
  }

  choose(context: ChooseContext = {}): Endpoint | undefined {
    const n = this.endpoints.length;
    if (n <= 1) return this.endpoints[0];
    let hash = context.hash ?? this.#random();
    const attempt = context.attempt ?? 0;
    if (attempt > 0) hash ^= (UINT64_MAX - BigInt(attempt) + 1n) & UINT64_MAX;
    const [high, low] = splitUint64(hash);
    return this.endpoints[this.#table[modUint64(high, low, this.tableSize)] as number];
  }

  /** Endpoint index for slot `slot`; the hot path for simulations. */
  hostAtSlot(slot: number): number {
    return this.endpoints.length <= 1 ? 0 : (this.#table[slot] as number);
  }

  /** Endpoint index per slot (copy), for explanation and tests. */
  table(): Uint32Array {
    return this.endpoints.length <= 1 ? new Uint32Array(this.tableSize) : this.#table.slice();
  }

  stats(): LoadBalancerStats {
    return this.#stats;
  }
}
