/**
 * Diagnoses of the route itself: whether a request reaches a cluster at all, whether the listener is
 * HTTP, and whether the route's hash policy, weighted clusters, cookies, retries and persistent
 * session keep a client on one pod. Envoy's behaviour for each is the one the gateway reproduces
 * (src/envoy/route-action.ts, src/lb/hash-policy.ts, src/lb/stateful-session.ts).
 */
import { field, isObject, objects, str } from "../proxy-config/config-dump.js";
import type { Finding, RouteContext, RoutedCluster } from "./context.js";
import {
  at,
  cookiePolicies,
  destinationRuleFix,
  hashesRequests,
  hashingClusters,
  hashPolicies,
  httpFiltersEvidence,
  lbPolicyEvidence,
  lbPolicyOf,
  presentClusters,
  previousHostsPredicate,
  routeAction,
  routeHashes,
  routeSession,
  STATEFUL_SESSION_FILTER,
  serviceHost,
  subsetOf,
} from "./diagnoses-read.js";

const ENVOY_ROUTING = "https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_routing";
const CONSISTENT_HASH_DOC =
  "https://istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings-ConsistentHashLB";

const COOKIE_TTL_FIX = (host: string, name: string) =>
  destinationRuleFix(
    host,
    `loadBalancer:\n  consistentHash:\n    httpCookie:\n      name: ${name}\n      path: /\n      ttl: 3600s`,
  );

/** Nothing matched (404 NR) or the route answers itself (redirect, direct response): no pod is reached. */
export function unroutable(ctx: RouteContext): Finding[] {
  if (ctx.tcpProxy) return [];
  const { authority, path } = ctx.request;
  if (!ctx.route) {
    const vh = ctx.virtualHost;
    const rc = ctx.routeConfig;
    // `[*]` stands for every element: the domains and matches Envoy tried.
    const evidence = vh
      ? [
          at(`${vh.path}.domains`, vh.value.domains),
          at(
            `${vh.path}.routes[*].match`,
            objects(vh.value.routes).map((r) => r.match),
          ),
        ]
      : rc
        ? [
            at(
              `${rc.path}.virtualHosts[*].domains`,
              objects(rc.value.virtualHosts).map((v) => v.domains),
            ),
          ]
        : [at(`${ctx.listener.path}.name`, ctx.listener.value.name)];
    const where = vh
      ? `no route of virtual host ${str(vh.value.name)}`
      : rc
        ? `no virtual host of ${str(rc.value.name)}`
        : "the listener's route configuration is not in the dump, so nothing";
    return [
      {
        id: "no-route",
        severity: "breaks",
        message: `For ${authority}${path} ${where} matches, so Envoy answers 404 (NR) and no pod is reached.`,
        evidence,
        fix: `apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  hosts: ["${authority}"]\n${ctx.proxy.kind === "gateway" ? "  gateways: [<namespace>/<gateway>]\n" : ""}  http:\n  - match:\n    - uri: {prefix: /}\n    route:\n    - destination: {host: <service host>}\n`,
        source: ENVOY_ROUTING,
      },
    ];
  }
  if (routeAction(ctx)) return [];
  const kind = ["redirect", "directResponse", "filterAction", "nonForwardingAction"].find(
    (k) => ctx.route?.value[k] !== undefined,
  );
  return [
    {
      id: "route-not-forwarded",
      severity: "breaks",
      message: `The matched route answers the request itself (${kind ?? "no route action"}), so no pod is reached.`,
      evidence: [at(`${ctx.route.path}.${kind ?? "route"}`, kind ? ctx.route.value[kind] : undefined)],
      source: ENVOY_ROUTING,
    },
  ];
}

/** A TCP proxy has no HTTP: only a source-IP hash can apply (istio/istio#33558, #17557). */
export function notHttp(ctx: RouteContext): Finding[] {
  const tcp = ctx.tcpProxy;
  if (!tcp) return [];
  const hashing = hashingClusters(ctx);
  const sourceIp = hashPolicies(ctx).some((p) => isObject(p.value.sourceIp));
  const fix =
    ctx.proxy.kind === "gateway"
      ? `apiVersion: networking.istio.io/v1\nkind: Gateway\nspec:\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}   # or HTTPS with tls.mode: SIMPLE, not PASSTHROUGH\n`
      : `apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - name: http\n    appProtocol: http\n`;
  const evidence = [
    at(tcp.path, { "@type": tcp.value["@type"], cluster: tcp.value.cluster }),
    at(`${tcp.path}.hashPolicy`, tcp.value.hashPolicy),
  ];
  if (sourceIp && hashing.length > 0)
    return [
      {
        id: "not-http-source-ip",
        severity: "caveat",
        message:
          "The listener proxies TCP, so only its source-IP hash applies: clients behind one NAT or load balancer share a pod, and cookies or headers are never read.",
        evidence: [...evidence, ...hashing.map((c) => lbPolicyEvidence(c.cluster))],
        fix,
        source: "https://github.com/istio/istio/issues/33558",
      },
    ];
  return [
    {
      id: "not-http",
      severity: "breaks",
      message:
        "The listener proxies TCP (no HTTP connection manager), so no HTTP hash policy or persistent session applies and each connection picks a pod afresh.",
      evidence,
      fix,
      source: "https://github.com/istio/istio/issues/33558",
    },
  ];
}

