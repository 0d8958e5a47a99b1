/**
 * Where sessions land on a route's cluster, computed with the dump's own hosts, weights and health
 * through the project's Envoy-exact balancers (src/lb), and which sessions a change of the host set
 * moves. A key is the value the route's first hash policy reads (a cookie value, a header value, a
 * source IP, a query parameter); synthetic sessions get values of the same kind.
 */
import { type ClusterConfig, clusterConfigOf } from "../envoy/cluster-config.js";
import { hashPolicyOf } from "../envoy/route-action.js";
import { SessionAffinityError } from "../errors.js";
import { normalizeEndpoints } from "../lb/endpoint.js";
import { computeHash, type HashPolicy, hashInputName, type RequestDescription } from "../lb/hash-policy.js";
import { createLoadBalancer, HASHING_POLICIES } from "../lb/registry.js";
import { toHex16 } from "../lb/uint64.js";
import { xxh64 } from "../lb/xxhash64.js";
import { field, objects } from "../proxy-config/config-dump.js";
import type { EnvoyCluster } from "../xds/cluster-types.js";
import type { EnvoyHashPolicy } from "../xds/route-types.js";
import type { HostState, RouteContext, RoutedCluster } from "./context.js";

export interface HostChange {
  /** The hosts after the change: the usable ones, the removed ones gone, new ones added. */
  readonly scaleTo?: number;
  readonly remove?: readonly string[];
  readonly add?: number;
}

export interface PlacementOptions {
  readonly keys: readonly string[];
  readonly sessions: number;
  readonly change?: HostChange;
}

export interface Placement {
  readonly cluster: string;
  readonly lbPolicy: string;
  /** The hash input the keys stand for, e.g. `cookie session-route`. */
  readonly keyKind: string;
  readonly hosts: readonly string[];
  readonly keys: readonly { readonly key: string; readonly endpoint: string | undefined }[];
  /** Synthetic sessions per endpoint. */
  readonly distribution: Readonly<Record<string, number>>;
  readonly change?: {
    readonly hosts: readonly string[];
    readonly moved: number;
    readonly total: number;
    readonly movedPercent: number;
    /** Sessions whose endpoint is gone (a subset of moved). */
    readonly lost: number;
  };
}

/** The request a key stands for, as the first hash policy reads it. */
function requestFor(p: HashPolicy, key: string): RequestDescription {
  switch (p.kind) {
    case "cookie":
      return { headers: [["cookie", `${p.name}=${key}`]], path: "/" };
    case "header":
      return { headers: [[p.name.toLowerCase(), key]], path: "/" };
    case "source-ip":
      return { headers: [], path: "/", remoteAddress: { ip: key, port: 0 } };
    case "query":
      return { headers: [], path: `/?${encodeURIComponent(p.name)}=${encodeURIComponent(key)}` };
  }
}

/** A synthetic session's key of the policy's kind: a generated-cookie-like hex value, an IP, a name. */
function syntheticKey(p: HashPolicy, i: number): string {
  if (p.kind === "cookie") return toHex16(xxh64(`session-${i}`));
  if (p.kind === "source-ip") return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return `session-${i}`;
}

function usable(hosts: readonly HostState[], panicPercent: number): HostState[] {
  const p0 = hosts.filter((h) => h.priority === 0);
  const healthy = p0.filter(
    (h) => (h.health === "HEALTHY" || h.health === "UNKNOWN") && !h.failedOutlierCheck,
  );
  // Envoy's panic mode: below the threshold's share of healthy hosts, every host is used.
  return p0.length > 0 && (100 * healthy.length) / p0.length < panicPercent ? p0 : healthy;
}

function balancer(config: ClusterConfig, hosts: readonly { address: string; weight: number }[]) {
  return createLoadBalancer(
    config.lbPolicy,
    normalizeEndpoints(hosts, `cluster ${config.name}`),
    {
      ...(config.minRingSize === undefined ? {} : { minRingSize: config.minRingSize }),
      ...(config.maxRingSize === undefined ? {} : { maxRingSize: config.maxRingSize }),
      ...(config.tableSize === undefined ? {} : { tableSize: config.tableSize }),
    },
    `cluster ${config.name}`,
  );
}

