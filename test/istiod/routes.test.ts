/**
 * Golden RDS for the walkthrough's gateway, hand-derived from istiod 1.30's
 * pilot/pkg/networking/core/gateway.go buildGatewayHTTPRouteConfig and route/route.go TranslateRoute,
 * for each affinity variant of deploy/ (base cookie ring hash and the kustomize components).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { DEFAULT_GATEWAY_PROXY, type IstiodInput, type KubeObject } from "../../src/istiod/input.js";
import { buildRoutes } from "../../src/istiod/routes.js";
import { assertEnvoyJson } from "../helpers/envoy-proto.js";

const NS = "default";
const FQDN = "session-svc.default.svc.cluster.local";
const CLUSTER = `outbound|80||${FQDN}`;

function docs(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(new URL(`../../deploy/${file}`, import.meta.url), "utf8"))
    .map((d) => d.toJS() as KubeObject)
    .filter((o) => o?.kind)
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: NS } }));
}

/** The replace/add op a component's JSON patch applies under consistentHash. */
function componentHashPatch(component: string): { op: string; path: string; value: unknown } {
  const k = parse(
    readFileSync(new URL(`../../deploy/components/${component}/kustomization.yaml`, import.meta.url), "utf8"),
  );
  return parse(k.patches[0].patch)[0];
}

function walkthrough(
  variant: "cookie" | "header-hash" | "source-ip-hash" | "maglev" | "persistent-session",
): IstiodInput {
  const all = [...docs("session.yaml"), ...docs("session-gateway.yaml"), ...docs("session-affinity.yaml")];
  let services = all.filter((o) => o.kind === "Service");
  let destinationRules = all.filter((o) => o.kind === "DestinationRule");
  if (variant === "header-hash" || variant === "source-ip-hash" || variant === "maglev") {
    const patch = componentHashPatch(variant);
    destinationRules = destinationRules.map((dr) => {
      const spec = structuredClone(dr.spec) as {
        trafficPolicy: { loadBalancer: { consistentHash: Record<string, unknown> } };
      };
      if (patch.op === "replace")
        spec.trafficPolicy.loadBalancer.consistentHash = patch.value as Record<string, unknown>;
      else spec.trafficPolicy.loadBalancer.consistentHash.maglev = patch.value;
      return { ...dr, spec };
    });
  }
  if (variant === "persistent-session") {
    // service-label.yaml adds the label; no-consistent-hash.yaml deletes the DestinationRule.
    services = services.map((s) => ({
      ...s,
      metadata: {
        ...s.metadata,
        labels: { ...s.metadata.labels, "istio.io/persistent-session": "session-pod" },
      },
    }));
    destinationRules = [];
  }
  return {
    services,
    gateways: all.filter((o) => o.kind === "Gateway"),
    virtualServices: all.filter((o) => o.kind === "VirtualService"),
    destinationRules,
    endpoints: [
      {
        namespace: NS,
        name: "session-svc",
        endpoints: [1, 2, 3].map((i) => ({
          address: `127.0.0.${i + 1}`,
          ports: { 80: 8080 },
          podName: `session-deployment-${i}`,
          labels: { app: "session" },
          locality: { region: "", zone: "", subzone: "" },
        })),
      },
    ],
    proxy: DEFAULT_GATEWAY_PROXY,
    ...(variant === "persistent-session" ? { features: { enablePersistentSessionFilter: true } } : {}),
  };
}

// retry.go DefaultConsistentHashPolicy: no previous_hosts predicate when the destination hashes.
const HASH_RETRY = {
  retryOn: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
  numRetries: 2,
  hostSelectionRetryMaxAttempts: "5",
};
// retry.go DefaultPolicy.
const DEFAULT_RETRY = {
  ...HASH_RETRY,
  retryHostPredicate: [
    {
      name: "envoy.retry_host_predicates.previous_hosts",
      typedConfig: {
        "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
      },
    },
  ],
};
const METADATA = {
  filterMetadata: {
    istio: { config: "/apis/networking.istio.io/v1/namespaces/default/virtual-service/session" },
  },
};

/** buildGatewayHTTPRouteConfig's RouteConfiguration around the walkthrough's single route. */
function expected(route: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return [
    {
      name: "http.8080",
      virtualHosts: [
        {
          name: "*:80",
          domains: ["*"],
          routes: [
            {
              match: { prefix: "/" },
              route: { cluster: CLUSTER, timeout: "0s", maxGrpcTimeout: "0s", ...route },
              metadata: METADATA,
              decorator: { operation: `${FQDN}:80/*` },
              ...extra,
            },
          ],
          includeRequestAttemptCount: true,
        },
      ],
      validateClusters: false,
      ignorePortInHostMatching: true,
      maxDirectResponseBodySizeBytes: 1048576,
    },
  ];
}

function check(input: IstiodInput, want: unknown): void {
  const got = buildRoutes(input);
  assert.deepEqual(got, want);
  for (const rc of got) assertEnvoyJson("envoy.config.route.v3.RouteConfiguration", rc);
}

