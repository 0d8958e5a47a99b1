import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Finding, RouteContext } from "../../src/explain/context.js";
import { diagnose, verdictOf } from "../../src/explain/diagnoses.js";
import { RING_IMBALANCE_LIMIT } from "../../src/explain/diagnoses-cluster.js";
import {
  manyHosts,
  routeContext,
  withAction,
  withCluster,
  withHosts,
  withRoute,
} from "./diagnoses-context.js";

const ids = (ctx: RouteContext) => diagnose(ctx).map((f) => f.id);
const one = (ctx: RouteContext, id: string): Finding => {
  const found = diagnose(ctx).filter((f) => f.id === id);
  assert.equal(found.length, 1, `expected one ${id} in ${JSON.stringify(diagnose(ctx).map((f) => f.id))}`);
  return found[0] as Finding;
};
const PREVIOUS_HOSTS = {
  name: "envoy.retry_host_predicates.previous_hosts",
  typedConfig: {
    "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
  },
};
const outlier = (ctx: RouteContext) =>
  withCluster(ctx, (c) => ({ ...c, outlierDetection: { consecutive5xx: 5, interval: "10s" } }));
const retryWithPreviousHosts = (a: Record<string, unknown>) => ({
  ...a,
  retryPolicy: { ...(a.retryPolicy as object), retryHostPredicate: [PREVIOUS_HOSTS] },
});

describe("diagnose: the walkthrough's own configurations", () => {
  for (const component of [undefined, "header-hash", "source-ip-hash", "maglev"] as const) {
    it(`finds nothing wrong with ${component ?? "the cookie hash"} on one gateway`, () => {
      assert.deepEqual(diagnose(routeContext(component)), []);
      assert.equal(verdictOf(diagnose(routeContext(component))), "sticky");
    });
  }
});

describe("diagnose: reaching a pod", () => {
  it("reports no-route alone when nothing matched, and not for a matched route", () => {
    const { route: _, ...ctx } = routeContext("header-hash");
    const f = diagnose({ ...ctx, clusters: [] });
    assert.deepEqual(
      f.map((x) => x.id),
      ["no-route"],
    );
    assert.equal(f[0]?.severity, "breaks");
    assert.match(f[0]?.evidence[0]?.path ?? "", /virtualHosts\[0\]\.domains$/);
    assert.ok(!ids(routeContext("header-hash")).includes("no-route"));
  });

  it("reports route-not-forwarded for a redirect, with the redirect as evidence", () => {
    const redirect = withRoute(routeContext(), () => ({
      match: { prefix: "/" },
      redirect: { httpsRedirect: true },
    }));
    const f = diagnose({ ...redirect, clusters: [] });
    assert.deepEqual(
      f.map((x) => x.id),
      ["route-not-forwarded"],
    );
    assert.deepEqual(f[0]?.evidence[0], {
      path: `${redirect.route?.path}.redirect`,
      value: { httpsRedirect: true },
    });
  });

  it("reports cluster-missing (503 NC) for a route to a cluster the dump lacks", () => {
    const ctx = routeContext("header-hash");
    const missing = {
      ...ctx,
      clusters: [{ name: "outbound|80||gone.default.svc.cluster.local", weight: 1, hosts: [] }],
    };
    const f = one(missing, "cluster-missing");
    assert.equal(f.severity, "breaks");
    assert.match(f.evidence[0]?.path ?? "", /routes\[0\]\.route\.cluster$/);
    assert.ok(!ids(ctx).includes("cluster-missing"));
  });

  it("reports no-endpoints for an empty load assignment but only a note when the dump has no EDS", () => {
    const ctx = withHosts(routeContext("header-hash"), () => []);
    assert.equal(one(ctx, "no-endpoints").severity, "breaks");
    const { assignment: _, ...noEds } = ctx.clusters[0] as RouteContext["clusters"][number];
    const unknown = diagnose({ ...ctx, clusters: [noEds] });
    assert.deepEqual(
      unknown.map((f) => [f.id, f.severity]),
      [["endpoints-unknown", "note"]],
    );
  });

  it("reports no-healthy-host when every host is unhealthy and panic mode is off", () => {
    const down = withHosts(routeContext("header-hash"), (hs) =>
      hs.map((h) => ({ ...h, health: "UNHEALTHY" })),
    );
    const f = one(down, "no-healthy-host");
    assert.equal(f.evidence.length, 4);
    const ejected = withHosts(routeContext(), (hs) => hs.map((h) => ({ ...h, failedOutlierCheck: true })));
    assert.ok(ids(ejected).includes("no-healthy-host"));
    const oneUp = withHosts(down, (hs) => hs.map((h, i) => (i === 0 ? { ...h, health: "HEALTHY" } : h)));
    assert.ok(!ids(oneUp).includes("no-healthy-host"));
  });
});

