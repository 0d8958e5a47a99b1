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
import { applySnapshot } from "./admin/resource-versions.js";
import type { AppliedSnapshot } from "./admin/views.js";
import { Cluster } from "./cluster.js";
import { type ClusterConfig, clusterConfigOf } from "./cluster-config.js";
import { type HostEntry, hostsOf } from "./endpoints.js";
import type { GatewaySnapshot } from "./gateway.js";
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
}

export class DataPlane {
  readonly #listenerPort: number;
  readonly #random: RandomSource | undefined;
  readonly #now: () => number;
  #applied: AppliedSnapshot | undefined;
  readonly #clusters = new Map<string, Cluster>();
  #snapshot: XdsSnapshot = EMPTY_SNAPSHOT;
  #routes: RouteTable = EMPTY_ROUTE_TABLE;
  /** The listeners and route configurations the route table was built from, as JSON. */
  #routesKey = "";
  #unimplemented: readonly string[] = [];
  #rejected: string | undefined;
  #state: GatewaySnapshot;

  constructor(options: DataPlaneOptions) {
    this.#listenerPort = options.listenerPort;
    this.#random = options.random;
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
   * Takes a push; returns whether the gateway's routing or any cluster changed. `podOf` names the
   * workload behind an endpoint address, for the mesh's own views.
   */
  apply(snapshot: XdsSnapshot, podOf: (address: string) => string | undefined): boolean {
    let routes: RouteTable;
    let configs: { config: ClusterConfig; hosts: HostEntry[] }[];
    // istiod rebuilds every resource per push; an unchanged route configuration keeps its table.
    const routesKey =
      snapshot.routes === this.#snapshot.routes && snapshot.listeners === this.#snapshot.listeners
        ? this.#routesKey
        : JSON.stringify([snapshot.listeners, snapshot.routes]);
    try {
      routes =
        routesKey === this.#routesKey
          ? this.#routes
          : routeTableOf(snapshot.listeners, snapshot.routes, this.#listenerPort);
      const assignments = new Map<string, EnvoyClusterLoadAssignment>(
        snapshot.endpoints.map((e) => [e.clusterName, e]),
      );
      configs = snapshot.clusters
        .filter((c) => c.type === "EDS" || c.type === "STATIC")
        .map((c) => ({
          config: clusterConfigOf(c),
          hosts: hostsOf(assignments.get(c.edsClusterConfig?.serviceName ?? c.name), podOf),
        }));
    } catch (err) {
      if (!(err instanceof SessionAffinityError)) throw err;
      this.#rejected = `version ${snapshot.version}: ${err.message}`;
      return false;
    }
    this.#rejected = undefined;
    let changed = routes !== this.#routes;
    const names = new Set<string>();
    for (const { config, hosts } of configs) {
      names.add(config.name);
      const existing = this.#clusters.get(config.name);
      if (existing) changed = existing.update(config, hosts) || changed;
      else {
        this.#clusters.set(config.name, new Cluster(config, hosts, this.#random));
        changed = true;
      }
    }
    for (const name of this.#clusters.keys()) {
      if (names.has(name)) continue;
      this.#clusters.delete(name);
      changed = true;
    }
    if (snapshot !== this.#snapshot) {
      this.#unimplemented = unimplementedFields(snapshot);
      this.#applied = applySnapshot(this.#applied, snapshot, this.#now());
    }
    this.#snapshot = snapshot;
    this.#routes = routes;
    this.#routesKey = routesKey;
    this.#state = { routes, clusters: this.#clusters };
    return changed;
  }
}
