import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DataPlane } from "../../src/envoy/data-plane.js";
import { routeRequest } from "../../src/envoy/route-table.js";
import { translate } from "../../src/istiod/index.js";
import { seededRandom } from "../../src/lb/random-source.js";
import type { EnvoyCluster } from "../../src/xds/cluster-types.js";
import type { XdsSnapshot } from "../../src/xds/snapshot.js";
import { HOST, PODS, walkthroughInput } from "../istiod/walkthrough-input.js";

const CLUSTER = `outbound|80||${HOST}`;

function plane(): DataPlane {
  return new DataPlane({ listenerPort: 8080, random: seededRandom(3) });
}

function withCluster(
  snapshot: XdsSnapshot,
  name: string,
  change: (c: EnvoyCluster) => EnvoyCluster,
): XdsSnapshot {
  return { ...snapshot, clusters: snapshot.clusters.map((c) => (c.name === name ? change(c) : c)) };
}

describe("data plane: the gateway driven by xDS", () => {
  it("serves the listener on its port with the route configuration it names, and builds every EDS cluster", () => {
    const dp = plane();
    assert.equal(dp.apply(translate(walkthroughInput(), "1")), true);
    assert.equal(dp.routes.listener, "0.0.0.0_8080");
    const route = routeRequest(dp.routes, {
      method: "GET",
      path: "/user",
      authority: "any.example",
      headers: [],
    });
    assert.equal(route?.destinations[0]?.cluster, CLUSTER);
    assert.equal(route?.hashPolicies[0]?.kind, "cookie");
    const cluster = dp.clusters.get(CLUSTER);
    assert.equal(cluster?.config.lbPolicy, "ring-hash");
    assert.deepEqual(
      cluster?.hosts().map((h) => [h.address, h.locality.zone]),
      PODS.map((p) => [`${p.address}:8080`, p.locality.zone]),
    );
    assert.deepEqual(
      dp.unimplemented,
      ["Listener 0.0.0.0_8080: filterChains[].filters[].typedConfig.proxy100Continue = true"],
      "the walkthrough uses nothing else the gateway leaves out",
    );
  });

  it("keeps a cluster's balancer across a push that changes neither the cluster nor its hosts", () => {
    const dp = plane();
    dp.apply(translate(walkthroughInput(), "1"));
    const cluster = dp.clusters.get(CLUSTER);
    const lb = cluster?.lb;
    assert.equal(dp.apply(translate(walkthroughInput(), "2")), false);
    assert.equal(dp.clusters.get(CLUSTER), cluster);
    assert.equal(dp.clusters.get(CLUSTER)?.lb, lb);
    assert.equal(dp.snapshot.version, "2");
  });

  it("refuses a snapshot it cannot run and keeps the one in force, as Envoy rejects an update", () => {
    const dp = plane();
    const good = translate(walkthroughInput(), "1");
    dp.apply(good);
    const bad = withCluster(translate(walkthroughInput(), "2"), CLUSTER, (c) => ({
      ...c,
      lbPolicy: "CLUSTER_PROVIDED",
    }));
    assert.equal(dp.apply(bad), false);
    assert.equal(dp.snapshot.version, "1");
    assert.match(
      dp.rejected ?? "",
      /^version 2: Cluster outbound\|80\|\|.*\.lbPolicy: CLUSTER_PROVIDED is not implemented$/,
    );
    dp.apply(translate(walkthroughInput(), "3"));
    assert.equal(dp.rejected, undefined);
  });

  it("takes Envoy's defaults for what a cluster leaves unset: ROUND_ROBIN, 5 s connect timeout, 1024/1024/1024/3 breakers, 50 % panic", () => {
    const dp = plane();
    const bare = withCluster(
      translate(walkthroughInput(), "1"),
      CLUSTER,
      (c) =>
        ({
          "@type": c["@type"],
          name: c.name,
          altStatName: c.altStatName,
          type: "EDS",
          ...(c.edsClusterConfig ? { edsClusterConfig: c.edsClusterConfig } : {}),
        }) as EnvoyCluster,
    );
    dp.apply(bare);
    const config = dp.clusters.get(CLUSTER)?.config;
    assert.equal(config?.lbPolicy, "round-robin");
    assert.equal(config?.connectTimeoutMs, 5000);
    assert.deepEqual(config?.circuitBreakers, {
      maxConnections: 1024,
      maxPendingRequests: 1024,
      maxRequests: 1024,
      maxRetries: 3,
    });
    assert.equal(config?.panicThresholdPercent, 50);
    assert.deepEqual(config?.overrideHostStatuses, ["HEALTHY", "UNKNOWN"]);
  });

  it("balances over healthy hosts with their EDS weights; unhealthy ones only in panic", () => {
    const dp = plane();
    const snapshot = translate(walkthroughInput(), "1");
    const endpoints = snapshot.endpoints.map((cla) =>
      cla.clusterName !== CLUSTER
        ? cla
        : {
            ...cla,
            endpoints: cla.endpoints.map((group, i) => ({
              ...group,
              lbEndpoints: group.lbEndpoints.map((e) => ({
                ...e,
                healthStatus: i === 2 ? ("UNHEALTHY" as const) : e.healthStatus,
                loadBalancingWeight: i + 1,
              })),
            })),
          },
    );
    dp.apply({ ...snapshot, endpoints });
    const cluster = dp.clusters.get(CLUSTER);
    assert.deepEqual(
      cluster?.endpoints.map((e) => [e.address, e.weight]),
      [
        [`${PODS[0]?.address}:8080`, 1],
        [`${PODS[1]?.address}:8080`, 2],
      ],
    );
    assert.deepEqual(
      cluster?.hosts().map((h) => h.health),
      ["HEALTHY", "HEALTHY", "UNHEALTHY"],
    );
  });

  it("lists the fields it does not act on, with their resource", () => {
    const dp = plane();
    const snapshot = withCluster(translate(walkthroughInput(), "1"), CLUSTER, (c) => ({
      ...c,
      upstreamConnectionOptions: { tcpKeepalive: { keepaliveTime: 300 } },
    }));
    dp.apply(snapshot);
    assert.deepEqual(
      dp.unimplemented.filter((f) => f.startsWith("Cluster")),
      [`Cluster ${CLUSTER}: upstreamConnectionOptions.tcpKeepalive.keepaliveTime`],
    );
  });
});

