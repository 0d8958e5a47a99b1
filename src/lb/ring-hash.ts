/**
 * Envoy RING_HASH (source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc), Istio's
 * algorithm for `consistentHash` unless `maglev` is given (Istio sets minimum_ring_size 1024).
 *
 * Build: scale = min(ceil(minW·minRing)/minW, maxRing) with weights normalised as Envoy does; walk
 * the hosts in order keeping running sums of current/target hashes, pushing xxh64("key_i") for each;
 * sort by hash. Lookup: first entry with hash >= h (Envoy's ketama search), wrapping to index 0.
 * Retry attempt a>0: index (i + a) mod ring size. No hash: a random 64-bit point.
 *
 * Known deviation: Envoy's std::sort leaves the order of equal hashes unspecified; we keep host
 * order for ties (a 64-bit collision, practically never seen). MURMUR_HASH_2, bounded load and
 * locality weighting are not implemented because Istio never configures them.
 */
import { SessionAffinityError } from "../errors.js";
import { type Endpoint, endpointHashKey, normalizedWeights } from "./endpoint.js";
import type { ChooseContext, LoadBalancer, LoadBalancerStats } from "./load-balancer.js";
import { type RandomSource, seededRandom } from "./random-source.js";
import { joinUint64, splitUint64 } from "./uint64.js";
import { xxh64 } from "./xxhash64.js";

export const DEFAULT_MIN_RING_SIZE = 1024;
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;

export interface RingHashOptions {
  readonly minRingSize?: number;
  readonly maxRingSize?: number;
  readonly random?: RandomSource;
}

export interface RingEntry {
  readonly hash: bigint;
  readonly endpoint: Endpoint;
}

export function validateRingSizes(min: number, max: number, field = "ring hash"): void {
  for (const [name, value] of [
    ["minimum_ring_size", min],
    ["maximum_ring_size", max],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new SessionAffinityError(
        "ERR_LB_CONFIG",
        `${field}: ${name} ${value} must be a positive integer`,
      );
    }
  }
  if (max > DEFAULT_MAX_RING_SIZE) {
    throw new SessionAffinityError(
      "ERR_LB_CONFIG",
      `${field}: maximum_ring_size ${max} exceeds Envoy's limit ${DEFAULT_MAX_RING_SIZE}`,
    );
  }
  if (min > max) {
    throw new SessionAffinityError(
      "ERR_LB_CONFIG",
      `${field}: minimum_ring_size (${min}) > maximum_ring_size (${max})`,
    );
  }
}

/**
 * Envoy's ring entries for these endpoints (ring_hash_lb.cc): scale = min(ceil(min weight ×
 * minimum_ring_size) / min weight, maximum_ring_size); walking the hosts in order with running sums of
 * current and target counts, each host gets `xxh64("<key>_<i>")` entries until the sum reaches its
 * share. `visit` gets each entry's hash halves and host index, in that order.
 */
function ringEntries(
  endpoints: readonly Endpoint[],
  minRing: number,
  maxRing: number,
  visit: (high: number, low: number, hostIndex: number) => void,
): { size: number; minPerHost: number; maxPerHost: number } {
  const { weights, min } = normalizedWeights(endpoints);
  const scale = Math.min(Math.ceil(min * minRing) / min, maxRing);
  let current = 0;
  let target = 0;
  let minPerHost = Math.ceil(scale);
  let maxPerHost = 0;
  endpoints.forEach((endpoint, hostIndex) => {
    const prefix = `${endpointHashKey(endpoint)}_`;
    target += scale * (weights[hostIndex] as number);
    let i = 0;
    while (current < target) {
      const [high, low] = splitUint64(xxh64(prefix + i));
      visit(high, low, hostIndex);
      i++;
      current++;
    }
    minPerHost = Math.min(minPerHost, i);
    maxPerHost = Math.max(maxPerHost, i);
  });
  return { size: Math.ceil(scale), minPerHost, maxPerHost };
}

export class RingHashLoadBalancer implements LoadBalancer {
  readonly policy = "ring-hash";
  readonly endpoints: readonly Endpoint[];
  readonly #random: RandomSource;
  /** Sorted ring as parallel arrays: high and low 32 bits of each hash, and the endpoint index. */
  readonly #high: Uint32Array;
  readonly #low: Uint32Array;
  readonly #host: Uint32Array;
  readonly #stats: LoadBalancerStats;