describe("diagnose: protocol and hashing", () => {
  const tcp = (hashPolicy?: unknown[]): RouteContext => {
    const { route: _r, virtualHost: _v, routeConfig: _c, ...ctx } = routeContext("source-ip-hash");
    return {
      ...ctx,
      httpFilters: [],
      tcpProxy: {
        value: {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
          cluster: ctx.clusters[0]?.name,
          ...(hashPolicy ? { hashPolicy } : {}),
        },
        path: "configs[3].dynamicListeners[0].activeState.listener.filterChains[0].filters[0].typedConfig",
      },
    };
  };

  it("reports not-http (breaks) for a TCP proxy, and only a source-IP caveat when it hashes the source IP", () => {
    assert.deepEqual(ids(tcp()), ["not-http"]);
    assert.deepEqual(ids(tcp([{ sourceIp: {} }])), ["not-http-source-ip"]);
    assert.equal(verdictOf(diagnose(tcp([{ sourceIp: {} }]))), "sticky-with-caveats");
    assert.ok(!ids(routeContext("source-ip-hash")).includes("not-http"));
  });

  it("reports no-hash-policy when the cluster hashes and the route has no hash policy", () => {
    const ctx = withAction(routeContext("header-hash"), ({ hashPolicy: _, ...a }) => a);
    const f = one(ctx, "no-hash-policy");
    assert.equal(f.severity, "breaks");
    assert.deepEqual(f.evidence[1], {
      path: "configs[1].dynamicActiveClusters[0].cluster.lbPolicy",
      value: "RING_HASH",
    });
    assert.equal(f.source, "https://github.com/istio/istio/issues/41257");
    assert.equal(verdictOf(diagnose(ctx)), "not-sticky");
    const noSourceIp = withAction(routeContext("source-ip-hash"), (a) => ({
      ...a,
      hashPolicy: [{ connectionProperties: {} }],
    }));
    assert.ok(
      ids(noSourceIp).includes("no-hash-policy"),
      "connectionProperties without sourceIp hashes nothing",
    );
    assert.ok(!ids(routeContext("header-hash")).includes("no-hash-policy"));
  });

  it("points a waypoint without hash policy at istio/istio#61045 and a pass-through VirtualService", () => {
    const ctx = withAction(routeContext("header-hash", { kind: "waypoint" }), ({ hashPolicy: _, ...a }) => a);
    const f = one(ctx, "no-hash-policy");
    assert.equal(f.source, "https://github.com/istio/istio/issues/61045");
    assert.match(f.fix ?? "", /kind: VirtualService/);
  });

  it("reports no-consistent-hash for a LEAST_REQUEST cluster, and none once a persistent session pins clients", () => {
    const ctx = withCluster(routeContext(), (c) => ({ ...c, lbPolicy: "LEAST_REQUEST" }));
    const f = one(ctx, "no-consistent-hash");
    assert.match(f.message, /hash policy is ignored/);
    assert.match(f.fix ?? "", /ttl: 3600s/);
    const { lbPolicy: _, ...roundRobin } = ctx.clusters[0]?.cluster?.value ?? {};
    const unset = withCluster(ctx, () => roundRobin);
    assert.deepEqual(
      one(unset, "no-consistent-hash").evidence[0]?.value,
      null,
      "absent lbPolicy is ROUND_ROBIN",
    );
    assert.ok(!ids(routeContext("persistent-session")).includes("no-consistent-hash"));
  });

  it("reports weighted-clusters (breaks) with the chance of changing cluster, unless useHashPolicy picks it", () => {
    const base = routeContext();
    const [c] = base.clusters as [RouteContext["clusters"][number]];
    const names = [
      "outbound|80|v1|session-svc.default.svc.cluster.local",
      "outbound|80|v2|session-svc.default.svc.cluster.local",
    ];
    const split = (useHashPolicy?: boolean, weights = [90, 10]) => ({
      ...withAction(base, ({ cluster: _, ...a }) => ({
        ...a,
        weightedClusters: {
          clusters: names.map((name, i) => ({ name, weight: weights[i] })),
          ...(useHashPolicy === undefined ? {} : { useHashPolicy }),
        },
      })),
      clusters: names.map((name, i) => ({ ...c, name, weight: weights[i] as number })),
    });
    const f = one(split(), "weighted-clusters");
    assert.equal(f.severity, "breaks");
    assert.match(f.message, /18 % of the time/);
    assert.match(f.fix ?? "", /subset: v2/);
    assert.ok(!ids(split(true)).includes("weighted-clusters"));
    assert.ok(
      !ids(split(undefined, [100, 0])).includes("weighted-clusters"),
      "a zero weight takes no traffic",
    );
  });
});

