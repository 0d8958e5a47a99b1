/**
 * Diagnoses of the clusters a route sends to: whether they exist and have hosts to send to, and what
 * weakens consistent hashing over those hosts (panic mode, locality and priority balancing, a ring
 * too small for its hosts, several proxies ejecting hosts each on its own).
 */
import { normalizeEndpoints } from "../lb/endpoint.js";
import {
  DEFAULT_MAX_RING_SIZE,
  DEFAULT_MIN_RING_SIZE,
  type RingShares,
  ringKeyShares,
} from "../lb/ring-hash.js";
import type { DumpCluster } from "../proxy-config/config-dump.js";
import { field, objects } from "../proxy-config/config-dump.js";
import type { Finding, HostState, Located, RouteContext, RoutedCluster } from "./context.js";
import {
  at,
  count,
  destinationRuleFix,
  firstPriority,
  hashingClusters,
  inPanic,
  isAvailable,
  isHealthy,
  lbPolicyOf,
  panicThreshold,
  routeAction,
  routeHashes,
  serviceHost,
} from "./diagnoses-read.js";

const RESPONSE_FLAGS =
  "https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage";
const PANIC_DOC =
  "https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold";

type Present = RoutedCluster & { readonly cluster: Located<DumpCluster> };

/** A host's LbEndpoint, summed up: its address, EDS health and ejection (from /clusters, when given). */
const hostEvidence = (h: HostState) =>
  at(h.path, { address: h.address, healthStatus: h.health, failedOutlierCheck: h.failedOutlierCheck });

/** Where the route (or TCP proxy) names a cluster. */
function clusterReference(ctx: RouteContext, name: string): string {
  const owner = ctx.tcpProxy ?? routeAction(ctx);
  if (!owner) return ctx.listener.path;
  const i = objects(field(owner.value, "weightedClusters", "clusters")).findIndex((w) => w.name === name);
  return i >= 0 ? `${owner.path}.weightedClusters.clusters[${i}].name` : `${owner.path}.cluster`;
}

/**
 * A cluster missing from the dump (503 NC), without hosts (503 UH), or whose hosts are all unhealthy
 * with panic mode off (503 UH). Without the cluster's load assignment the dump says nothing of its
 * hosts (a dump taken without ?include_eds), which is a note, not a failure.
 */
export function unreachableClusters(ctx: RouteContext): Finding[] {
  const out: Finding[] = [];
  for (const c of ctx.clusters) {
    if (!c.cluster) {
      out.push({
        id: "cluster-missing",
        severity: "breaks",
        message: `The route sends to cluster ${c.name}, which the dump does not hold, so Envoy answers 503 (NC).`,
        evidence: [at(clusterReference(ctx, c.name), c.name)],
        source: RESPONSE_FLAGS,
      });
      continue;
    }
    if (c.hosts.length === 0) {
      out.push(
        c.assignment
          ? {
              id: "no-endpoints",
              severity: "breaks",
              message: `Cluster ${c.name} has no endpoints, so Envoy answers 503 (UH, no healthy upstream).`,
              evidence: [at(`${c.assignment.path}.endpoints`, c.assignment.value.endpoints)],
              source: RESPONSE_FLAGS,
            }
          : {
              id: "endpoints-unknown",
              severity: "note",
              message: `The dump holds no endpoints for cluster ${c.name} (taken without ?include_eds?), so its hosts, their health and the placement are unknown.`,
              evidence: [at(`${c.cluster.path}.name`, c.name)],
              source:
                "https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--config_dump?include_eds",
            },
      );
      continue;
    }
    if (!c.hosts.some(isAvailable) && panicThreshold(c.cluster.value) === 0) {
      out.push({
        id: "no-healthy-host",
        severity: "breaks",
        message: `None of cluster ${c.name}'s ${c.hosts.length} hosts is healthy and panic mode is off, so Envoy answers 503 (UH).`,
        evidence: [
          at(
            `${c.cluster.path}.commonLbConfig.healthyPanicThreshold`,
            field(c.cluster.value, "commonLbConfig", "healthyPanicThreshold"),
          ),
          ...c.hosts.map(hostEvidence),
        ],
        source: RESPONSE_FLAGS,
      });
    }
  }
  return out;
}

/**
 * Panic mode: below healthy_panic_threshold of available hosts in a priority, Envoy balances over
 * every host of it, unhealthy ones included (envoy load_balancer_impl.cc isHostSetInPanic).
 */