  constructor(endpoints: readonly Endpoint[], options: RingHashOptions = {}) {
    const minRing = options.minRingSize ?? DEFAULT_MIN_RING_SIZE;
    const maxRing = options.maxRingSize ?? DEFAULT_MAX_RING_SIZE;
    validateRingSizes(minRing, maxRing);
    this.endpoints = endpoints;
    this.#random = options.random ?? seededRandom(Date.now());

    if (endpoints.length === 0) {
      this.#high = new Uint32Array(0);
      this.#low = new Uint32Array(0);
      this.#host = new Uint32Array(0);
      this.#stats = { endpoints: 0, size: 0, minEntriesPerHost: 0, maxEntriesPerHost: 0 };
      return;
    }

    const highs: number[] = [];
    const lows: number[] = [];
    const hosts: number[] = [];
    const {
      size: ringSize,
      minPerHost,
      maxPerHost,
    } = ringEntries(endpoints, minRing, maxRing, (high, low, hostIndex) => {
      highs.push(high);
      lows.push(low);
      hosts.push(hostIndex);
    });

    const order = Array.from(highs.keys());
    order.sort((a, b) => {
      const ha = highs[a] as number;
      const hb = highs[b] as number;
      if (ha !== hb) return ha - hb;
      const la = lows[a] as number;
      const lb = lows[b] as number;
      return la !== lb ? la - lb : a - b;
    });
    this.#high = Uint32Array.from(order, (i) => highs[i] as number);
    this.#low = Uint32Array.from(order, (i) => lows[i] as number);
    this.#host = Uint32Array.from(order, (i) => hosts[i] as number);
    this.#stats = {
      endpoints: endpoints.length,
      size: ringSize,
      minEntriesPerHost: minPerHost,
      maxEntriesPerHost: maxPerHost,
    };
  }

  choose(context: ChooseContext = {}): Endpoint | undefined {
    if (this.#host.length === 0) return undefined;
    const [high, low] = splitUint64(context.hash ?? this.#random());
    return this.endpoints[this.#host[this.indexFor(high, low, context.attempt ?? 0)] as number];
  }

  /** Ring index for a hash given as two 32-bit halves; the hot path for simulations. */
  indexFor(high: number, low: number, attempt = 0): number {
    const hi = this.#high;
    const lo = this.#low;
    const n = hi.length;
    let first = 0;
    let count = n;
    while (count > 0) {
      const step = count >>> 1;
      const mid = first + step;
      const mh = hi[mid] as number;
      if (mh < high || (mh === high && (lo[mid] as number) < low)) {
        first = mid + 1;
        count -= step + 1;
      } else {
        count = step;
      }
    }
    if (first === n) first = 0;
    return attempt > 0 ? (first + attempt) % n : first;
  }

  /** Endpoint index (into `endpoints`) at a ring index. */
  hostAt(ringIndex: number): number {
    return this.#host[ringIndex] as number;
  }

  /** The sorted ring, for explanation and tests. */
  entries(): RingEntry[] {
    return Array.from(this.#host, (host, i) => ({
      hash: joinUint64(this.#high[i] as number, this.#low[i] as number),
      endpoint: this.endpoints[host] as Endpoint,
    }));
  }

  stats(): LoadBalancerStats {
    return this.#stats;
  }
}

/** Each host's share of the hash space on the ring, and the ring's entry counts. */
export interface RingShares {
  /** By endpoint address: the fraction of all 64-bit hashes that land on it. */
  readonly shares: ReadonlyMap<string, number>;
  readonly size: number;
  readonly minEntriesPerHost: number;
  readonly maxEntriesPerHost: number;
}

/**
 * The share of the hash space each host owns on the ring RingHashLoadBalancer builds for these
 * endpoints (the same entries: Envoy's per-host counts and `<key>_<i>` hashes), without building a
 * lookup structure: an entry owns the arc from the previous entry up to its own hash (Envoy's
 * lower_bound search). Arcs are measured on the top 53 − b bits of each hash, b bits keeping the host,
 * so one numeric sort orders the whole ring; at 2^20 hosts that is still 2^-33 of the space.
 */
export function ringKeyShares(endpoints: readonly Endpoint[], options: RingHashOptions = {}): RingShares {
  const minRing = options.minRingSize ?? DEFAULT_MIN_RING_SIZE;
  const maxRing = options.maxRingSize ?? DEFAULT_MAX_RING_SIZE;
  validateRingSizes(minRing, maxRing);
  if (endpoints.length === 0)
    return { shares: new Map(), size: 0, minEntriesPerHost: 0, maxEntriesPerHost: 0 };
  const hostBits = Math.max(1, Math.ceil(Math.log2(endpoints.length)));
  const keep = 2 ** (53 - hostBits);
  const points: number[] = [];
  const { minPerHost, maxPerHost } = ringEntries(endpoints, minRing, maxRing, (high, low, hostIndex) => {
    // The hash scaled to [0, keep): its top (53 − hostBits) bits, then the host in the low bits.
    const top = Math.floor((high * 2 ** 32 + low) / 2 ** (11 + hostBits));
    points.push(top * 2 ** hostBits + hostIndex);
  });
  const sorted = Float64Array.from(points).sort();
  const owned = new Float64Array(endpoints.length);
  const hostOf = (p: number) => p % 2 ** hostBits;
  const at = (p: number) => Math.floor(p / 2 ** hostBits);
  let previous = at(sorted[sorted.length - 1] as number) - keep;
  for (const p of sorted) {
    owned[hostOf(p)] = (owned[hostOf(p)] as number) + (at(p) - previous);
    previous = at(p);
  }
  return {
    shares: new Map(endpoints.map((e, i) => [e.address, (owned[i] as number) / keep])),
    size: points.length,
    minEntriesPerHost: minPerHost,
    maxEntriesPerHost: maxPerHost,
  };
}