describe("buildRoutes for the walkthrough gateway", () => {
  it("cookie ring hash with ttl and path (route.go ConsistentHashToHashPolicy, retry.go DefaultConsistentHashPolicy)", () => {
    check(
      walkthrough("cookie"),
      expected({
        retryPolicy: HASH_RETRY,
        hashPolicy: [{ cookie: { name: "session-route", ttl: "1800s", path: "/" } }],
      }),
    );
  });

  it("header hash (header-hash component)", () => {
    check(
      walkthrough("header-hash"),
      expected({ retryPolicy: HASH_RETRY, hashPolicy: [{ header: { headerName: "x-session-user" } }] }),
    );
  });

  it("source IP hash (source-ip-hash component)", () => {
    check(
      walkthrough("source-ip-hash"),
      expected({ retryPolicy: HASH_RETRY, hashPolicy: [{ connectionProperties: { sourceIp: true } }] }),
    );
  });

  it("maglev changes only the cluster: the route keeps the cookie hash policy", () => {
    check(
      walkthrough("maglev"),
      expected({
        retryPolicy: HASH_RETRY,
        hashPolicy: [{ cookie: { name: "session-route", ttl: "1800s", path: "/" } }],
      }),
    );
  });

  it("persistent session: per-route StatefulSessionPerRoute, default retry with previous_hosts (TranslateRoute, MaybeBuildStatefulSessionFilterConfig)", () => {
    check(
      walkthrough("persistent-session"),
      expected(
        { retryPolicy: DEFAULT_RETRY },
        {
          typedPerFilterConfig: {
            "envoy.filters.http.stateful_session": {
              "@type":
                "type.googleapis.com/envoy.extensions.filters.http.stateful_session.v3.StatefulSessionPerRoute",
              statefulSession: {
                sessionState: {
                  name: "envoy.http.stateful_session.cookie",
                  typedConfig: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.http.stateful_session.cookie.v3.CookieBasedSessionState",
                    cookie: { name: "session-pod", path: "/" },
                  },
                },
              },
            },
          },
        },
      ),
    );
  });

  it("the persistent-session label does nothing while PILOT_ENABLE_PERSISTENT_SESSION_FILTER is off", () => {
    const input = { ...walkthrough("persistent-session"), features: {} };
    check(input, expected({ retryPolicy: DEFAULT_RETRY }));
  });

  it("a gateway without VirtualServices gets the 404 blackhole host (buildGatewayHTTPRouteConfig)", () => {
    const input = { ...walkthrough("cookie"), virtualServices: [] };
    check(input, [
      {
        name: "http.8080",
        virtualHosts: [{ name: "blackhole:80", domains: ["*"] }],
        validateClusters: false,
        ignorePortInHostMatching: true,
        maxDirectResponseBodySizeBytes: 1048576,
      },
    ]);
  });
});

describe("buildRoutes for a weighted-subset VirtualService", () => {
  const base = walkthrough("cookie");
  const vs: KubeObject = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "canary", namespace: NS },
    spec: {
      hosts: ["*"],
      gateways: ["session-gateway"],
      http: [
        {
          name: "api",
          match: [
            {
              name: "v",
              uri: { prefix: "/api" },
              headers: { "x-canary": { exact: "1" } },
              ignoreUriCase: true,
            },
          ],
          // protojson prints 0, 3, 6 or 9 fraction digits.
          timeout: "1.500s",
          retries: { attempts: 3, retryOn: "5xx,503", perTryTimeout: "500ms" },
          route: [
            { destination: { host: "session-svc", subset: "v1" }, weight: 90 },
            { destination: { host: "session-svc", subset: "v2" }, weight: 10 },
          ],
        },
        { route: [{ destination: { host: "session-svc", subset: "v1" } }] },
      ],
    },
  };
  const dr: KubeObject = {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "session", namespace: NS },
    spec: {
      host: "session-svc",
      trafficPolicy: {
        loadBalancer: { consistentHash: { httpCookie: { name: "session-route", path: "/", ttl: "1800s" } } },
      },
      subsets: [
        { name: "v1", labels: { version: "v1" } },
        {
          name: "v2",
          labels: { version: "v2" },
          trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: "x-user" } } },
        },
      ],
    },
  };
  const cookie = { cookie: { name: "session-route", ttl: "1800s", path: "/" } };

  it("weightedClusters, one hash policy per destination, previous_hosts kept (applyHTTPRouteDestination)", () => {
    const got = buildRoutes({ ...base, virtualServices: [vs], destinationRules: [dr] });
    const meta = {
      filterMetadata: {
        istio: { config: "/apis/networking.istio.io/v1/namespaces/default/virtual-service/canary" },
      },
    };
    assert.deepEqual(got[0]?.virtualHosts[0]?.routes, [
      {
        name: "api.v",
        match: {
          prefix: "/api",
          caseSensitive: false,
          headers: [{ name: "x-canary", stringMatch: { exact: "1" } }],
        },
        route: {
          weightedClusters: {
            clusters: [
              { name: `outbound|80|v1|${FQDN}`, weight: 90 },
              { name: `outbound|80|v2|${FQDN}`, weight: 10 },
            ],
          },
          // protojson prints 0, 3, 6 or 9 fraction digits.
          timeout: "1.500s",
          // ConvertPolicy: 503 moves to retriableStatusCodes; weighted routes never count as hashing.
          retryPolicy: {
            ...DEFAULT_RETRY,
            retryOn: "5xx,retriable-status-codes",
            numRetries: 3,
            retriableStatusCodes: [503],
            perTryTimeout: "0.500s",
          },
          hashPolicy: [cookie, { header: { headerName: "x-user" } }],
          maxGrpcTimeout: "1.500s",
        },
        metadata: meta,
        // GetRouteOperation: no single cluster, so the VirtualService name and port.
        decorator: { operation: "canary:80/api*" },
      },
      {
        match: { prefix: "/" },
        route: {
          cluster: `outbound|80|v1|${FQDN}`,
          timeout: "0s",
          retryPolicy: HASH_RETRY,
          hashPolicy: [cookie],
          maxGrpcTimeout: "0s",
        },
        metadata: meta,
        decorator: { operation: `${FQDN}:80/*` },
      },
    ]);
    for (const rc of got) assertEnvoyJson("envoy.config.route.v3.RouteConfiguration", rc);
  });
});
