import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findVirtualHost, type RouteRequest, routeMatches } from "../../src/envoy/route-match.js";
import { pickDestination, type RouteTable, routeRequest as route } from "../../src/envoy/route-table.js";
import { type IstioHttpMatch, translateRouteMatch } from "../../src/istiod/route-match.js";
import { gatewayConfigFromYaml } from "../helpers/gateway-config.js";

const YAML = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: ["*"]
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec: {selector: {app: a}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {selector: {app: b}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop}
spec:
  hosts: [shop.example.com]
  gateways: [gw]
  http:
    - match: [{uri: {exact: /exact}}]
      route: [{destination: {host: a}}]
    - match: [{uri: {regex: "/items/[0-9]+"}, method: {exact: POST}}]
      route: [{destination: {host: b}}]
    - match: [{headers: {x-canary: {exact: "yes"}}}, {queryParams: {v: {prefix: "2"}}}]
      route: [{destination: {host: b}}]
    - match: [{uri: {prefix: /api}}]
      route:
        - {destination: {host: a}, weight: 75}
        - {destination: {host: b}, weight: 25}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: rest}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
    - route: [{destination: {host: a}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mesh-only}
spec:
  hosts: [internal.example.com]
  http:
    - route: [{destination: {host: b}}]
`;

function config(): RouteTable {
  return gatewayConfigFromYaml(YAML, "routes.yaml").routes;
}

/** A VirtualService match as istiod translates it, run as Envoy runs the result. */
const matches = (m: IstioHttpMatch, request: RouteRequest) => routeMatches(translateRouteMatch(m), request);
const routeRequest = (table: RouteTable, request: RouteRequest) => route(table, request);

const req = (path: string, extra: Partial<RouteRequest> = {}): RouteRequest => ({
  method: "GET",
  path,
  authority: "shop.example.com",
  headers: [],
  ...extra,
});

const A = "outbound|80||a.default.svc.cluster.local";
const B = "outbound|80||b.default.svc.cluster.local";

describe("routes", () => {
  const c = config();

  it("choose the virtual host by exact domain before '*', ignoring the port", () => {
    const vh = (authority: string) => findVirtualHost(c.virtualHosts, authority, c.ignorePortInHostMatching);
    assert.deepEqual(vh("shop.example.com:8080")?.domains, ["shop.example.com"]);
    assert.deepEqual(vh("other.example.com")?.domains, ["*"]);
  });

  it("bind only VirtualServices that name the ingress Gateway", () => {
    const internal = routeRequest(c, req("/", { authority: "internal.example.com" }));
    assert.equal(internal?.name, "/apis/networking.istio.io/v1/namespaces/default/virtual-service/rest");
  });

  it("match uri exact, regex (whole path, no query) with method, headers OR query, prefix", () => {
    assert.equal(routeRequest(c, req("/exact"))?.destinations[0]?.cluster, A);
    assert.equal(
      routeRequest(c, req("/exact/more")),
      undefined,
      "exact is not a prefix; no fallthrough to *",
    );
    assert.equal(routeRequest(c, req("/items/42?x=1", { method: "POST" }))?.destinations[0]?.cluster, B);
    assert.equal(routeRequest(c, req("/items/42x", { method: "POST" }))?.destinations.length, undefined);
    assert.equal(routeRequest(c, req("/x", { headers: [["x-canary", "yes"]] }))?.destinations[0]?.cluster, B);
    assert.equal(routeRequest(c, req("/x?v=2.1"))?.destinations[0]?.cluster, B);
    assert.equal(routeRequest(c, req("/api/v1"))?.destinations.length, 2);
  });

  it("answer nothing (Envoy's 404) when no route of the virtual host matches", () => {
    assert.equal(routeRequest(c, req("/nothing")), undefined);
  });

  it("draw weighted destinations in proportion to their weights", () => {
    const route = routeRequest(c, req("/api")) as NonNullable<ReturnType<typeof routeRequest>>;
    assert.equal(
      pickDestination(route, () => 0),
      A,
    );
    assert.equal(
      pickDestination(route, () => 74),
      A,
    );
    assert.equal(
      pickDestination(route, () => 75),
      B,
    );
    assert.equal(
      pickDestination(route, () => 99),
      B,
    );
  });

  it("treat a header match with regex as a full match", () => {
    assert.equal(
      matches({ headers: { "x-a": { regex: "ab" } } }, req("/", { headers: [["x-a", "abc"]] })),
      false,
    );
    assert.equal(
      matches({ headers: { "x-a": { regex: "ab.*" } } }, req("/", { headers: [["x-a", "abc"]] })),
      true,
    );
    assert.equal(matches({ uri: { prefix: "/API" }, ignoreUriCase: true }, req("/api/x")), true);
    assert.equal(
      matches({ withoutHeaders: { "x-b": { exact: "1" } } }, req("/", { headers: [["x-b", "1"]] })),
      false,
    );
  });
});

/**
 * Envoy runs VirtualService regexes with RE2 (safe_regex, google_re2: linear time, full match), and
 * Istio accepts only RE2 syntax (istio/istio pkg/config/validation validateStringMatchRegexp).
 */
describe("routes with RE2 regexes", () => {
  const within = (ms: number, run: () => void) => {
    const start = performance.now();
    run();
    const elapsed = performance.now() - start;
    assert.ok(elapsed < ms, `took ${elapsed.toFixed(0)} ms`);
  };

  it("answer a nested-quantifier regex in linear time, where a backtracking RegExp takes seconds", () => {
    // 30 characters keep a backtracking engine to seconds, so this fails rather than hangs.
    within(1000, () =>
      assert.equal(matches({ uri: { regex: "/(a+)+b" } }, req(`/${"a".repeat(30)}`)), false),
    );
    const long = `/${"a".repeat(5000)}`;
    within(1000, () => {
      assert.equal(matches({ uri: { regex: "/(a+)+b" } }, req(long)), false);
      assert.equal(matches({ uri: { regex: "/(a+)+b" } }, req(`${long}b`)), true);
      assert.equal(
        matches({ headers: { "x-a": { regex: "(a|aa)+c" } } }, req("/", { headers: [["x-a", long]] })),
        false,
      );
      assert.equal(matches({ queryParams: { q: { regex: "(a*)*b" } } }, req(`/?q=${long}`)), false);
    });
  });

  it("route a long path through a nested-quantifier uri regex of an applied VirtualService quickly", () => {
    const routed = gatewayConfigFromYaml(
      YAML.replace('regex: "/items/[0-9]+"', 'regex: "/(a+)+b"'),
      "redos.yaml",
    ).routes;
    for (const length of [30, 5000]) {
      within(1000, () => {
        const route = routeRequest(routed, req(`/${"a".repeat(length)}`, { method: "POST" }));
        assert.equal(route, undefined);
      });
    }
  });

  it("take RE2 syntax: classes, (?i), named groups; a match is of the whole value", () => {
    assert.equal(matches({ uri: { regex: "/v[[:digit:]]+/\\pL+" } }, req("/v2/users")), true);
    assert.equal(matches({ uri: { regex: "(?i)/API/.*" } }, req("/api/x")), true);
    assert.equal(matches({ uri: { regex: "/(?P<id>\\d+)" } }, req("/42")), true);
    assert.equal(matches({ uri: { regex: "/a|/ab" } }, req("/ab")), true);
    assert.equal(matches({ uri: { regex: "/a" } }, req("/ab")), false);
  });

  it("leave a uri regex case-sensitive under ignoreUriCase, as Envoy ignores case_sensitive for safe_regex", () => {
    assert.equal(matches({ uri: { regex: "/API/.*" }, ignoreUriCase: true }, req("/api/x")), false);
    assert.equal(matches({ uri: { exact: "/API/X" }, ignoreUriCase: true }, req("/api/x")), true);
  });

  it('treat withoutHeaders regex "*" as Istio\'s present_match', () => {
    const m = { withoutHeaders: { "x-debug": { regex: "*" } } };
    assert.equal(matches(m, req("/", { headers: [["x-debug", ""]] })), false);
    assert.equal(matches(m, req("/")), true);
  });
});