describe("diagnose: cookies, retries and persistent sessions", () => {
  const withoutTtl = withAction(routeContext(), (a) => ({
    ...a,
    hashPolicy: [{ cookie: { name: "session-route", path: "/" } }],
  }));

  it("reports cookie-without-ttl as a caveat with the ttl fix, and not when the gateway sets the cookie", () => {
    const f = one(withoutTtl, "cookie-without-ttl");
    assert.equal(f.severity, "caveat");
    assert.match(f.fix ?? "", /httpCookie:\n\s+name: session-route\n\s+path: \/\n\s+ttl: 3600s/);
    assert.equal(verdictOf(diagnose(withoutTtl)), "sticky-with-caveats");
    assert.ok(!ids(routeContext()).includes("cookie-without-ttl"));
  });

  it("reports cookie-name-collision when the hash cookie is the app's, but not in passive mode (no ttl)", () => {
    const f = one({ ...routeContext(), appCookies: ["session-route"] }, "cookie-name-collision");
    assert.equal(f.severity, "breaks");
    assert.match(f.fix ?? "", /name: session-route-route/);
    assert.ok(!ids(routeContext()).includes("cookie-name-collision"), "the app's sid differs");
    assert.deepEqual(ids({ ...withoutTtl, appCookies: ["session-route"] }), ["cookie-without-ttl"]);
  });

  it("reports cookie-name-collision when the persistent-session cookie is the app's", () => {
    const f = one(
      { ...routeContext("persistent-session"), appCookies: ["session-pod"] },
      "cookie-name-collision",
    );
    assert.match(f.fix ?? "", /istio.io\/persistent-session: session-pod-pod/);
  });

  it("reports retry-leaves-hashed-host for previous_hosts on a hashed route only", () => {
    const f = one(
      withAction(routeContext("header-hash"), retryWithPreviousHosts),
      "retry-leaves-hashed-host",
    );
    assert.match(f.evidence[0]?.path ?? "", /\.route\.retryPolicy\.retryHostPredicate$/);
    assert.match(f.fix ?? "", /retryIgnorePreviousHosts: false/);
    assert.ok(!ids(routeContext("header-hash")).includes("retry-leaves-hashed-host"));
    // Istio's persistent-session route keeps previous_hosts, but nothing there is hashed.
    assert.ok(!ids(routeContext("persistent-session")).includes("retry-leaves-hashed-host"));
  });

  it("reports session-not-strict for Istio's persistent session, and not once strict is set", () => {
    const f = one(routeContext("persistent-session"), "session-not-strict");
    assert.equal(f.severity, "caveat");
    const key = "envoy.filters.http.stateful_session";
    const strict = withRoute(routeContext("persistent-session"), (r) => {
      const per = r.typedPerFilterConfig as Record<string, { statefulSession: object }>;
      const config = per[key] as { statefulSession: object };
      return {
        ...r,
        typedPerFilterConfig: {
          [key]: { ...config, statefulSession: { ...config.statefulSession, strict: true } },
        },
      };
    });
    assert.deepEqual(diagnose(strict), []);
  });

  it("reports session-filter-missing (breaks) when the listener lacks the stateful_session filter", () => {
    // The route's session with the listener of an istiod whose PILOT_ENABLE_PERSISTENT_SESSION_FILTER is off.
    const flagOff = routeContext();
    const missing = {
      ...routeContext("persistent-session"),
      listener: flagOff.listener,
      httpFilters: flagOff.httpFilters,
    };
    const f = one(missing, "session-filter-missing");
    assert.match(f.evidence[1]?.path ?? "", /filterChains\[0\]\.filters\[0\]\.typedConfig\.httpFilters$/);
    assert.ok(!((f.evidence[1]?.value ?? []) as string[]).includes("envoy.filters.http.stateful_session"));
    assert.match(f.fix ?? "", /PILOT_ENABLE_PERSISTENT_SESSION_FILTER: "true"/);
    assert.ok(!ids(missing).includes("session-not-strict"));
    assert.ok(!ids(routeContext("persistent-session")).includes("session-filter-missing"));
  });
});

