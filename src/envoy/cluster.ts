/**
 * One upstream cluster at run time: its endpoints, the balancer built from them through src/lb, and
 * the books — active requests (shared across rebuilds, as least request reads them), per-endpoint
 * and per-cluster counters; and, when the rule asks for it, Envoy's outlier detection: an ejected
 * host leaves the balancer (rebuilt over the healthy hosts, or all of them below the panic threshold)
 * until an interval tick brings it back. `update` is the xDS push: a changed endpoint set or policy
 * rebuilds the balancer; unchanged input keeps it (and its ring) as Envoy does.
 */
import { ActiveRequests } from "../lb/active-requests.js";
import { type Endpoint, normalizeEndpoints } from "../lb/endpoint.js";
import type { BalancerMemory, LoadBalancer } from "../lb/load-balancer.js";
import { OutlierDetector, type OutlierStats } from "../lb/outlier-detector.js";
import { type RandomSource, seededRandom } from "../lb/random-source.js";
import { createLoadBalancer, HASHING_POLICIES } from "../lb/registry.js";
import type { EnvoyLocality, HealthStatus } from "../xds/cluster-types.js";
import type { ClusterConfig } from "./cluster-config.js";
import { type HostEntry, isUsableHealth } from "./endpoints.js";
import { CircuitBreakers } from "./upstream/circuit-breakers.js";
import type { ClusterPoolSettings } from "./upstream/connection-pool.js";
import type { UpstreamFailureKind } from "./upstream/upstream-request.js";

const STATUS_CLASSES = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"] as const;

/** The counter key of a status; constant strings, as it runs up to three times per request. */
export function statusClass(status: number): "1xx" | "2xx" | "3xx" | "4xx" | "5xx" {
  return STATUS_CLASSES[Math.min(5, Math.max(1, Math.floor(status / 100)))] as "1xx";
}

export interface HostStats {
  rqTotal: number;
  rqSuccess: number;
  rqError: number;
  rqTimeout: number;
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
  readonly weight: number;
  /** The health EDS gave the host. */
  readonly health: HealthStatus;
  readonly locality: EnvoyLocality;
  readonly active: number;
  readonly stats: HostStats;
  /** Out of the balancer by outlier detection (Envoy's `/failed_outlier_check`). */
  readonly ejected: boolean;
}

/**
 * An attempt that got no response: how its upstream request failed, or the route timeout. Without
 * split_external_local_origin_errors (Istio's default), outlier detection counts each as a status;
 * an overflow never reached the host and counts as nothing.
 */
export type AttemptFailure = UpstreamFailureKind | "timeout";
const LOCAL_ORIGIN_STATUS: Record<Exclude<AttemptFailure, "overflow">, number> = {
  "connect-failure": 503,
  reset: 503,
  "protocol-error": 503,
  timeout: 504,
};

/** How a cluster's upstream connections are made and kept (its own pools, as Envoy's). */
function poolSettingsOf(
  config: ClusterConfig,
  breakers: CircuitBreakers,
  dial: ((address: string) => string) | undefined,
): ClusterPoolSettings {
  return {
    cluster: config.name,
    breakers,
    ...(dial ? { dial } : {}),
    connectTimeoutMs: config.connectTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    ...(config.maxRequestsPerConnection === undefined
      ? {}
      : { maxRequestsPerConnection: config.maxRequestsPerConnection }),
  };
}

function key(config: ClusterConfig, endpoints: readonly HostEntry[], ejected: readonly string[]): string {
  return JSON.stringify([
    config.lbPolicy,
    config.minRingSize,
    config.tableSize,
    config.maxRingSize,
    endpoints.map((e) => [e.address, e.weight, e.health]),
    config.panicThresholdPercent,
    ejected,
  ]);
}

