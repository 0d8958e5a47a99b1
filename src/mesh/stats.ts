/**
 * Envoy-style statistics: the /clusters text (`cluster::host::stat::value`) and a Prometheus
 * exposition with Envoy's metric names (envoy_cluster_*, envoy_http_downstream_*), built from the
 * books the gateway and the clusters keep.
 */
import type { OutlierStats } from "../lb/outlier-detector.js";
import type { Mesh } from "./mesh.js";

export function clustersText(mesh: Mesh): string {
  const lines: string[] = [];
  for (const c of mesh.clusters.values()) {
    c.refresh();
    const n = c.config.name;
    // Istio sets the default priority's thresholds; the high priority keeps Envoy's defaults.
    const limits = c.config.circuitBreakers;
    lines.push(
      `${n}::default_priority::max_connections::${limits.maxConnections}`,
      `${n}::default_priority::max_pending_requests::${limits.maxPendingRequests}`,
      `${n}::default_priority::max_requests::${limits.maxRequests}`,
      `${n}::default_priority::max_retries::${limits.maxRetries}`,
      `${n}::high_priority::max_connections::1024`,
      `${n}::high_priority::max_pending_requests::1024`,
      `${n}::high_priority::max_requests::1024`,
      `${n}::high_priority::max_retries::3`,
    );
    lines.push(`${n}::lb_policy::${c.config.lbPolicy}`);
    for (const h of c.hosts()) {
      const p = `${n}::${h.address}`;
      lines.push(
        `${p}::hostname::${h.pod}`,
        `${p}::health_flags::${h.ejected ? "/failed_outlier_check" : "healthy"}`,
        `${p}::weight::1`,
        `${p}::cx_connect_fail::${h.stats.cxConnectFail}`,
        `${p}::rq_active::${h.active}`,
        `${p}::rq_error::${h.stats.rqError}`,
        `${p}::rq_success::${h.stats.rqSuccess}`,
        `${p}::rq_total::${h.stats.rqTotal}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function prometheusText(mesh: Mesh): string {
  const out: string[] = [];
  const family = (name: string, type: "counter" | "gauge", samples: [Record<string, string>, number][]) => {
    out.push(`# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(",");
      out.push(`${name}${text ? `{${text}}` : ""} ${value}`);
    }
  };
  const clusters = [...mesh.clusters.values()];
  const cl = (c: (typeof clusters)[number]) => ({ cluster_name: c.config.name });
  family(
    "envoy_cluster_upstream_rq_total",
    "counter",
    clusters.map((c) => [cl(c), c.stats.rqTotal]),
  );
  family(
    "envoy_cluster_upstream_rq_active",
    "gauge",
    clusters.map((c) => [cl(c), c.hosts().reduce((s, h) => s + h.active, 0)]),
  );
  family(
    "envoy_cluster_upstream_rq_retry",
    "counter",
    clusters.map((c) => [cl(c), c.stats.rqRetry]),
  );
  family(
    "envoy_cluster_upstream_cx_connect_fail",
    "counter",
    clusters.map((c) => [cl(c), c.stats.cxConnectFail]),
  );
  family(
    "envoy_cluster_upstream_rq_rx_reset",
    "counter",
    clusters.map((c) => [cl(c), c.stats.rqReset]),
  );
  family(
    "envoy_cluster_upstream_rq_timeout",
    "counter",
    clusters.map((c) => [cl(c), c.stats.rqTimeout]),
  );
  family(
    "envoy_cluster_upstream_rq",
    "counter",
    clusters.flatMap((c) =>
      Object.entries(c.stats.byClass).map(([k, v]): [Record<string, string>, number] => [
        { ...cl(c), envoy_response_code_class: k },
        v,
      ]),
    ),
  );
  family(
    "envoy_cluster_upstream_cx_overflow",
    "counter",
    clusters.map((c) => [cl(c), c.breakers.cxOverflow]),
  );
  family(
    "envoy_cluster_upstream_rq_pending_overflow",
    "counter",
    clusters.map((c) => [cl(c), c.breakers.rqPendingOverflow]),
  );
  family(
    "envoy_cluster_upstream_rq_retry_overflow",
    "counter",
    clusters.map((c) => [cl(c), c.breakers.rqRetryOverflow]),
  );
  family(
    "envoy_cluster_upstream_rq_pending_active",
    "gauge",
    clusters.map((c) => [cl(c), c.breakers.pendingRequests]),
  );
  // Envoy's circuit-breaker state: 1 while the resource is at its limit.
  const open = (used: number, limit: number) => (used >= limit ? 1 : 0);
  for (const [name, used, limit] of [
    ["cx_open", (c: (typeof clusters)[number]) => c.breakers.connections, "maxConnections"],
    ["rq_pending_open", (c: (typeof clusters)[number]) => c.breakers.pendingRequests, "maxPendingRequests"],
    ["rq_open", (c: (typeof clusters)[number]) => c.breakers.requests, "maxRequests"],
    ["rq_retry_open", (c: (typeof clusters)[number]) => c.breakers.retries, "maxRetries"],
  ] as const)
    family(
      `envoy_cluster_circuit_breakers_default_${name}`,
      "gauge",
      clusters.map((c) => [cl(c), open(used(c), c.breakers.limits[limit])]),
    );
  family(
    "envoy_cluster_upstream_rq_no_healthy_upstream",
    "counter",
    clusters.map((c) => [cl(c), c.stats.rqNoHealthyUpstream]),
  );
  family(
    "envoy_cluster_membership_healthy",
    "gauge",
    clusters.map((c) => [cl(c), c.endpoints.length]),
  );
  family(
    "envoy_cluster_membership_change",
    "counter",
    clusters.map((c) => [cl(c), c.stats.membershipChanges]),
  );
  family(
    "envoy_cluster_lb_rebuilds",
    "counter",
    clusters.map((c) => [cl(c), c.stats.lbRebuilds]),
  );
  family(
    "envoy_cluster_host_rq_total",
    "counter",
    clusters.flatMap((c) =>
      c
        .hosts()
        .map((h): [Record<string, string>, number] => [
          { ...cl(c), host: h.address, pod: h.pod },
          h.stats.rqTotal,
        ]),
    ),
  );
  const detecting = clusters.filter((c) => c.outlierStats !== undefined);
  const outlier = (name: string, type: "counter" | "gauge", value: (s: OutlierStats) => number) =>
    family(
      `envoy_cluster_outlier_detection_${name}`,
      type,
      detecting.map((c) => [cl(c), value(c.outlierStats as OutlierStats)]),
    );
  outlier("ejections_active", "gauge", (s) => s.ejectionsActive);
  outlier("ejections_enforced_total", "counter", (s) => s.ejectionsEnforcedTotal);
  outlier("ejections_overflow", "counter", (s) => s.ejectionsOverflow);
  outlier("ejections_detected_consecutive_5xx", "counter", (s) => s.ejectionsDetectedConsecutive5xx);
  outlier("ejections_enforced_consecutive_5xx", "counter", (s) => s.ejectionsEnforcedConsecutive5xx);
  outlier(
    "ejections_detected_consecutive_gateway_failure",
    "counter",
    (s) => s.ejectionsDetectedConsecutiveGatewayFailure,
  );
  outlier(
    "ejections_enforced_consecutive_gateway_failure",
    "counter",
    (s) => s.ejectionsEnforcedConsecutiveGatewayFailure,
  );
  const g = mesh.gateway.stats;
  const hcm = { envoy_http_conn_manager_prefix: "ingress" };
  family("envoy_http_downstream_rq_total", "counter", [[hcm, g.rqTotal]]);
  family("envoy_http_downstream_rq_active", "gauge", [[hcm, g.rqActive]]);
  family("envoy_http_no_route", "counter", [[hcm, g.noRoute]]);
  family(
    "envoy_http_downstream_rq_xx",
    "counter",
    Object.entries(g.byClass).map(([k, v]): [Record<string, string>, number] => [
      { ...hcm, envoy_response_code_class: k.slice(0, 1) },
      v,
    ]),
  );
  family(
    "envoy_http_downstream_rq_response_flags",
    "counter",
    Object.entries(g.responseFlags).map(([flag, v]): [Record<string, string>, number] => [
      { ...hcm, response_flags: flag },
      v,
    ]),
  );
  family("envoy_server_pushes_total", "counter", [[{}, mesh.pushes]]);
  return `${out.join("\n")}\n`;
}
