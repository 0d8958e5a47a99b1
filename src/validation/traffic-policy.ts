/**
 * istiod's checks of a DestinationRule traffic policy (validateTrafficPolicy and what it calls in
 * istio/istio pkg/config/validation/validation.go and agent/validation.go, Istio 1.30), with its
 * messages. Field values come from YAML, so each check first looks at the JSON type; a value of the
 * wrong type is the CRD schema's to report.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import type { Findings } from "./findings.js";
import { parseGoDuration, webhookDurationProblem } from "./go-duration.js";
import { fqdnProblem, isIpAddress, percentProblem, portProblem } from "./istio-names.js";
import { clientTlsProblems, localityLbProblems } from "./traffic-policy-parts.js";

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const isSet = (v: unknown) => v !== undefined && v !== null;

/**
 * A duration field as the webhook reads it: undecodable text is the decoder's error; a decoded one
 * goes through ValidateDuration. `zeroDisables`: tcp idleTimeout, checked only when its whole
 * milliseconds are not 0. (A DestinationRule's undecodable durations never get here: its decoding,
 * destination-rule-decode.ts, refuses the object first, alone.)
 */
export function checkDuration(out: Findings, path: FieldPath, value: unknown, zeroDisables = false): void {
  const text = str(value);
  if (text === undefined) return;
  const parsed = parseGoDuration(text);
  if ("error" in parsed) {
    out.error(path, `error decoding configuration: bad Duration: ${parsed.error}`);
    return;
  }
  if (zeroDisables && parsed.ns / 1_000_000n === 0n) return;
  const problem = webhookDurationProblem(parsed.ns);
  if (problem) out.error(path, problem);
}

const POLICY_FIELDS = [
  "outlierDetection",
  "connectionPool",
  "loadBalancer",
  "tls",
  "portLevelSettings",
  "tunnel",
  "proxyProtocol",
  "retryBudget",
];
const PORT_POLICY_FIELDS = ["outlierDetection", "connectionPool", "loadBalancer", "tls"];

/** validateTrafficPolicy. `namespace` is the rule's, for configmap:// credentials. */
export function checkTrafficPolicy(out: Findings, path: FieldPath, policy: unknown, namespace: string): void {
  if (!isSet(policy)) return;
  const present = (key: string) =>
    key === "portLevelSettings" ? asArray(get(policy, key)).length > 0 : isSet(get(policy, key));
  if (!POLICY_FIELDS.some(present)) {
    out.error(path, "traffic policy must have at least one field");
    return;
  }
  if (present("tunnel") && present("proxyProtocol")) {
    out.error(path, "tunnel and proxyProtocol must not be set together");
    return;
  }
  checkPolicyParts(out, path, policy, namespace);
  const ports = out.withoutWarnings();
  for (const [i, entry] of asArray(get(policy, "portLevelSettings")).entries()) {
    const at = [...path, "portLevelSettings", i];
    // jsonpb decodes a `null` list element as an empty message, so Go's "traffic policy may not be
    // null" is never reached through the webhook: the entry has no port and no field.
    const portPolicy = entry ?? {};
    if (!isSet(get(portPolicy, "port")))
      ports.error([...at, "port"], "portTrafficPolicy must have valid port");
    if (!PORT_POLICY_FIELDS.some((k) => isSet(get(portPolicy, k)))) {
      ports.error(at, "port traffic policy must have at least one field");
      continue;
    }
    checkPolicyParts(ports, at, portPolicy, namespace);
  }
  checkTunnel(out, [...path, "tunnel"], get(policy, "tunnel"));
  const version = num(get(policy, "proxyProtocol", "version"));
  if (version !== undefined && version !== 0 && version !== 1) {
    out.error([...path, "proxyProtocol", "version"], `proxy protocol version is invalid: ${version}`);
  }
}

/** What a traffic policy and a port-level policy share: outlier detection, pool, balancer, TLS. */
function checkPolicyParts(out: Findings, path: FieldPath, policy: unknown, namespace: string): void {
  const outlier = get(policy, "outlierDetection");
  checkOutlierDetection(out, [...path, "outlierDetection"], outlier);
  checkConnectionPool(out, [...path, "connectionPool"], get(policy, "connectionPool"));
  checkLoadBalancer(out, [...path, "loadBalancer"], get(policy, "loadBalancer"), outlier);
  for (const p of clientTlsProblems(get(policy, "tls"), namespace)) out.error([...path, "tls"], p);
}