describe("data plane: what a real proxy's configuration may carry", () => {
  it("lists retry conditions it does not run and skips a connection-properties hash without source_ip", () => {
    const dp = plane();
    const snapshot = translate(walkthroughInput(), "1");
    const routes = snapshot.routes.map((rc) => ({
      ...rc,
      virtualHosts: rc.virtualHosts.map((vh) => ({
        ...vh,
        routes: (vh.routes ?? []).map((r) => ({
          ...r,
          route: {
            ...r.route,
            hashPolicy: [{ connectionProperties: { sourceIp: false } }, ...(r.route.hashPolicy ?? [])],
            retryPolicy: {
              ...(r.route.retryPolicy ?? { numRetries: 1, hostSelectionRetryMaxAttempts: "1" }),
              retryOn: "5xx,retriable-4xx",
            },
          },
        })),
      })),
    }));
    dp.apply({ ...snapshot, routes });
    const route = dp.routes.virtualHosts[0]?.routes[0];
    assert.deepEqual(
      route?.hashPolicies.map((p) => p.kind),
      ["cookie"],
    );
    assert.deepEqual(
      dp.unimplemented.filter((f) => f.startsWith("RouteConfiguration")),
      ["RouteConfiguration http.8080: virtualHosts[].routes[].route.retryPolicy.retryOn retriable-4xx"],
    );
  });
});
