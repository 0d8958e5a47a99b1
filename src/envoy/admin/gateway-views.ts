/**
 * The running gateway's books as the admin formats read them: each cluster's Envoy resource with its
 * hosts' counters, and every statistic under Envoy's name. Only what the gateway really counts is
 * reported; a stat it does not keep is absent, never zero by assumption.
 */
import type { EnvoyCluster } from "../../xds/cluster-types.js";
import type { Cluster } from "../cluster.js";
import type { DataPlane } from "../data-plane.js";
import type { DownstreamStats } from "../gateway.js";
import type { ConnectionPool } from "../upstream/connection-pool.js";
import { clusterStat, httpStat } from "./stat-names.js";
import type { ClusterStatusView, HostStatusView, StatView } from "./views.js";

/** What the views read: the data plane's clusters and snapshot, the gateway's pool and downstream books. */
export interface GatewayBooks {
  readonly dataPlane: DataPlane;
  readonly pool: ConnectionPool;
  readonly downstream: DownstreamStats;
}

/** The served listener's HTTP connection manager stat prefix (`outbound_0.0.0.0_8080` for Istio's). */
function statPrefixOf(dp: DataPlane): string | undefined {
  const listener = dp.snapshot.listeners.find((l) => l.name === dp.routes.listener);
  return listener?.filterChains.flatMap((c) => c.filters).find((f) => f.typedConfig.statPrefix)?.typedConfig
    .statPrefix;
}

function hostViews(cluster: Cluster, pool: ConnectionPool): HostStatusView[] {
  cluster.refresh();
  return cluster.hosts().map((h) => {
    const colon = h.address.lastIndexOf(":");
    const connections = pool.connectionCounts(h.address, cluster.config.name);
    return {
      address: h.address.slice(0, colon).replace(/^\[|\]$/g, ""),
      port: Number(h.address.slice(colon + 1)),
      locality: h.locality,
      weight: h.weight,
      edsHealthStatus: h.health,
      failedOutlierCheck: h.ejected,
      counters: {
        cx_connect_fail: h.stats.cxConnectFail,
        cx_total: connections.total,
        rq_error: h.stats.rqError,
        rq_success: h.stats.rqSuccess,
        rq_timeout: h.stats.rqTimeout,
        rq_total: h.stats.rqTotal,
      },
      gauges: { cx_active: connections.active, rq_active: h.active },
    };
  });
}

function resources(dp: DataPlane): Map<string, EnvoyCluster> {
  return new Map(dp.snapshot.clusters.map((c) => [c.name, c]));
}

export function clusterStatusViews(books: GatewayBooks): ClusterStatusView[] {
  const byName = resources(books.dataPlane);
  const out: ClusterStatusView[] = [];
  for (const [name, cluster] of books.dataPlane.clusters) {
    const resource = byName.get(name);
    if (resource) out.push({ cluster: resource, hosts: hostViews(cluster, books.pool) });
  }
  return out;
}