function checkOutlierDetection(out: Findings, path: FieldPath, od: unknown): void {
  if (!isSet(od)) return;
  checkDuration(out, [...path, "baseEjectionTime"], get(od, "baseEjectionTime"));
  if ((num(get(od, "consecutiveErrors")) ?? 0) !== 0) {
    out.warn(
      [...path, "consecutiveErrors"],
      "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead",
    );
  }
  if (
    get(od, "splitExternalLocalOriginErrors") !== true &&
    (num(get(od, "consecutiveLocalOriginFailures")) ?? 0) > 0
  ) {
    out.error(
      [...path, "consecutiveLocalOriginFailures"],
      "outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false",
    );
  }
  checkDuration(out, [...path, "interval"], get(od, "interval"));
  for (const key of ["maxEjectionPercent", "minHealthPercent"]) {
    const problem = percentProblem(num(get(od, key)) ?? 0);
    if (problem) out.error([...path, key], problem);
  }
}

const NON_NEGATIVE_HTTP: readonly [string, string][] = [
  ["http1MaxPendingRequests", "http1 max pending requests must be non-negative"],
  ["http2MaxRequests", "http2 max requests must be non-negative"],
  ["maxRequestsPerConnection", "max requests per connection must be non-negative"],
  ["maxRetries", "max retries must be non-negative"],
];

function checkConnectionPool(out: Findings, path: FieldPath, pool: unknown): void {
  if (!isSet(pool)) return;
  const http = get(pool, "http");
  const tcp = get(pool, "tcp");
  if (!isSet(http) && !isSet(tcp)) {
    out.error(path, "connection pool must have at least one field");
    return;
  }
  if (isSet(http)) {
    const at = [...path, "http"];
    for (const [key, message] of NON_NEGATIVE_HTTP)
      if ((num(get(http, key)) ?? 0) < 0) out.error([...at, key], message);
    checkDuration(out, [...at, "idleTimeout"], get(http, "idleTimeout"));
    if (get(http, "h2UpgradePolicy") === "UPGRADE" && get(http, "useClientProtocol") === true) {
      out.error(
        [...at, "useClientProtocol"],
        "use client protocol must not be true when H2UpgradePolicy is UPGRADE",
      );
    }
    if ((num(get(http, "maxConcurrentStreams")) ?? 0) < 0) {
      out.error([...at, "maxConcurrentStreams"], "max concurrent streams must be non-negative");
    }
  }
  if (isSet(tcp)) {
    const at = [...path, "tcp"];
    if ((num(get(tcp, "maxConnections")) ?? 0) < 0)
      out.error([...at, "maxConnections"], "max connections must be non-negative");
    checkDuration(out, [...at, "connectTimeout"], get(tcp, "connectTimeout"));
    checkDuration(out, [...at, "maxConnectionDuration"], get(tcp, "maxConnectionDuration"));
    checkDuration(out, [...at, "idleTimeout"], get(tcp, "idleTimeout"), true);
    checkDuration(out, [...at, "tcpKeepalive", "time"], get(tcp, "tcpKeepalive", "time"));
    checkDuration(out, [...at, "tcpKeepalive", "interval"], get(tcp, "tcpKeepalive", "interval"));
  }
}

/**
 * Istio's own primality test for Maglev tables: 1, 2 and 3 pass, 0 does not (unlike ../lb/primes.ts,
 * which answers for the balancer, where 1 is no prime).
 */
export function isPrime(n: number): boolean {
  if (n < 1 || !Number.isInteger(n)) return false;
  if (n < 4) return true;
  if (n % 2 === 0) return false;
  for (let i = 3; i * i <= n; i += 2) if (n % i === 0) return false;
  return true;
}

/** Envoy's upper bound on the Maglev table, as Istio enforces it. */
const MAGLEV_MAX_TABLE_SIZE = 5000011;

/** ConsistentHashLB's hash_key oneof members, in the .proto's declaration order. */
const HASH_KEYS = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"];

