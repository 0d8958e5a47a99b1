import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unimplementedFields } from "../../src/envoy/unimplemented.js";
import {
  GATEWAY_AND_SERVICE_YAML,
  gatewayConfigFromYaml,
  type TestGatewayConfig,
  virtualServiceYaml,
} from "../helpers/gateway-config.js";

const BASE = GATEWAY_AND_SERVICE_YAML;

function build(extra: string) {
  return gatewayConfigFromYaml(BASE + extra, "t.yaml");
}

const vs = virtualServiceYaml;

/** The cluster the first route sends to. */
function routedCluster(c: TestGatewayConfig) {
  const name = c.routes.virtualHosts[0]?.routes[0]?.destinations[0]?.cluster;
  return name === undefined ? undefined : c.clusters.get(name);
}

const cookieRule = (where = "trafficPolicy") => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: session}
spec:
  host: session-svc
  ${where === "trafficPolicy" ? "trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        httpCookie: {name: session-route, path: /, ttl: 1800s}" : where}
`;

describe("gateway config: what istiod pushes, as the gateway runs it", () => {
  it("uses LEAST_REQUEST and the default retry policy with previous hosts when no rule applies", () => {
    const c = build(vs("[{destination: {host: session-svc}}]"));
    const cluster = c.clusters.get("outbound|80||session-svc.default.svc.cluster.local");
    assert.equal(cluster?.lbPolicy, "least-request");
    const route = c.routes.virtualHosts[0]?.routes[0];
    assert.deepEqual(route?.hashPolicies, []);
    assert.equal(route?.retry.numRetries, 2);
    assert.equal(route?.retry.previousHostsPredicate, true);
    assert.deepEqual(route?.retry.retriableStatusCodes, []);
  });

  it("maps consistentHash to RING_HASH with ring 1024, one cookie policy, retries on the same host", () => {
    const c = build(vs("[{destination: {host: session-svc, port: {number: 80}}}]") + cookieRule());
    const cluster = c.clusters.get("outbound|80||session-svc.default.svc.cluster.local");
    assert.equal(cluster?.lbPolicy, "ring-hash");
    assert.equal(cluster?.minRingSize, 1024);
    const route = c.routes.virtualHosts[0]?.routes[0];
    assert.deepEqual(route?.hashPolicies, [
      { kind: "cookie", name: "session-route", path: "/", ttlSeconds: 1800 },
    ]);
    assert.equal(route?.retry.previousHostsPredicate, false);
  });

  it("appends one hash policy per weighted destination and keeps the previous-hosts predicate", () => {
    const c = build(
      vs("[{destination: {host: session-svc}, weight: 50}, {destination: {host: session-svc}, weight: 50}]") +
        cookieRule(),
    );
    const route = c.routes.virtualHosts[0]?.routes[0];
    assert.equal(route?.hashPolicies.length, 2);
    assert.equal(route?.retry.previousHostsPredicate, true);
  });

  it("drops a port-level hash from a route whose destination names no port (Istio #41257)", () => {
    const portLevel = `trafficPolicy:
    portLevelSettings:
      - port: {number: 80}
        loadBalancer:
          consistentHash: {httpHeaderName: x-user}`;
    const without = build(vs("[{destination: {host: session-svc}}]") + cookieRule(portLevel));
    assert.equal(
      without.clusters.get("outbound|80||session-svc.default.svc.cluster.local")?.lbPolicy,
      "ring-hash",
    );
    assert.deepEqual(without.routes.virtualHosts[0]?.routes[0]?.hashPolicies, []);
    const withPort = build(
      vs("[{destination: {host: session-svc, port: {number: 80}}}]") + cookieRule(portLevel),
    );
    assert.deepEqual(withPort.routes.virtualHosts[0]?.routes[0]?.hashPolicies, [
      { kind: "header", name: "x-user" },
    ]);
  });

  it("gives subsets their own cluster and Maglev when asked", () => {
    const rule = `trafficPolicy:
    loadBalancer:
      consistentHash:
        httpHeaderName: x-user
        maglev: {tableSize: 65537}
  subsets:
    - name: v1
      labels: {version: v1}`;
    const c = build(vs("[{destination: {host: session-svc, subset: v1}}]") + cookieRule(rule));
    const cluster = c.clusters.get("outbound|80|v1|session-svc.default.svc.cluster.local");
    assert.equal(cluster?.lbPolicy, "maglev");
    assert.equal(routedCluster(c)?.name, "outbound|80|v1|session-svc.default.svc.cluster.local");
  });

  it("sets the cluster's connect timeout from connectionPool.tcp.connectTimeout as Istio merges policies, else 10 s", () => {
    const timeout = (rule: string, destination = "{host: session-svc}") => {
      const c = build(vs(`[{destination: ${destination}}]`) + (rule ? cookieRule(rule) : ""));
      return routedCluster(c)?.connectTimeoutMs;
    };
    assert.equal(timeout(""), 10_000, "Istio's MeshConfig default");
    assert.equal(timeout("trafficPolicy: {connectionPool: {tcp: {connectTimeout: 250ms}}}"), 250);
    // A port-level entry replaces its policy's pool for that port, even when it sets none.
    assert.equal(
      timeout(
        "trafficPolicy: {connectionPool: {tcp: {connectTimeout: 2s}}, portLevelSettings: [{port: {number: 80}, connectionPool: {tcp: {connectTimeout: 3s}}}]}",
      ),
      3000,
    );
    assert.equal(
      timeout(
        "trafficPolicy: {connectionPool: {tcp: {connectTimeout: 2s}}, portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: RANDOM}}]}",
      ),
      10_000,
    );
    // A subset's pool replaces the rule's.
    assert.equal(
      timeout(
        "trafficPolicy: {connectionPool: {tcp: {connectTimeout: 2s}}}\n  subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {connectionPool: {tcp: {connectTimeout: 1s}}}}]",
        "{host: session-svc, subset: v1}",
      ),
      1000,
    );
    assert.equal(
      timeout(
        "trafficPolicy: {connectionPool: {tcp: {connectTimeout: 2s}}}\n  subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {connectionPool: {http: {idleTimeout: 5s}}}}]",
        "{host: session-svc, subset: v1}",
      ),
      10_000,
    );
  });

  it("lists the fields it does not act on (max connection duration, split local-origin errors) and not the ones it runs", () => {
    const c = build(
      vs("[{destination: {host: session-svc}}]") +
        cookieRule(
          "trafficPolicy: {connectionPool: {tcp: {connectTimeout: 1s, maxConnections: 10, maxConnectionDuration: 1h}, http: {idleTimeout: 5s, maxRequestsPerConnection: 1, http1MaxPendingRequests: 1, http2MaxRequests: 5, maxRetries: 2}}, outlierDetection: {consecutive5xxErrors: 3, interval: 5s, splitExternalLocalOriginErrors: true}}",
        ),
    );
    const cluster = "Cluster outbound|80||session-svc.default.svc.cluster.local";
    const listed = unimplementedFields(c.snapshot).filter((f) => f.startsWith(cluster));
    assert.deepEqual(listed.sort(), [
      `${cluster}: outlierDetection.splitExternalLocalOriginErrors = true`,
      `${cluster}: typedExtensionProtocolOptions.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.commonHttpProtocolOptions.maxConnectionDuration`,
    ]);
  });

  it("builds the circuit breakers as Istio does: 2^32 − 1 each, a connectionPool count above 0 in its place", () => {
    const cluster = (rule: string) => {
      const c = build(vs("[{destination: {host: session-svc}}]") + (rule ? cookieRule(rule) : ""));
      return routedCluster(c);
    };
    const unlimited = {
      maxConnections: 4294967295,
      maxPendingRequests: 4294967295,
      maxRequests: 4294967295,
      maxRetries: 4294967295,
    };
    assert.deepEqual(cluster("")?.circuitBreakers, unlimited);
    assert.deepEqual(
      cluster(
        "trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 2, http2MaxRequests: 3, maxRetries: 4}}}",
      )?.circuitBreakers,
      { maxConnections: 1, maxPendingRequests: 2, maxRequests: 3, maxRetries: 4 },
    );
    assert.deepEqual(
      cluster("trafficPolicy: {connectionPool: {tcp: {maxConnections: 0}, http: {maxRetries: 0}}}")
        ?.circuitBreakers,
      unlimited,
      "0 is unset to Istio",
    );
  });

  it("takes the upstream idle timeout and requests per connection from connectionPool.http, else Envoy's 1 h and no limit", () => {
    const cluster = (rule: string) => {
      const c = build(vs("[{destination: {host: session-svc}}]") + (rule ? cookieRule(rule) : ""));
      return routedCluster(c);
    };
    const plain = cluster("");
    assert.equal(plain?.idleTimeoutMs, 3_600_000);
    assert.equal(plain?.maxRequestsPerConnection, undefined);
    const set = cluster(
      "trafficPolicy: {connectionPool: {http: {idleTimeout: 30s, maxRequestsPerConnection: 1}}}",
    );
    assert.equal(set?.idleTimeoutMs, 30_000);
    assert.equal(set?.maxRequestsPerConnection, 1);
    assert.equal(
      cluster("trafficPolicy: {connectionPool: {http: {maxRequestsPerConnection: 0}}}")
        ?.maxRequestsPerConnection,
      undefined,
      "0 means no limit",
    );
  });

  it("builds outlier detection as Istio does: set counts enforced (0 disables), unset ones Envoy's defaults, minHealthPercent as the panic threshold", () => {
    const cluster = (rule: string, destination = "{host: session-svc}") => {
      const c = build(vs(`[{destination: ${destination}}]`) + (rule ? cookieRule(rule) : ""));
      return routedCluster(c);
    };
    const none = cluster("");
    assert.equal(none?.outlierDetection, undefined, "no rule, no detection");
    // PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS (on by default) makes istiod turn panic mode off everywhere.
    assert.equal(none?.panicThresholdPercent, 0, "istiod's healthy_panic_threshold {}");
    const empty = cluster("trafficPolicy: {outlierDetection: {}}");
    assert.deepEqual(empty?.outlierDetection, {
      consecutive5xx: 5,
      enforcingConsecutive5xx: 100,
      consecutiveGatewayFailure: 5,
      enforcingConsecutiveGatewayFailure: 0,
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionPercent: 10,
      maxEjectionTimeMs: 300_000,
    });
    assert.equal(empty?.panicThresholdPercent, 0, "Istio sets minHealthPercent, 0 when unset");
    const set = cluster(
      "trafficPolicy: {outlierDetection: {consecutive5xxErrors: 0, consecutiveGatewayErrors: 2, interval: 1s, baseEjectionTime: 15s, maxEjectionPercent: 100, minHealthPercent: 20}}",
    );
    assert.deepEqual(set?.outlierDetection, {
      consecutive5xx: 0,
      enforcingConsecutive5xx: 0,
      consecutiveGatewayFailure: 2,
      enforcingConsecutiveGatewayFailure: 100,
      intervalMs: 1000,
      baseEjectionTimeMs: 15_000,
      maxEjectionPercent: 100,
      maxEjectionTimeMs: 300_000,
    });
    assert.equal(set?.panicThresholdPercent, 20);
    assert.equal(
      cluster("trafficPolicy: {outlierDetection: {maxEjectionPercent: 0}}")?.outlierDetection
        ?.maxEjectionPercent,
      10,
      "0 keeps Envoy's 10%",
    );
    // Merged like connection pools: a subset's replaces the rule's; a port-level entry replaces its policy's.
    assert.equal(
      cluster(
        "trafficPolicy: {outlierDetection: {consecutive5xxErrors: 7}}\n  subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 2}}}]",
        "{host: session-svc, subset: v1}",
      )?.outlierDetection?.consecutive5xx,
      2,
    );
    assert.equal(
      cluster(
        "trafficPolicy: {outlierDetection: {consecutive5xxErrors: 7}, portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: RANDOM}}]}",
      )?.outlierDetection,
      undefined,
    );
  });

  it("reads persistent sessions from the route istiod builds for a labelled Service", () => {
    const labelled = BASE.replace(
      "metadata: {name: session-svc}",
      "metadata: {name: session-svc, labels: {istio.io/persistent-session: session-pod}}",
    );
    const plain = build(vs("[{destination: {host: session-svc}}]"));
    assert.equal(plain.routes.virtualHosts[0]?.routes[0]?.session, undefined);
    const again = gatewayConfigFromYaml(labelled + vs("[{destination: {host: session-svc}}]"), "t.yaml");
    assert.deepEqual(again.routes.virtualHosts[0]?.routes[0]?.session, {
      kind: "cookie",
      name: "session-pod",
      path: "/",
    });
  });
});