function clusterStats(resource: EnvoyCluster, cluster: Cluster): StatView[] {
  const s = cluster.stats;
  const b = cluster.breakers;
  const hosts = cluster.hosts();
  const counter = (stat: string, value: number): StatView => ({
    name: clusterStat(resource, stat),
    type: "counter",
    value,
  });
  const gauge = (stat: string, value: number): StatView => ({
    name: clusterStat(resource, stat),
    type: "gauge",
    value,
  });
  const limits = b.limits;
  const out: StatView[] = [
    counter("upstream_rq_total", s.rqTotal),
    counter("upstream_rq_retry", s.rqRetry),
    counter("upstream_rq_retry_overflow", b.rqRetryOverflow),
    counter("upstream_rq_pending_overflow", b.rqPendingOverflow),
    counter("upstream_rq_timeout", s.rqTimeout),
    counter("upstream_rq_rx_reset", s.rqReset),
    counter("upstream_cx_connect_fail", s.cxConnectFail),
    counter("upstream_cx_overflow", b.cxOverflow),
    counter("upstream_cx_none_healthy", s.rqNoHealthyUpstream),
    counter("membership_change", s.membershipChanges),
    ...Object.entries(s.byClass).map(([k, v]) => counter(`upstream_rq_${k}`, v)),
    gauge(
      "upstream_rq_active",
      hosts.reduce((sum, h) => sum + h.active, 0),
    ),
    gauge("upstream_rq_pending_active", b.pendingRequests),
    gauge("upstream_cx_active", b.connections),
    gauge("membership_healthy", cluster.endpoints.length),
    gauge("membership_total", hosts.length),
    gauge("circuit_breakers.default.cx_open", b.connections >= limits.maxConnections ? 1 : 0),
    gauge("circuit_breakers.default.rq_pending_open", b.pendingRequests >= limits.maxPendingRequests ? 1 : 0),
    gauge("circuit_breakers.default.rq_open", b.requests >= limits.maxRequests ? 1 : 0),
    gauge("circuit_breakers.default.rq_retry_open", b.retries >= limits.maxRetries ? 1 : 0),
  ];
  const lb = cluster.lb.stats();
  if (cluster.config.lbPolicy === "ring-hash" && lb.size !== undefined) {
    out.push(
      gauge("ring_hash_lb.size", lb.size),
      gauge("ring_hash_lb.min_hashes_per_host", lb.minEntriesPerHost ?? 0),
      gauge("ring_hash_lb.max_hashes_per_host", lb.maxEntriesPerHost ?? 0),
    );
  }
  if (cluster.config.lbPolicy === "maglev" && lb.minEntriesPerHost !== undefined) {
    out.push(
      gauge("maglev_lb.min_entries_per_host", lb.minEntriesPerHost),
      gauge("maglev_lb.max_entries_per_host", lb.maxEntriesPerHost ?? 0),
    );
  }
  const o = cluster.outlierStats;
  if (o) {
    out.push(
      gauge("outlier_detection.ejections_active", o.ejectionsActive),
      counter("outlier_detection.ejections_enforced_total", o.ejectionsEnforcedTotal),
      counter("outlier_detection.ejections_overflow", o.ejectionsOverflow),
      counter("outlier_detection.ejections_detected_consecutive_5xx", o.ejectionsDetectedConsecutive5xx),
      counter("outlier_detection.ejections_enforced_consecutive_5xx", o.ejectionsEnforcedConsecutive5xx),
      counter(
        "outlier_detection.ejections_detected_consecutive_gateway_failure",
        o.ejectionsDetectedConsecutiveGatewayFailure,
      ),
      counter(
        "outlier_detection.ejections_enforced_consecutive_gateway_failure",
        o.ejectionsEnforcedConsecutiveGatewayFailure,
      ),
    );
  }
  return out;
}

/** Every statistic the gateway keeps, under Envoy's names. */
export function gatewayStats(books: GatewayBooks): StatView[] {
  const byName = resources(books.dataPlane);
  const out: StatView[] = [];
  for (const [name, cluster] of books.dataPlane.clusters) {
    const resource = byName.get(name);
    if (!resource) continue;
    cluster.refresh();
    out.push(...clusterStats(resource, cluster));
  }
  const d = books.downstream;
  const prefix = statPrefixOf(books.dataPlane);
  if (prefix !== undefined) {
    const http = (stat: string, type: StatView["type"], value: number): StatView => ({
      name: httpStat(prefix, stat),
      type,
      value,
    });
    out.push(
      http("downstream_rq_total", "counter", d.rqTotal),
      http("downstream_rq_active", "gauge", d.rqActive),
      http("no_route", "counter", d.noRoute),
      ...Object.entries(d.byClass).map(([k, v]) => http(`downstream_rq_${k}`, "counter", v)),
    );
  }
  return out;
}