/** A hashing cluster without a hash on the route: every request draws a random ring point. */
export function noHashPolicy(ctx: RouteContext): Finding[] {
  const action = routeAction(ctx);
  const hashing = hashingClusters(ctx);
  if (ctx.tcpProxy || !action || hashing.length === 0 || hashPolicies(ctx).length > 0 || routeSession(ctx))
    return [];
  const [first] = hashing as [(typeof hashing)[number]];
  const host = serviceHost(first);
  const waypoint = ctx.proxy.kind === "waypoint";
  return [
    {
      id: "no-hash-policy",
      severity: "breaks",
      message: `Cluster ${first.name} balances with ${lbPolicyOf(first.cluster.value)}, but the route has no hashPolicy, so every request lands on a random pod${waypoint ? " (a waypoint's inbound route before Istio 1.31 gets none without a VirtualService)" : ""}.`,
      evidence: [
        at(`${action.path}.hashPolicy`, action.value.hashPolicy),
        ...hashing.map((c) => lbPolicyEvidence(c.cluster)),
      ],
      fix: waypoint
        ? `# a pass-through VirtualService makes istiod add the hash policy (fixed in Istio 1.31)\napiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  hosts: [${host}]\n  http:\n  - route:\n    - destination: {host: ${host}}\n`
        : `# consistentHash under trafficPolicy, not only portLevelSettings: a route naming no port gets no hash policy\n${COOKIE_TTL_FIX(host, "session-route")}`,
      source: waypoint
        ? "https://github.com/istio/istio/issues/61045"
        : "https://github.com/istio/istio/issues/41257",
    },
  ];
}

/** Clusters that do not hash, on a route without a persistent session: nothing keeps a client. */
export function noConsistentHash(ctx: RouteContext): Finding[] {
  const action = routeAction(ctx);
  if (ctx.tcpProxy || !action || routeSession(ctx)) return [];
  const plain = presentClusters(ctx).filter((c) => !hashesRequests(c.cluster.value));
  if (plain.length === 0) return [];
  const ignored = hashPolicies(ctx).length > 0 ? ", and the route's hash policy is ignored" : "";
  const names = plain.map((c) => `${c.name} (${lbPolicyOf(c.cluster.value)})`).join(", ");
  return [
    {
      id: "no-consistent-hash",
      severity: "breaks",
      message: `Cluster ${names} does not hash requests and the route has no persistent session, so each request picks a pod afresh${ignored}.`,
      evidence: plain.map((c) => lbPolicyEvidence(c.cluster)),
      fix: `${COOKIE_TTL_FIX(serviceHost(plain[0] as RoutedCluster), "session-route")}# or a persistent session: label the Service istio.io/persistent-session: session-pod\n`,
      source: CONSISTENT_HASH_DOC,
    },
  ];
}

/**
 * Weighted clusters: Envoy picks the cluster by weight first and hashes within it (envoy#21675), so
 * a client changes cluster, and pod, with probability 1 − Σ pᵢ² between two requests. Istio never
 * sets WeightedCluster.use_hash_policy (envoy PR #41244), which would pick the cluster by the hash.
 */
export function weightedClusters(ctx: RouteContext): Finding[] {
  const owner = ctx.tcpProxy ?? routeAction(ctx);
  const live = ctx.clusters.filter((c) => c.weight > 0);
  if (!owner || live.length < 2) return [];
  const useHashPolicy = field(owner.value, "weightedClusters", "useHashPolicy") === true;
  if (useHashPolicy && hashPolicies(ctx).length > 0) return [];
  const total = live.reduce((sum, c) => sum + c.weight, 0);
  const change = 1 - live.reduce((sum, c) => sum + (c.weight / total) ** 2, 0);
  const split = live.map((c) => `${c.name} ${c.weight}`).join(", ");
  const destination = (c: RoutedCluster) => {
    const subset = subsetOf(c);
    return `{host: ${serviceHost(c)}${subset ? `, subset: ${subset}` : ""}}`;
  };
  const [main, ...others] = live as [RoutedCluster, ...RoutedCluster[]];
  const pinned = others
    .map(
      (c, i) =>
        `  - match:   # pin a client to one destination by what it sends\n    - headers:\n        cookie: {regex: ".*canary=${subsetOf(c) ?? i + 1}.*"}\n    route:\n    - destination: ${destination(c)}\n`,
    )
    .join("");
  return [
    {
      id: "weighted-clusters",
      severity: "breaks",
      message: `The route splits over ${live.length} clusters (${split}) and picks one by weight before any hash or session applies, so two requests of one client reach different clusters, and pods, ${(change * 100).toFixed(0)} % of the time.`,
      evidence: [
        at(`${owner.path}.weightedClusters.clusters`, field(owner.value, "weightedClusters", "clusters")),
        at(
          `${owner.path}.weightedClusters.useHashPolicy`,
          field(owner.value, "weightedClusters", "useHashPolicy"),
        ),
      ],
      fix: `apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  http:\n${pinned}  - route:\n    - destination: ${destination(main)}\n`,
      source: "https://github.com/istio/istio/issues/17181",
    },
  ];
}