/** The host set after a change; new hosts get addresses in 240.0.0.0/4, which no pod has. */
function changed(hosts: readonly { address: string; weight: number }[], change: HostChange) {
  let next = hosts.filter((h) => !(change.remove ?? []).includes(h.address));
  const port = hosts[0]?.address.slice(hosts[0].address.lastIndexOf(":") + 1) ?? "8080";
  const add = (n: number) => {
    for (let i = 0; i < n; i++)
      next = [
        ...next,
        { address: `240.0.${(next.length >> 8) & 255}.${next.length & 255}:${port}`, weight: 1 },
      ];
  };
  if (change.add) add(change.add);
  if (change.scaleTo !== undefined) {
    // Which pods a scale-down removes is the ReplicaSet's choice; the last in address order go here.
    if (change.scaleTo < next.length)
      next = [...next].sort((a, b) => a.address.localeCompare(b.address)).slice(0, change.scaleTo);
    else add(change.scaleTo - next.length);
  }
  return next;
}

/** Placement on one routed cluster; undefined when the cluster does not hash (nothing to place). */
export function place(
  ctx: RouteContext,
  routed: RoutedCluster,
  options: PlacementOptions,
): Placement | undefined {
  if (!routed.cluster) return undefined;
  let config: ClusterConfig;
  try {
    config = clusterConfigOf(routed.cluster.value as unknown as EnvoyCluster);
  } catch (err) {
    if (err instanceof SessionAffinityError) return undefined;
    throw err;
  }
  if (!HASHING_POLICIES.has(config.lbPolicy)) return undefined;
  const policies = objects(field(ctx.route?.value, "route", "hashPolicy")).flatMap(
    (p, i) => hashPolicyOf(p as EnvoyHashPolicy, `${ctx.route?.path}.route.hashPolicy[${i}]`) ?? [],
  );
  const first = policies[0];
  const hosts = usable(routed.hosts, config.panicThresholdPercent).map((h) => ({
    address: h.address,
    weight: h.weight,
  }));
  const lb = balancer(config, hosts);
  const at = (key: string, lbx = lb) => {
    if (!first) return lbx.choose({ hash: undefined, attempt: 0 })?.address;
    return lbx.choose({ hash: computeHash(policies, requestFor(first, key)).hash, attempt: 0 })?.address;
  };
  const keys = options.keys.map((key) => ({ key, endpoint: first ? at(key) : undefined }));
  const synthetic = first ? Array.from({ length: options.sessions }, (_, i) => syntheticKey(first, i)) : [];
  const before = synthetic.map((k) => at(k));
  const distribution: Record<string, number> = Object.fromEntries(hosts.map((h) => [h.address, 0]));
  for (const endpoint of before)
    if (endpoint !== undefined) distribution[endpoint] = (distribution[endpoint] ?? 0) + 1;
  let change: Placement["change"];
  if (options.change && first && synthetic.length > 0) {
    const next = changed(hosts, options.change);
    const nextLb = balancer(config, next);
    const remaining = new Set(next.map((h) => h.address));
    let moved = 0;
    let lost = 0;
    synthetic.forEach((k, i) => {
      if (at(k, nextLb) === before[i]) return;
      moved++;
      if (!remaining.has(before[i] ?? "")) lost++;
    });
    change = {
      hosts: next.map((h) => h.address),
      moved,
      total: synthetic.length,
      movedPercent: (100 * moved) / synthetic.length,
      lost,
    };
  }
  return {
    cluster: routed.name,
    lbPolicy: config.lbPolicy,
    keyKind: first ? hashInputName(first) : "none (no hash policy: a random point per request)",
    hosts: hosts.map((h) => h.address),
    keys,
    distribution,
    ...(change ? { change } : {}),
  };
}