export function panicMode(ctx: RouteContext): Finding[] {
  const out: Finding[] = [];
  for (const c of ctx.clusters) {
    if (!c.cluster || !inPanic(c.cluster.value, c.hosts)) continue;
    const first = firstPriority(c.hosts);
    const available = first.filter(isAvailable).length;
    const threshold = panicThreshold(c.cluster.value);
    out.push({
      id: "panic-mode",
      severity: "caveat",
      message: `Only ${available} of cluster ${c.name}'s ${first.length} hosts (${Math.round((100 * available) / first.length)} %) are healthy, below the ${threshold} % panic threshold, so Envoy spreads sessions over every host, unhealthy ones included.`,
      evidence: [
        at(
          `${c.cluster.path}.commonLbConfig.healthyPanicThreshold`,
          field(c.cluster.value, "commonLbConfig", "healthyPanicThreshold"),
        ),
        ...first.filter((h) => !isAvailable(h)).map(hostEvidence),
      ],
      fix: destinationRuleFix(
        serviceHost(c),
        "outlierDetection:\n  minHealthPercent: 0   # panic mode off: only healthy hosts take traffic",
      ),
      source: PANIC_DOC,
    });
  }
  return out;
}

/** Several localities as Envoy sees them, by region/zone/subZone. */
function localities(hosts: readonly HostState[]): Set<string> {
  return new Set(
    hosts.map((h) => `${h.locality.region ?? ""}/${h.locality.zone ?? ""}/${h.locality.subZone ?? ""}`),
  );
}

/**
 * Locality-weighted or priority balancing: each proxy orders and weighs localities from where it
 * runs, so proxies disagree on a key's pod, and a failover between priorities moves every session.
 * Outlier detection is what switches Istio's locality balancing on (istio/istio#41674, #48084).
 */
export function localityBalancing(ctx: RouteContext): Finding[] {
  if (!routeHashes(ctx)) return [];
  const out: Finding[] = [];
  for (const c of hashingClusters(ctx)) {
    const weighted = field(c.cluster.value, "commonLbConfig", "localityWeightedLbConfig");
    const prioritized = c.hosts.filter((h) => h.priority > 0);
    const outlier = c.cluster.value.outlierDetection;
    const zones = localities(c.hosts).size;
    const reasons = [
      ...(weighted !== undefined ? ["locality-weighted balancing"] : []),
      ...(prioritized.length > 0 ? [`${prioritized.length} hosts at priority > 0`] : []),
      ...(outlier !== undefined && zones > 1 ? [`outlier detection over ${zones} localities`] : []),
    ];
    if (reasons.length === 0) continue;
    out.push({
      id: "locality-lb",
      severity: "caveat",
      message: `Cluster ${c.name} balances by locality (${reasons.join(", ")}), so gateways in other zones send the same key to other pods, and a failover between priorities moves every session.`,
      evidence: [
        ...(weighted !== undefined
          ? [at(`${c.cluster.path}.commonLbConfig.localityWeightedLbConfig`, weighted)]
          : []),
        // The priority is the locality group's: one entry per group.
        ...[
          ...new Map(
            prioritized.map((h) => [h.path.replace(/\.lbEndpoints\[\d+\]$/, ".priority"), h.priority]),
          ),
        ].map(([path, priority]) => at(path, priority)),
        ...(outlier !== undefined && zones > 1 ? [at(`${c.cluster.path}.outlierDetection`, outlier)] : []),
      ],
      fix: destinationRuleFix(serviceHost(c), "loadBalancer:\n  localityLbSetting: {enabled: false}"),
      source: "https://github.com/istio/istio/issues/41674",
    });
  }
  return out;
}

/**
 * Above this ratio of the busiest host's key share to the quietest's (per unit of weight), the ring
 * is too small for its hosts. Istio's 1024 entries give 1.06–1.24 for 2–10 equal hosts (computed with
 * src/lb/ring-hash.ts), which is what consistent hashing costs; 1.5 (the busiest pod holds half as many
 * sessions again as the quietest) is reached at about 50 entries per host, e.g. 20 hosts on 1024.
 */
export const RING_IMBALANCE_LIMIT = 1.5;
/** With this many entries for its lightest host a ring stays far below the limit: not built. */
const ENTRIES_ENOUGH = 1000;
/** Rings beyond this are not rebuilt here (seconds of hashing for a verdict they cannot change). */
const RING_BUILD_LIMIT = 1 << 20;

function ringSizes(cluster: DumpCluster): { min: number; max: number } {
  const config = cluster.ringHashLbConfig as
    | { minimumRingSize?: unknown; maximumRingSize?: unknown }
    | undefined;
  return {
    min: count(config?.minimumRingSize) ?? DEFAULT_MIN_RING_SIZE,
    max: count(config?.maximumRingSize) ?? DEFAULT_MAX_RING_SIZE,
  };
}

/**
 * A ring too small for its hosts: rebuilt with the project's exact ring hash over the hosts it holds
 * (the first priority's healthy hosts, or all of them in panic), imbalance read from arc lengths.
 * Entry counts alone cannot show it: equal hosts always get equal counts, however few.
 */