describe("diagnose: hosts and proxies", () => {
  it("reports locality-lb for outlier detection over several zones, locality weights or priorities", () => {
    const f = one(outlier(routeContext("header-hash")), "locality-lb");
    assert.match(f.message, /outlier detection over 3 localities/);
    assert.match(f.fix ?? "", /localityLbSetting: \{enabled: false\}/);
    const weighted = withCluster(routeContext("header-hash"), (c) => ({
      ...c,
      commonLbConfig: { localityWeightedLbConfig: {} },
    }));
    assert.ok(ids(weighted).includes("locality-lb"));
    const failover = withHosts(routeContext("header-hash"), (hs) =>
      hs.map((h, i) => ({ ...h, priority: i === 0 ? 0 : 1 })),
    );
    assert.deepEqual(
      one(failover, "locality-lb").evidence.map((e) => e.path.replace(/^.*endpointConfig/, "")),
      [".endpoints[1].priority", ".endpoints[2].priority"],
    );
    const oneZone = withHosts(outlier(routeContext("header-hash")), (hs) =>
      hs.map((h) => ({ ...h, locality: { zone: "a" } })),
    );
    assert.ok(!ids(oneZone).includes("locality-lb"));
  });

  it(`reports ring-too-small once the busiest host holds more than ${RING_IMBALANCE_LIMIT}× the quietest's keys`, () => {
    const ctx = routeContext("header-hash");
    const crowded = withHosts(ctx, () => manyHosts(ctx, 30));
    const f = one(crowded, "ring-too-small");
    assert.match(f.message, /ring of 1050 entries gives its 30 hosts 35–35 entries/);
    assert.match(f.fix ?? "", /minimumRingSize: 32768/);
    assert.ok(
      !ids(withHosts(ctx, () => manyHosts(ctx, 10))).includes("ring-too-small"),
      "10 hosts on 1024 entries",
    );
    const bigRing = withCluster(crowded, (c) => ({ ...c, ringHashLbConfig: { minimumRingSize: "32768" } }));
    assert.ok(!ids(bigRing).includes("ring-too-small"));
    const maglev = withHosts(routeContext("maglev"), () => manyHosts(ctx, 30));
    assert.ok(!ids(maglev).includes("ring-too-small"), "Maglev's table is not a ring");
  });

  it("reports panic-mode below Envoy's default 50 % threshold, and not with Istio's {} (0 %)", () => {
    const unhealthy = (ctx: RouteContext) =>
      withHosts(ctx, (hs) => hs.map((h, i) => (i > 0 ? { ...h, health: "UNHEALTHY" as const } : h)));
    const envoyDefault = withCluster(routeContext("header-hash"), ({ commonLbConfig: _, ...c }) => c);
    const f = one(unhealthy(envoyDefault), "panic-mode");
    assert.match(f.message, /Only 1 of .* 3 hosts \(33 %\) are healthy, below the 50 % panic threshold/);
    assert.deepEqual(f.evidence[0]?.value, null);
    assert.deepEqual(diagnose(unhealthy(routeContext("header-hash"))), []);
    const half = withCluster(routeContext("header-hash"), (c) => ({
      ...c,
      commonLbConfig: { healthyPanicThreshold: { value: 30 } },
    }));
    assert.ok(!ids(unhealthy(half)).includes("panic-mode"), "33 % is above 30 %");
  });

  it("reports gateway-replicas for several replicas with outlier detection, a note when replicas are unknown", () => {
    const three = outlier(routeContext("header-hash", { replicas: 3 }));
    assert.equal(one(three, "gateway-replicas").severity, "caveat");
    assert.equal(one(outlier(routeContext("header-hash")), "gateway-replicas").severity, "note");
    assert.ok(!ids(outlier(routeContext("header-hash", { replicas: 1 }))).includes("gateway-replicas"));
    assert.ok(!ids(routeContext("header-hash", { replicas: 3 })).includes("gateway-replicas"));
  });
});

describe("verdictOf", () => {
  const f = (severity: Finding["severity"]): Finding => ({
    id: "x",
    severity,
    message: "",
    evidence: [],
    source: "",
  });
  it("is not-sticky with any breaks, sticky-with-caveats with any caveat, sticky with notes only", () => {
    assert.equal(verdictOf([f("note"), f("caveat"), f("breaks")]), "not-sticky");
    assert.equal(verdictOf([f("note"), f("caveat")]), "sticky-with-caveats");
    assert.equal(verdictOf([f("note")]), "sticky");
    assert.equal(verdictOf([]), "sticky");
  });

  it("orders findings breaks first, then caveats, then notes", () => {
    const ctx = withAction(outlier(routeContext("header-hash")), (a) => ({
      ...retryWithPreviousHosts(a),
      hashPolicy: [{ cookie: { name: "sid" } }],
    }));
    const gone = { name: "outbound|80||gone.default.svc.cluster.local", weight: 1, hosts: [] };
    const findings = diagnose({ ...ctx, clusters: [...ctx.clusters, gone], appCookies: [] });
    const rank = { breaks: 0, caveat: 1, note: 2 };
    const severities = findings.map((x) => rank[x.severity]);
    assert.deepEqual(severities, [...severities].sort());
    assert.deepEqual(new Set(severities), new Set([0, 1, 2]));
  });
});
