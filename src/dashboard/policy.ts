/**
 * The routing policy the gateway applies to a Service, read from the xDS snapshot it runs (the same
 * resources /config_dump shows), not from the manifests, so the dashboard shows what routes requests
 * rather than what was meant to.
 */
import { clusterConfigOf } from "../envoy/cluster-config.js";
import { routeTableOf } from "../envoy/route-table.js";
import { DEFAULT_GATEWAY_PROXY } from "../istiod/input.js";
import { type HashPolicy, hashInputName } from "../lb/hash-policy.js";
import type { XdsSnapshot } from "../xds/snapshot.js";
import type { PolicyView } from "./protocol.js";

function describeHash(p: HashPolicy): string {
  if (p.kind !== "cookie") return hashInputName(p);
  return `${hashInputName(p)}${p.ttlSeconds === undefined ? " (no ttl)" : ` (ttl ${p.ttlSeconds}s)`}`;
}

/** `/apis/networking.istio.io/v1/namespaces/NS/destination-rule/NAME` → `NS/NAME`. */
function ruleName(config: string | undefined): string | undefined {
  const m = config === undefined ? null : /\/namespaces\/([^/]+)\/destination-rule\/([^/]+)$/.exec(config);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

export function routingPolicy(snapshot: XdsSnapshot, service: string): PolicyView {
  const configs = snapshot.clusters.map(clusterConfigOf).filter((c) => c.service?.name === service);
  // The Service's own cluster before its subsets' (outbound|port|subset|host).
  const cluster = configs.sort(
    (a, b) => Number(a.name.split("|")[2] !== "") - Number(b.name.split("|")[2] !== ""),
  )[0];
  if (!cluster) return { service, kind: "absent" };
  const rule = ruleName(cluster.istioConfig);
  const ruleField = rule === undefined ? {} : { destinationRule: rule };
  const table = routeTableOf(
    snapshot.listeners,
    snapshot.routes,
    DEFAULT_GATEWAY_PROXY.portMap[80] as number,
  );
  const routes = table.virtualHosts
    .flatMap((v) => v.routes)
    .filter((r) => r.destinations.some((d) => d.cluster === cluster.name));
  const session = routes.find((r) => r.session)?.session;
  if (session) {
    const key =
      session.kind === "cookie" ? `cookie ${session.name} (stateful session)` : `header ${session.name}`;
    return { service, kind: "persistent-session", lbPolicy: cluster.lbPolicy, key, ...ruleField };
  }
  const hash = routes.flatMap((r) => r.hashPolicies);
  const key = hash.length > 0 ? { key: [...new Set(hash.map(describeHash))].join(", ") } : {};
  const kind =
    cluster.lbPolicy === "ring-hash"
      ? "ring-hash"
      : cluster.lbPolicy === "maglev"
        ? "maglev"
        : cluster.lbPolicy === "least-request" && rule === undefined
          ? "none"
          : "simple";
  return { service, kind, lbPolicy: cluster.lbPolicy, ...key, ...ruleField };
}