export function ringTooSmall(ctx: RouteContext): Finding[] {
  if (!routeHashes(ctx)) return [];
  const out: Finding[] = [];
  for (const c of hashingClusters(ctx) as Present[]) {
    if (lbPolicyOf(c.cluster.value) !== "RING_HASH" || c.hosts.length === 0) continue;
    const first = firstPriority(c.hosts);
    const hosts = inPanic(c.cluster.value, c.hosts) ? first : first.filter(isHealthy);
    if (hosts.length < 2) continue;
    const { min, max } = ringSizes(c.cluster.value);
    const total = hosts.reduce((sum, h) => sum + h.weight, 0);
    const lightest = Math.min(...hosts.map((h) => h.weight)) / total;
    const scale = Math.min(Math.ceil(lightest * min) / lightest, max);
    if (scale * lightest >= ENTRIES_ENOUGH || scale > RING_BUILD_LIMIT) continue;
    let ring: RingShares;
    try {
      const endpoints = normalizeEndpoints(hosts.map((h) => ({ address: h.address, weight: h.weight })));
      ring = ringKeyShares(endpoints, { minRingSize: min, maxRingSize: max });
    } catch {
      // An address or ring size Envoy would refuse: the cluster cannot be judged here.
      continue;
    }
    const shares = ring.shares;
    const perWeight = hosts.map((h) => (shares.get(h.address) ?? 0) / (h.weight / total));
    const ratio = Math.max(...perWeight) / Math.min(...perWeight);
    if (ratio <= RING_IMBALANCE_LIMIT) continue;
    const stats = ring;
    const suggested = Math.min(2 ** Math.ceil(Math.log2(hosts.length * 1024)), DEFAULT_MAX_RING_SIZE);
    const keys = [...shares.values()];
    out.push({
      id: "ring-too-small",
      severity: "caveat",
      message: `Cluster ${c.name}'s ring of ${stats.size} entries gives its ${hosts.length} hosts ${stats.minEntriesPerHost}–${stats.maxEntriesPerHost} entries each, so by arc length the busiest host takes ${(100 * Math.max(...keys)).toFixed(1)} % of keys and the quietest ${(100 * Math.min(...keys)).toFixed(1)} % (${ratio.toFixed(2)}×, above ${RING_IMBALANCE_LIMIT}×).`,
      evidence: [
        at(
          `${c.cluster.path}.ringHashLbConfig.minimumRingSize`,
          field(c.cluster.value, "ringHashLbConfig", "minimumRingSize"),
        ),
        // `[*]`: the ring's hosts, every one of the assignment's endpoints it holds.
        at(
          `${c.assignment?.path ?? c.cluster.path}.endpoints[*].lbEndpoints[*]`,
          hosts.map((h) => h.address),
        ),
      ],
      fix: destinationRuleFix(
        serviceHost(c),
        `loadBalancer:\n  consistentHash:\n    ringHash: {minimumRingSize: ${suggested}}   # or maglev: {tableSize: 65537}`,
      ),
      source: "https://github.com/istio/istio/issues/52871",
    });
  }
  return out;
}

/**
 * Several proxies with outlier detection: each ejects hosts on its own, so their rings differ and
 * the same cookie reaches different pods depending on the replica (istio/istio#41674, #27466).
 */
export function gatewayReplicas(ctx: RouteContext): Finding[] {
  if (!routeHashes(ctx)) return [];
  const { replicas, kind } = ctx.proxy;
  const unknown = replicas === undefined && kind === "gateway";
  if (!unknown && !(replicas !== undefined && replicas > 1)) return [];
  const out: Finding[] = [];
  for (const c of hashingClusters(ctx)) {
    const outlier = c.cluster.value.outlierDetection;
    if (outlier === undefined) continue;
    const who = unknown ? "If this gateway runs several replicas, each" : `Each of the ${replicas} replicas`;
    out.push({
      id: "gateway-replicas",
      severity: unknown ? "note" : "caveat",
      message: `${who} ejects cluster ${c.name}'s hosts on its own (outlier detection), so after an ejection the replicas' rings differ and the same cookie reaches different pods depending on the replica a connection lands on.`,
      evidence: [at(`${c.cluster.path}.outlierDetection`, outlier)],
      fix: `# a persistent session names the pod in the cookie, the same for every replica (istiod needs\n# PILOT_ENABLE_PERSISTENT_SESSION_FILTER=true); or drop outlierDetection from the DestinationRule\napiVersion: v1\nkind: Service\nmetadata:\n  name: ${serviceHost(c).split(".")[0]}\n  labels:\n    istio.io/persistent-session: session-pod\n`,
      source: "https://github.com/istio/istio/issues/41674",
    });
  }
  return out;
}
