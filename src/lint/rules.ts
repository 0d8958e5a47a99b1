export type Severity = "error" | "warning";

export interface RuleInfo {
  readonly severity: Severity;
  /** What the rule catches. */
  readonly summary: string;
  /** One line of why it matters, with its source; appended to every message of the rule. */
  readonly why: string;
}

/**
 * Every rule the linter can report, by stable id. Ids are never reused for another meaning;
 * docs/lint-rules.md lists each one (test/lint/rules.test.ts keeps the two in step).
 */
export const RULES = {
  "manifest/yaml-syntax": {
    severity: "error",
    summary: "text that is not valid YAML",
    why: "kubectl cannot parse the file",
  },
  "manifest/not-an-object": {
    severity: "error",
    summary: "a YAML document that is not a mapping",
    why: "every Kubernetes object is a mapping of fields",
  },
  "manifest/missing-type": {
    severity: "error",
    summary: "an object without apiVersion or kind",
    why: "the API server needs both to know what the object is",
  },
  "manifest/missing-name": {
    severity: "error",
    summary: "an object without metadata.name",
    why: "the API server rejects unnamed objects",
  },
  "manifest/duplicate": {
    severity: "error",
    summary: "two objects with the same kind, namespace and name",
    why: "the second silently replaces the first on apply",
  },
  "schema/invalid": {
    severity: "error",
    summary: "a field with the wrong type or value, or a required field missing",
    why: "the API server's schema rejects it (kubernetes-models / @kubernetes-models/istio schema)",
  },
  "schema/unknown-field": {
    severity: "error",
    summary: "a field the schema does not define (a typo such as consistantHash)",
    why: "strict field validation rejects it, and without it the setting is silently dropped (kubectl --validate=strict; Istio CRD structural schema)",
  },
  "schema/no-schema": {
    severity: "warning",
    summary: "a kind for which no schema is bundled",
    why: "its fields were not checked",
  },
  "istio/crd-rule": {
    severity: "error",
    summary:
      "a value an Istio CRD's CEL rule refuses (a duration under 1ms or not a duration, a wildcard in a workload selector, two certificate sources on a Gateway server)",
    why: "the API server refuses the object before Istio sees it (istio/istio manifests/charts/base/files/crd-all.gen.yaml x-kubernetes-validations)",
  },
  "istio/webhook": {
    severity: "error",
    summary:
      "a DestinationRule, VirtualService or Gateway that istiod's validating webhook refuses, with its message",
    why: '`kubectl apply` fails with `admission webhook "validation.istio.io" denied the request` (istio/istio pkg/config/validation)',
  },
  "istio/webhook-warning": {
    severity: "warning",
    summary:
      "a setting istiod's validating webhook accepts with a warning (deprecated fields, unused rules, ignored certificates)",
    why: "`kubectl apply` prints it as `Warning:` and applies the object (istio/istio pkg/config/validation)",
  },
  "envoy/hash-key-name": {
    severity: "error",
    summary:
      "a consistentHash httpHeaderName that is empty or holds NUL, CR or LF, or an empty httpQueryParameterName",
    why: "Envoy rejects the route configuration (envoy/config/route/v3/route_components.proto HashPolicy Header.header_name, QueryParameter.name)",
  },
  "envoy/cookie-syntax": {
    severity: "error",
    summary:
      "an httpCookie name or attribute name that is not an RFC 6265 token, or a path or attribute value with a control character, a non-ASCII character or ';'",
    why: "Envoy writes them into Set-Cookie as they are (Http::Utility::makeSetCookieValue), so a CR or LF splits the response; Istio checks only that the name is set (RFC 6265 section 4.1.1)",
  },
  "xref/service-selector": {
    severity: "error",
    summary: "a Service whose selector matches no workload's pod labels",
    why: "the Service gets no endpoints and every request fails with 503",
  },
  "xref/target-port": {
    severity: "error",
    summary: "a Service targetPort that no selected container declares",
    why: "traffic is sent to a port nothing listens on",
  },
  "xref/gateway": {
    severity: "error",
    summary: "a VirtualService gateway that is not among the manifests",
    why: "the routes are never attached to the ingress gateway",
  },
  "xref/route-host": {
    severity: "error",
    summary: "a VirtualService destination host that resolves to no Service",
    why: "the route has no cluster and answers 503 (NR/UH)",
  },
  "xref/destination-rule-host": {
    severity: "error",
    summary: "a DestinationRule host that resolves to no Service",
    why: "the rule, and its load-balancer settings, apply to nothing",
  },
  "xref/route-subset": {
    severity: "error",
    summary: "a route to a subset no DestinationRule defines",
    why: "Istio routes to a cluster that does not exist and answers 503",
  },
  "xref/subset-labels": {
    severity: "error",
    summary: "a DestinationRule subset whose labels select no pod of the Service",
    why: "the subset has no endpoints and routes to it answer 503",
  },
  "pitfall/port-not-http": {
    severity: "warning",
    summary: "a consistent-hash Service port not declared HTTP (no http appProtocol or name prefix)",
    why: "Istio may treat it as TCP, where only useSourceIp hashing applies (istio.io Protocol Selection; istio#33558)",
  },
  "pitfall/consistent-hash-without-key": {
    severity: "warning",
    summary: "consistentHash with ringHash or maglev but no hash key",
    why: "Istio accepts it, but the route gets no hash_policy, so Envoy hashes every request at random and nothing is sticky (istio/istio pilot/pkg/networking/core/route consistentHashToHashPolicy)",
  },
  "pitfall/cookie-without-ttl": {
    severity: "warning",
    summary: "httpCookie hashing without ttl",
    why: "Envoy generates the cookie only when ttl is set; requests without it are balanced at random, so the request that creates a session lands elsewhere (Envoy hash_policy.cc; istio#25621)",
  },
  "pitfall/cookie-name-collision": {
    severity: "warning",
    summary: "a hash or persistent-session cookie with the same name as the app's own cookie",
    why: "Envoy and the app overwrite each other's cookie value (istio#21280)",
  },
  "pitfall/client-ip-affinity": {
    severity: "warning",
    summary: "Service sessionAffinity: ClientIP",
    why: "sidecars and gateways send to pod IPs and bypass kube-proxy, so Istio ignores it; use a DestinationRule consistentHash",
  },
  "pitfall/hash-with-outlier-detection": {
    severity: "warning",
    summary: "consistentHash together with outlierDetection",
    why: "each proxy ejects hosts on its own, so proxies' rings differ and clients move (istio#27466, istio#41674)",
  },
  "pitfall/hash-with-gateway-replicas": {
    severity: "warning",
    summary: "consistent hashing behind several ingress gateway replicas",
    why: "each replica builds its own ring; they agree only while all see the same healthy endpoints (istio#27466, istio#41674)",
  },
  "pitfall/hash-weighted-destinations": {
    severity: "warning",
    summary: "a route with several (weighted or subset) destinations to a consistent-hash host",
    why: "the destination is picked at random before hashing, so affinity holds only within one of them (istio#17181)",
  },
  "pitfall/port-level-hash-without-route-port": {
    severity: "warning",
    summary: "portLevelSettings consistentHash while a route to the host names no port",
    why: "Istio only applies a port-level hash when the route destination has a port (istio#41257)",
  },
  "pitfall/short-host-other-namespace": {
    severity: "warning",
    summary: "a short DestinationRule host whose Service is in another namespace",
    why: "a short host is resolved in the DestinationRule's namespace, so it names a different Service; use the FQDN (istio/api destination_rule.proto host)",
  },
  "pitfall/tls-passthrough": {
    severity: "warning",
    summary: "TLS-passthrough or TCP routes to a host hashed on HTTP data",
    why: "without an HTTP layer only useSourceIp can hash (istio#17557)",
  },
  "pitfall/gateway-api-session-persistence": {
    severity: "warning",
    summary: "Gateway API sessionPersistence",
    why: "Istio does not implement it and ignores the field (istio#55839)",
  },
  "pitfall/single-replica": {
    severity: "warning",
    summary: "a consistent-hash Service backed by one replica",
    why: "every request lands on the one pod, so affinity cannot be observed, and a restart loses every in-memory session",
  },
  "pitfall/termination-grace": {
    severity: "warning",
    summary: "terminationGracePeriodSeconds not above SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS",
    why: "the kubelet kills the pod before it has drained, cutting in-flight requests",
  },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;
