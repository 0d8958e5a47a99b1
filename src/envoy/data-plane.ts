/**
 * The gateway's configuration state, driven only by xDS: each push is one immutable snapshot that
 * becomes the route table of the served listener and a runtime Cluster (balancer, breakers, outlier
 * detection) per CDS cluster with its EDS hosts. A cluster whose configuration and hosts are unchanged
 * keeps its balancer, as Envoy keeps it across pushes. A snapshot the gateway cannot run is refused
 * whole and the previous one stays in force, as Envoy NACKs an update.
 */
import { SessionAffinityError } from "../errors.js";
import type { RandomSource } from "../lb/random-source.js";
import type { EnvoyClusterLoadAssignment } from "../xds/cluster-types.js";
import type { XdsSnapshot } from "../xds/snapshot.js";
import type { AppliedSnapshot } from "./admin/views.js";
import { Cluster } from "./cluster.js";
import { type ClusterConfig, clusterConfigOf } from "./cluster-config.js";
import { type HostEntry, hostsOf } from "./endpoints.js";
import type { GatewaySnapshot } from "./gateway.js";
import { applySnapshot, sameJson } from "./resource-versions.js";
import { EMPTY_ROUTE_TABLE, type RouteTable, routeTableOf } from "./route-table.js";
import { unimplementedFields } from "./unimplemented.js";

const EMPTY_SNAPSHOT: XdsSnapshot = Object.freeze({
  version: "",
  istioVersion: "",
  listeners: [],
  routes: [],
  clusters: [],
  endpoints: [],
});

export interface DataPlaneOptions {
  /** The listener port the gateway serves (the gateway pod's port; 8080 for Istio's ingress gateway). */
  readonly listenerPort: number;
  readonly random?: RandomSource;
  /** Wall clock (epoch ms) for the time each resource was taken, as config_dump reports it. */
  readonly now?: () => number;
  /** Where an endpoint address is served, when elsewhere (a replayed proxy's hosts run locally). */
  readonly dial?: (address: string) => string;
}

export class DataPlane {
  readonly #listenerPort: number;
  readonly #random: RandomSource | undefined;
  readonly #dial: ((address: string) => string) | undefined;
  readonly #now: () => number;
  #applied: AppliedSnapshot | undefined;
  readonly #clusters = new Map<string, Cluster>();
  #snapshot: XdsSnapshot = EMPTY_SNAPSHOT;
  #routes: RouteTable = EMPTY_ROUTE_TABLE;
  /** Worked out when asked: walking every field of a large snapshot costs more than the push itself. */
  #unimplemented: readonly string[] | undefined = [];
  #rejected: string | undefined;
  #state: GatewaySnapshot;

  constructor(options: DataPlaneOptions) {
    this.#listenerPort = options.listenerPort;
    this.#random = options.random;
    this.#dial = options.dial;
    this.#now = options.now ?? Date.now;
    this.#state = { routes: this.#routes, clusters: this.#clusters };
  }

  /** The snapshot in force. */
  get snapshot(): XdsSnapshot {
    return this.#snapshot;
  }

  /** The snapshot in force with each resource's version and update time; undefined before the first push. */
  get applied(): AppliedSnapshot | undefined {
    return this.#applied;
  }

  get routes(): RouteTable {
    return this.#routes;
  }

  get clusters(): ReadonlyMap<string, Cluster> {
    return this.#clusters;
  }

  /** Fields of the snapshot in force that the gateway does not act on, one line each. */
  get unimplemented(): readonly string[] {
    this.#unimplemented ??= unimplementedFields(this.#snapshot);
    return this.#unimplemented;
  }

  /** Why the last refused snapshot was refused; undefined once a snapshot is taken. */
  get rejected(): string | undefined {
    return this.#rejected;
  }

  /** What the gateway reads per request. */
  gatewaySnapshot(): GatewaySnapshot {
    return this.#state;
  }

  /**
   * Takes a push; returns whether the gateway's routing or any cluster changed. A resource equal to
   * the one in force is kept as that very object (Envoy likewise ignores a resource whose hash is
   * unchanged), so an unchanged cluster is not even re-read and the admin books compare by identity.
   */
  apply(pushed: XdsSnapshot): boolean {
    const snapshot = intern(this.#snapshot, pushed);
    const routesSame =
      snapshot.routes === this.#snapshot.routes && snapshot.listeners === this.#snapshot.listeners;
    const before = new Map(this.#snapshot.endpoints.map((e) => [e.clusterName, e]));
    const assignments = new Map<string, EnvoyClusterLoadAssignment>(
      snapshot.endpoints.map((e) => [e.clusterName, e]),
    );
    const kept = new Set(this.#snapshot.clusters);
    let routes: RouteTable;
    const updates: { config: ClusterConfig; hosts: HostEntry[] }[] = [];
    const names = new Set<string>();
    try {
      routes = routesSame
        ? this.#routes
        : routeTableOf(snapshot.listeners, snapshot.routes, this.#listenerPort);
      for (const c of snapshot.clusters) {
        if (c.type !== "EDS" && c.type !== "STATIC") continue;
        names.add(c.name);
        const eds = c.edsClusterConfig?.serviceName ?? c.name;
        const assignment = assignments.get(eds);
        if (kept.has(c) && before.get(eds) === assignment && this.#clusters.has(c.name)) continue;
        updates.push({ config: clusterConfigOf(c), hosts: hostsOf(assignment) });
      }
    } catch (err) {
      if (!(err instanceof SessionAffinityError)) throw err;
      this.#rejected = `version ${snapshot.version}: ${err.message}`;
      return false;
    }
    this.#rejected = undefined;
    let changed = routes !== this.#routes;
    for (const { config, hosts } of updates) {
      const existing = this.#clusters.get(config.name);
      if (existing) changed = existing.update(config, hosts) || changed;
      else {
        this.#clusters.set(config.name, new Cluster(config, hosts, this.#random, undefined, this.#dial));
        changed = true;
      }
    }
    for (const name of this.#clusters.keys()) {
      if (names.has(name)) continue;
      this.#clusters.delete(name);
      changed = true;
    }
    this.#unimplemented = undefined;
    this.#applied = applySnapshot(this.#applied, snapshot, this.#now());
    this.#snapshot = snapshot;
    this.#routes = routes;
    this.#state = { routes, clusters: this.#clusters };
    return changed;
  }
}

/** Each resource list of `next` with every resource equal to its predecessor replaced by that one. */
function intern(previous: XdsSnapshot, next: XdsSnapshot): XdsSnapshot {
  const list = <T extends object>(
    old: readonly T[],
    fresh: readonly T[],
    name: (r: T) => string,
  ): readonly T[] => {
    const byName = new Map(old.map((r) => [name(r), r]));
    let same = old.length === fresh.length;
    const out = fresh.map((r, i) => {
      const o = byName.get(name(r));
      const kept = o !== undefined && sameJson(o, r) ? o : r;
      if (kept !== old[i]) same = false;
      return kept;
    });
    return same ? old : Object.freeze(out);
  };
  return Object.freeze({
    version: next.version,
    istioVersion: next.istioVersion,
    listeners: list(previous.listeners, next.listeners, (l) => l.name),
    routes: list(previous.routes, next.routes, (r) => r.name),
    clusters: list(previous.clusters, next.clusters, (c) => c.name),
    endpoints: list(previous.endpoints, next.endpoints, (e) => e.clusterName),
  });
}