export class Cluster {
  config: ClusterConfig;
  #configJson: string;
  /** Derived from `config` whenever it is set. */
  poolSettings: ClusterPoolSettings;
  /** The circuit breakers: their limits follow the config; what is in use outlives config pushes. */
  readonly breakers = new CircuitBreakers();
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
  #entries: readonly HostEntry[] = [];
  /** The addresses of the current hosts. */
  #addresses = new Set<string>();
  /** Built on first use after a change: a push that touches many clusters rebuilds only those in use. */
  #lb: LoadBalancer | undefined;
  /** The endpoints the next balancer is built from (validated when set). */
  #usable: readonly Endpoint[] = [];
  /** The balancer's seed and round robin position, kept across host updates as Envoy's balancer keeps them. */
  #memory: BalancerMemory = {};
  #key = "";
  #outliers: OutlierDetector | undefined;
  /** The outlier configuration the detector was built for. */
  #configured: ClusterConfig["outlierDetection"];
  readonly #now: () => number;

  constructor(
    config: ClusterConfig,
    endpoints: readonly HostEntry[],
    random: RandomSource = seededRandom(Date.now()),
    now: () => number = () => performance.now(),
    /** Where a host's address is served, when elsewhere (see ClusterPoolSettings.dial). */
    readonly dial?: (address: string) => string,
  ) {
    this.config = config;
    this.#configJson = JSON.stringify(config);
    this.breakers.limits = config.circuitBreakers;
    this.poolSettings = poolSettingsOf(config, this.breakers, this.dial);
    this.#random = random;
    this.#now = now;
    this.#configureOutliers(endpoints);
    this.#build(endpoints);
    this.#key = this.#keyOf(endpoints);
  }

  /** Outlier detection's counters; undefined when the cluster has none. */
  get outlierStats(): Readonly<OutlierStats> | undefined {
    return this.#outliers?.stats;
  }

  /** A new or changed outlier configuration starts a new detector, as Envoy's cluster update does. */
  #configureOutliers(endpoints: readonly HostEntry[]): void {
    const od = this.config.outlierDetection;
    if (!od) this.#outliers = undefined;
    else if (!this.#outliers || JSON.stringify(this.#configured) !== JSON.stringify(od))
      this.#outliers = new OutlierDetector(od, this.#random, this.#now());
    this.#configured = od;
    this.#outliers?.setHosts(endpoints.map((e) => e.address));
  }

  #keyOf(endpoints: readonly HostEntry[]): string {
    return key(this.config, endpoints, this.#outliers?.ejected() ?? []);
  }

  /** Runs the outlier detector's interval ticks due by now; a host that came back rejoins the balancer. */
  refresh(): void {
    if (this.#outliers?.advance(this.#now())) this.#rebuild();
  }

  #rebuild(): void {
    this.#build(this.#entries);
    this.#key = this.#keyOf(this.#entries);
  }

  get lb(): LoadBalancer {
    this.#lb ??= this.#construct();
    return this.#lb;
  }

  get hashing(): boolean {
    return HASHING_POLICIES.has(this.config.lbPolicy);
  }

  get endpoints(): readonly Endpoint[] {
    return this.lb.endpoints;
  }

