/**
 * The routing policy the gateway applies to a Service, read from the pushed gateway config (not from
 * the manifests), so the dashboard shows what routes requests rather than what was meant to.
 */
import type { HashPolicy } from "../lb/hash-policy.js";
import type { GatewayConfig } from "../mesh/gateway-config.js";
import type { PolicyView } from "./protocol.js";

function describeHash(p: HashPolicy): string {
  switch (p.kind) {
    case "cookie":
      return `cookie ${p.name}${p.ttlSeconds === undefined ? " (no ttl)" : ` (ttl ${p.ttlSeconds}s)`}`;
    case "header":
      return `header ${p.name}`;
    case "source-ip":
      return "source IP";
    case "query":
      return `query parameter ${p.name}`;
  }
}

export function routingPolicy(config: GatewayConfig, service: string): PolicyView {
  const cluster = [...config.clusters.values()]
    .filter((c) => c.service?.name === service)
    .sort((a, b) => Number(a.subset !== undefined) - Number(b.subset !== undefined))[0];
  if (!cluster) return { service, kind: "absent" };
  const rule = cluster.destinationRule === undefined ? {} : { destinationRule: cluster.destinationRule };
  if (cluster.session) {
    const s = cluster.session;
    const key = s.kind === "cookie" ? `cookie ${s.name} (stateful session)` : `header ${s.name}`;
    return { service, kind: "persistent-session", lbPolicy: cluster.lbPolicy, key, ...rule };
  }
  const hash = config.virtualHosts
    .flatMap((v) => v.routes)
    .filter((r) => r.destinations.some((d) => d.cluster === cluster.name))
    .flatMap((r) => r.hashPolicies);
  const key = hash.length > 0 ? { key: [...new Set(hash.map(describeHash))].join(", ") } : {};
  const kind =
    cluster.lbPolicy === "ring-hash"
      ? "ring-hash"
      : cluster.lbPolicy === "maglev"
        ? "maglev"
        : cluster.lbPolicy === "least-request" && !cluster.destinationRule
          ? "none"
          : "simple";
  return { service, kind, lbPolicy: cluster.lbPolicy, ...key, ...rule };
}