/**
 * Cookie hash policies: without ttl Envoy never generates the cookie (envoy hash_policy.cc
 * CookieHashMethod), and with ttl a cookie of the application's own name is overwritten.
 */
export function cookies(ctx: RouteContext): Finding[] {
  if (hashingClusters(ctx).length === 0) return [];
  const out: Finding[] = [];
  const host = serviceHost(hashingClusters(ctx)[0] as RoutedCluster);
  for (const cookie of cookiePolicies(ctx)) {
    const name = str(cookie.value.name);
    if (cookie.value.ttl === undefined) {
      out.push({
        id: "cookie-without-ttl",
        severity: "caveat",
        message: `Hash cookie "${name}" has no ttl, so the gateway never sets it: a client's first request, and every request without the cookie, lands on a random pod, and only a cookie the application sets itself makes later requests sticky.`,
        evidence: [at(cookie.path, cookie.value)],
        fix: COOKIE_TTL_FIX(host, name),
        source: "https://github.com/istio/istio/pull/46973",
      });
    } else if (ctx.appCookies.includes(name)) {
      out.push({
        id: "cookie-name-collision",
        severity: "breaks",
        message: `Hash cookie "${name}" is also the application's own cookie, so the gateway's generated value and the application's session id overwrite each other and the session comes apart from the pod its cookie hashes to.`,
        evidence: [at(`${cookie.path}.name`, name), at(`${cookie.path}.ttl`, cookie.value.ttl)],
        fix: COOKIE_TTL_FIX(host, `${name}-route`),
        source: "https://github.com/istio/istio/issues/46922",
      });
    }
  }
  return out;
}

/** A retry that skips the host already tried leaves the hashed pod (istio/istio#50756, PR #50759). */
export function retryLeavesHashedHost(ctx: RouteContext): Finding[] {
  const predicate = previousHostsPredicate(ctx);
  if (!predicate || !routeHashes(ctx)) return [];
  const host = serviceHost(hashingClusters(ctx)[0] as RoutedCluster);
  return [
    {
      id: "retry-leaves-hashed-host",
      severity: "caveat",
      message:
        "The route's retries skip hosts already tried (previous_hosts), so when the hashed pod fails a request the retry is answered by the next pod on the ring, without the session's state.",
      evidence: [predicate],
      fix: `apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  http:\n  - retries:\n      attempts: 2\n      retryIgnorePreviousHosts: false   # Istio 1.26+\n    route:\n    - destination: {host: ${host}}\n`,
      source: "https://github.com/istio/istio/issues/50756",
    },
  ];
}

const PERSISTENT_SESSION_ENV = `# istiod's environment (Helm values of istiod, or IstioOperator spec.values)\npilot:\n  env:\n    PILOT_ENABLE_PERSISTENT_SESSION_FILTER: "true"\n`;

/**
 * The per-route stateful session needs the listener's filter (envoy#20658); without `strict` a
 * session whose pod is gone is silently moved to another (envoy#30475, PR #30573; Istio never sets it).
 */
export function persistentSession(ctx: RouteContext): Finding[] {
  const session = routeSession(ctx);
  if (!session) return [];
  const out: Finding[] = [];
  if (!ctx.httpFilters.includes(STATEFUL_SESSION_FILTER)) {
    out.push({
      id: "session-filter-missing",
      severity: "breaks",
      message: `The route configures a persistent session ("${session.name}") but the listener has no ${STATEFUL_SESSION_FILTER} filter, so the session is never read or set.`,
      evidence: [at(session.path, session.value), httpFiltersEvidence(ctx)],
      fix: PERSISTENT_SESSION_ENV,
      source: "https://github.com/envoyproxy/envoy/issues/20658",
    });
  } else if (!session.strict) {
    out.push({
      id: "session-not-strict",
      severity: "caveat",
      message: `Persistent session "${session.name}" is not strict, so a session whose pod is gone or unhealthy is moved to another pod, with a new ${session.kind === "header" ? "header" : "cookie"}, instead of failing.`,
      evidence: [
        at(`${session.path}.statefulSession.strict`, field(session.value, "statefulSession", "strict")),
      ],
      source: "https://github.com/envoyproxy/envoy/issues/30475",
    });
  }
  if (session.kind === "cookie" && ctx.appCookies.includes(session.name)) {
    out.push({
      id: "cookie-name-collision",
      severity: "breaks",
      message: `Persistent-session cookie "${session.name}" is also the application's own cookie, so the gateway replaces the application's session id with the pod's address.`,
      evidence: [at(`${session.path}.statefulSession.sessionState.typedConfig.cookie.name`, session.name)],
      fix: `apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    istio.io/persistent-session: ${session.name}-pod\n`,
      source: "https://github.com/istio/istio/issues/46922",
    });
  }
  return out;
}