  /** Applies a push; returns whether the balancer was rebuilt. */
  update(config: ClusterConfig, endpoints: readonly HostEntry[]): boolean {
    // A changed cluster is a new cluster and balancer in Envoy (CDS), with a seed of its own; only
    // endpoint changes (EDS) keep the balancer's memory.
    const configJson = JSON.stringify(config);
    if (configJson !== this.#configJson) this.#memory = {};
    this.#configJson = configJson;
    this.config = config;
    this.breakers.limits = config.circuitBreakers;
    this.poolSettings = poolSettingsOf(config, this.breakers, this.dial);
    this.#configureOutliers(endpoints);
    const next = this.#keyOf(endpoints);
    if (next === this.#key) return false;
    const before = new Set(this.#entries.map((e) => e.address));
    if (endpoints.length !== before.size || endpoints.some((e) => !before.has(e.address))) {
      this.stats.membershipChanges++;
    }
    this.#build(endpoints);
    this.#key = next;
    return true;
  }

  /** Takes a new host set; the balancer over it is built when next used. */
  #build(endpoints: readonly HostEntry[]): void {
    this.#entries = endpoints;
    this.#addresses = new Set(endpoints.map((e) => e.address));
    const outliers = this.#outliers;
    const healthy = endpoints.filter(
      (e) => isUsableHealth(e.health) && !(outliers?.isEjected(e.address) ?? false),
    );
    // Envoy's panic mode: below the threshold's share of healthy hosts, every host is used.
    const panic =
      endpoints.length > 0 && (100 * healthy.length) / endpoints.length < this.config.panicThresholdPercent;
    this.#usable = normalizeEndpoints(
      (panic ? endpoints : healthy).map((e) => ({ address: e.address, weight: e.weight })),
    );
    this.#lb = undefined;
  }

  #construct(): LoadBalancer {
    this.stats.lbRebuilds++;
    return createLoadBalancer(
      this.config.lbPolicy,
      this.#usable,
      {
        ...(this.config.minRingSize === undefined ? {} : { minRingSize: this.config.minRingSize }),
        ...(this.config.maxRingSize === undefined ? {} : { maxRingSize: this.config.maxRingSize }),
        ...(this.config.tableSize === undefined ? {} : { tableSize: this.config.tableSize }),
        activeRequests: this.activeRequests,
        random: this.#random,
        memory: this.#memory,
      },
      `cluster ${this.config.name}`,
    );
  }

  host(address: string): HostStats {
    let stats = this.#hostStats.get(address);
    if (!stats) {
      stats = { rqTotal: 0, rqSuccess: 0, rqError: 0, rqTimeout: 0, cxConnectFail: 0 };
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

  /** Books a response the host sent (a 5xx counts as the host's error, and towards its ejection). */
  countResponse(address: string, status: number): void {
    const host = this.host(address);
    if (status >= 500) host.rqError++;
    else host.rqSuccess++;
    this.stats.byClass[statusClass(status)]++;
    this.#outlierResult(address, status);
  }

  /**
   * Books a response that is retried rather than passed on: the host's error, and (Envoy reports every
   * upstream status to outlier detection before deciding on a retry) towards its ejection.
   */
  countRetriedResponse(address: string, status: number): void {
    this.host(address).rqError++;
    this.#outlierResult(address, status);
  }

  /**
   * Books an attempt that got no response: a failed connect, a reset or a protocol error (a host
   * error, the last two as resets), or a timeout; an overflow is not the host's and is not booked.
   */
  countFailure(address: string, failure: AttemptFailure): void {
    if (failure === "overflow") return;
    if (failure === "timeout") this.host(address).rqTimeout++;
    else this.host(address).rqError++;
    if (failure === "connect-failure") {
      this.host(address).cxConnectFail++;
      this.stats.cxConnectFail++;
    } else if (failure !== "timeout") this.stats.rqReset++;
    this.#outlierResult(address, LOCAL_ORIGIN_STATUS[failure]);
  }

  #outlierResult(address: string, status: number): void {
    const outliers = this.#outliers;
    if (!outliers) return;
    const now = this.#now();
    const returned = outliers.advance(now);
    if (outliers.putResult(address, status, now) || returned) this.#rebuild();
  }

  /** Current endpoints with their counters (counters of removed endpoints are dropped). */
  hosts(): HostView[] {
    for (const address of this.#hostStats.keys()) {
      if (!this.#addresses.has(address) && this.activeRequests.get(address) === 0)
        this.#hostStats.delete(address);
    }
    return this.#entries.map((e) => ({
      address: e.address,
      weight: e.weight,
      health: e.health,
      locality: e.locality,
      active: this.activeRequests.get(e.address),
      stats: { ...this.host(e.address) },
      ejected: this.#outliers?.isEjected(e.address) ?? false,
    }));
  }
}
