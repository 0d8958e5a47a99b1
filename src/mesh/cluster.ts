/**
 * One upstream cluster at run time: its endpoints, the balancer built from them through src/lb, and
 * the books — active requests (shared across rebuilds, as least request reads them), per-endpoint
 * and per-cluster counters. `update` is the xDS push: a changed endpoint set or policy rebuilds the
 * balancer; unchanged input keeps it (and its ring) as Envoy does.
 */
import { ActiveRequests } from "../lb/active-requests.js";
import { type Endpoint, normalizeEndpoints } from "../lb/endpoint.js";
import type { LoadBalancer } from "../lb/load-balancer.js";
import { type RandomSource, seededRandom } from "../lb/random-source.js";
import { createLoadBalancer, HASHING_POLICIES } from "../lb/registry.js";
import type { EndpointEntry } from "./endpoints.js";
import type { ClusterConfig } from "./gateway-config.js";

const STATUS_CLASSES = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/** The counter key of a status; constant strings, as it runs up to three times per request. */
export function statusClass(status: number): "1xx" | "2xx" | "3xx" | "4xx" | "5xx" {
  return STATUS_CLASSES[Math.min(5, Math.max(1, Math.floor(status / 100)))] as "1xx";
}

export interface HostStats {
  rqTotal: number;
  rqSuccess: number;
  rqError: number;
  cxConnectFail: number;
}

export interface ClusterStats {
  rqTotal: number;
  rqRetry: number;
  rqNoHealthyUpstream: number;
  cxConnectFail: number;
  rqReset: number;
  rqTimeout: number;
  membershipChanges: number;
  lbRebuilds: number;
  byClass: Record<"1xx" | "2xx" | "3xx" | "4xx" | "5xx", number>;
}

export interface HostView {
  readonly address: string;
  readonly pod: string;
  readonly active: number;
  readonly stats: HostStats;
}

function key(config: ClusterConfig, endpoints: readonly EndpointEntry[]): string {
  return JSON.stringify([
    config.lbPolicy,
    config.minRingSize,
    config.tableSize,
    endpoints.map((e) => e.address),
  ]);
}

export class Cluster {
  config: ClusterConfig;
  readonly activeRequests = new ActiveRequests();
  readonly stats: ClusterStats = {
    rqTotal: 0,
    rqRetry: 0,
    rqNoHealthyUpstream: 0,
    cxConnectFail: 0,
    rqReset: 0,
    rqTimeout: 0,
    membershipChanges: 0,
    lbRebuilds: 0,
    byClass: { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
  };
  readonly #hostStats = new Map<string, HostStats>();
  readonly #random: RandomSource;
  #entries: readonly EndpointEntry[] = [];
  #pods = new Map<string, string>();
  #lb: LoadBalancer;
  #key = "";

  constructor(
    config: ClusterConfig,
    endpoints: readonly EndpointEntry[],
    random: RandomSource = seededRandom(Date.now()),
  ) {
    this.config = config;
    this.#random = random;
    this.#lb = this.#build(endpoints);
    this.#key = key(config, endpoints);
  }

  get lb(): LoadBalancer {
    return this.#lb;
  }

  get hashing(): boolean {
    return HASHING_POLICIES.has(this.config.lbPolicy);
  }

  get endpoints(): readonly Endpoint[] {
    return this.#lb.endpoints;
  }

  podOf(address: string): string | undefined {
    return this.#pods.get(address);
  }

  /** Applies a push; returns whether the balancer was rebuilt. */
  update(config: ClusterConfig, endpoints: readonly EndpointEntry[]): boolean {
    const next = key(config, endpoints);
    this.config = config;
    if (next === this.#key) return false;
    const before = new Set(this.#entries.map((e) => e.address));
    if (endpoints.length !== before.size || endpoints.some((e) => !before.has(e.address))) {
      this.stats.membershipChanges++;
    }
    this.#lb = this.#build(endpoints);
    this.#key = next;
    return true;
  }

  #build(endpoints: readonly EndpointEntry[]): LoadBalancer {
    this.#entries = endpoints;
    this.#pods = new Map(endpoints.map((e) => [e.address, e.pod]));
    this.stats.lbRebuilds++;
    return createLoadBalancer(
      this.config.lbPolicy,
      normalizeEndpoints(endpoints.map((e) => ({ address: e.address }))),
      {
        ...(this.config.minRingSize === undefined ? {} : { minRingSize: this.config.minRingSize }),
        ...(this.config.tableSize === undefined ? {} : { tableSize: this.config.tableSize }),
        activeRequests: this.activeRequests,
        random: this.#random,
      },
      `cluster ${this.config.name}`,
    );
  }

  host(address: string): HostStats {
    let stats = this.#hostStats.get(address);
    if (!stats) {
      stats = { rqTotal: 0, rqSuccess: 0, rqError: 0, cxConnectFail: 0 };
      this.#hostStats.set(address, stats);
    }
    return stats;
  }

  /** Books an attempt on a host; the returned end gives its active request back, once. */
  beginAttempt(address: string): () => void {
    this.host(address).rqTotal++;
    this.stats.rqTotal++;
    this.activeRequests.begin(address);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.activeRequests.end(address);
    };
  }

  /** Books a response the host sent (a 5xx counts as the host's error). */
  countResponse(address: string, status: number): void {
    const host = this.host(address);
    if (status >= 500) host.rqError++;
    else host.rqSuccess++;
    this.stats.byClass[statusClass(status)]++;
  }

  /** Books an attempt that got no response: a failed connect, or a reset. */
  countFailure(address: string, connectFailure: boolean): void {
    const host = this.host(address);
    host.rqError++;
    if (connectFailure) {
      host.cxConnectFail++;
      this.stats.cxConnectFail++;
    } else this.stats.rqReset++;
  }

  /** Current endpoints with their counters (counters of removed endpoints are dropped). */
  hosts(): HostView[] {
    for (const address of this.#hostStats.keys()) {
      if (!this.#pods.has(address) && this.activeRequests.get(address) === 0) this.#hostStats.delete(address);
    }
    return this.#entries.map((e) => ({
      address: e.address,
      pod: e.pod,
      active: this.activeRequests.get(e.address),
      stats: { ...this.host(e.address) },
    }));
  }
}