/**
 * The hash key Go sees: jsonpb sets a oneof member per field in declaration order, each replacing the
 * one before, so of several (which the CRD refuses) the last declared wins.
 */
function hashKey(ch: unknown): string | undefined {
  return HASH_KEYS.findLast((key) => isSet(get(ch, key)));
}

/** validateLoadBalancer: simple balancing is always valid; no hash key is required. */
function checkLoadBalancer(out: Findings, path: FieldPath, lb: unknown, outlier: unknown): void {
  if (!isSet(lb)) return;
  const ch = get(lb, "consistentHash");
  if (isSet(ch)) {
    const at = [...path, "consistentHash"];
    const cookie = hashKey(ch) === "httpCookie" ? get(ch, "httpCookie") : undefined;
    if (isSet(cookie) && (str(get(cookie, "name")) ?? "") === "") {
      out.error([...at, "httpCookie", "name"], "name required for HttpCookie");
    }
    const seen = new Set<string>();
    for (const [i, attribute] of asArray(get(cookie, "attributes")).entries()) {
      const name = str(get(attribute, "name")) ?? "";
      const attrPath = [...at, "httpCookie", "attributes", i, "name"];
      if (name === "") out.error(attrPath, "cookie attribute name cannot be empty");
      else if (seen.has(name)) out.error(attrPath, `duplicate cookie attribute name: ${name}`);
      seen.add(name);
    }
    const minimumRingSize = num(get(ch, "minimumRingSize")) ?? 0;
    if (minimumRingSize !== 0) {
      out.warn(
        [...at, "minimumRingSize"],
        "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
      );
      if (isSet(get(ch, "ringHash")) || isSet(get(ch, "maglev"))) {
        out.error(
          [...at, "minimumRingSize"],
          "only one of MinimumRingSize or Maglev/Ringhash can be specified",
        );
      }
    }
    const maglev = get(ch, "maglev");
    if (isSet(maglev)) {
      const size = num(get(maglev, "tableSize")) ?? 0;
      const sizePath = [...at, "maglev", "tableSize"];
      if (size === 0) out.error(sizePath, "tableSize must be set for maglev");
      if (size >= MAGLEV_MAX_TABLE_SIZE)
        out.error(sizePath, "tableSize must be less than 5000011 for maglev");
      if (!isPrime(size)) out.error(sizePath, "tableSize must be a prime number for maglev");
    }
  }
  for (const p of localityLbProblems(get(lb, "localityLbSetting"), outlier)) {
    (p.warning ? out.warn : out.error).call(out, [...path, "localityLbSetting", ...p.path], p.message);
  }
  const warmup = get(lb, "warmup");
  if (isSet(warmup)) {
    const at = [...path, "warmup"];
    if (!isSet(get(warmup, "duration"))) out.error([...at, "duration"], "duration is required");
    else checkDuration(out, [...at, "duration"], get(warmup, "duration"));
    if ((num(get(warmup, "minimumPercent")) ?? 0) > 100) {
      out.error([...at, "minimumPercent"], "minimumPercent value should be less than or equal to 100");
    }
    const aggression = num(get(warmup, "aggression"));
    if (aggression !== undefined && aggression < 1) {
      out.error([...at, "aggression"], "aggression should be greater than or equal to 1");
    }
  }
}

function checkTunnel(out: Findings, path: FieldPath, tunnel: unknown): void {
  if (!isSet(tunnel)) return;
  const protocol = str(get(tunnel, "protocol")) ?? "";
  if (protocol !== "" && protocol !== "CONNECT" && protocol !== "POST") {
    out.error([...path, "protocol"], 'tunnel protocol must be "CONNECT" or "POST"');
  }
  const host = str(get(tunnel, "targetHost")) ?? "";
  const fqdn = fqdnProblem(host);
  if (fqdn && !isIpAddress(host)) {
    out.error(
      [...path, "targetHost"],
      `tunnel target host must be valid FQDN or IP address: ${fqdn}; ${host} is not a valid IP`,
    );
  }
  const port = portProblem(num(get(tunnel, "targetPort")) ?? 0);
  if (port) out.error([...path, "targetPort"], `tunnel target port is invalid: ${port}`);
}
