/**
 * The effective gateway configuration as JSON, shaped after Envoy's /config_dump sections
 * (listeners, routes, clusters, endpoints) but flattened to what the local mesh has: one listener,
 * the virtual hosts with their routes, hash and retry policies, and the clusters with their
 * balancer, ring/table statistics, session settings and live endpoints.
 */
import { formatPath } from "../manifests/index.js";
import type { Mesh } from "./mesh.js";

export function configDump(mesh: Mesh) {
  const config = mesh.config;
  const rules = new Map(
    mesh.controlPlane
      .list("DestinationRule")
      .map((a) => [`${a.object.namespace}/${a.object.name}`, a.object]),
  );
  return {
    version: mesh.controlPlane.revision,
    pushes: mesh.pushes,
    listeners: [
      {
        name: `0.0.0.0_${config.servers[0]?.port ?? 80}`,
        address: `127.0.0.1:${mesh.gateway.port}`,
        servers: config.servers,
      },
    ],
    routes: config.virtualHosts.map((vh) => ({
      name: vh.name,
      domains: vh.domains,
      routes: vh.routes.map((r) => ({
        name: r.name,
        virtualService: r.virtualService,
        match: r.match,
        destinations: r.destinations,
        hashPolicy: r.hashPolicies,
        retryPolicy: r.retry,
        ...(r.timeoutMs === undefined ? {} : { timeoutMs: r.timeoutMs }),
      })),
    })),
    clusters: [...mesh.clusters.values()].map((c) => {
      c.refresh();
      return {
        name: c.config.name,
        service: c.config.serviceFqdn,
        lbPolicy: c.config.lbPolicy,
        connectTimeoutMs: c.config.connectTimeoutMs,
        idleTimeoutMs: c.config.idleTimeoutMs,
        ...(c.config.maxRequestsPerConnection === undefined
          ? {}
          : { maxRequestsPerConnection: c.config.maxRequestsPerConnection }),
        circuitBreakers: { thresholds: [{ priority: "DEFAULT", ...c.config.circuitBreakers }] },
        ...(c.config.minRingSize === undefined ? {} : { minimumRingSize: c.config.minRingSize }),
        ...(c.config.tableSize === undefined ? {} : { tableSize: c.config.tableSize }),
        ...(c.config.subset === undefined ? {} : { subset: c.config.subset }),
        ...(c.config.session ? { statefulSession: c.config.session } : {}),
        ...(c.config.outlierDetection ? { outlierDetection: c.config.outlierDetection } : {}),
        healthyPanicThresholdPercent: c.config.panicThresholdPercent,
        ...(c.config.destinationRule
          ? {
              destinationRule: c.config.destinationRule,
              ignoredSettings: (rules.get(c.config.destinationRule)?.ignored ?? []).map((p) =>
                formatPath([p]),
              ),
            }
          : {}),
        lbStats: c.lb.stats(),
        endpoints: c.hosts().map((h) => ({
          address: h.address,
          pod: h.pod,
          health: h.ejected ? "UNHEALTHY" : "HEALTHY",
          ...(h.ejected ? { healthFlags: "/failed_outlier_check" } : {}),
          rqActive: h.active,
          ...h.stats,
        })),
      };
    }),
  };
}
