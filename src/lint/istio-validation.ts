import { hashKeyProblems } from "../lb/hash-key-syntax.js";
import { type FieldPath, formatPath, isPlainObject, type ManifestDocument } from "../manifests/index.js";
import { PRESENT_MATCH_REGEX, re2Problem } from "../mesh/re2.js";
import { asArray, get, type Json, type LintContext } from "./context.js";

/**
 * Istio's own DestinationRule and VirtualService regex checks (what `kubectl apply` gets back from
 * istiod's validating webhook), re-stated from istio/istio pkg/config/validation and the oneof
 * fields of istio/api, and the hash keys Envoy would refuse or write into Set-Cookie
 * (../lb/hash-key-syntax.ts, shared with the mesh's apply).
 */
export function checkIstioValidation(ctx: LintContext): void {
  for (const rule of ctx.destinationRules) {
    const spec = get(rule.object, "spec");
    checkTrafficPolicy(ctx, rule, get(spec, "trafficPolicy"), ["spec", "trafficPolicy"]);
    for (const [i, subset] of asArray(get(spec, "subsets")).entries()) {
      checkTrafficPolicy(ctx, rule, get(subset, "trafficPolicy"), ["spec", "subsets", i, "trafficPolicy"]);
    }
  }
  for (const vs of ctx.virtualServices) checkRegexes(ctx, vs);
}

const MATCH_STRINGS = ["uri", "scheme", "method", "authority"];
const MATCH_MAPS = ["headers", "withoutHeaders", "queryParams"];

/**
 * Every regex istiod compiles in a VirtualService's http routes (virtualservice.go
 * validateHTTPRouteMatchRequest, validateAllowOrigins, validateURIRegexRewrite).
 */
function checkRegexes(ctx: LintContext, vs: ManifestDocument): void {
  const check = (value: unknown, path: FieldPath) => {
    if (typeof value !== "string") return;
    const problem = re2Problem(value);
    if (problem !== undefined)
      ctx.report(vs, path, "istio/regex", `VirtualService ${vs.name}: ${formatPath(path)} ${problem}`);
  };
  for (const [i, route] of asArray(get(vs.object, "spec", "http")).entries()) {
    const routePath = ["spec", "http", i];
    for (const [j, match] of asArray(get(route, "match")).entries()) {
      const matchPath = [...routePath, "match", j];
      for (const key of MATCH_STRINGS) check(get(match, key, "regex"), [...matchPath, key, "regex"]);
      for (const key of MATCH_MAPS) {
        const map = get(match, key);
        if (!isPlainObject(map)) continue;
        for (const [name, m] of Object.entries(map)) {
          const regex = get(m, "regex");
          // Istio skips "*" here and makes it present_match (route.go canBeConvertedToPresentMatch).
          if (key === "withoutHeaders" && regex === PRESENT_MATCH_REGEX) continue;
          check(regex, [...matchPath, key, name, "regex"]);
        }
      }
    }
    for (const [k, origin] of asArray(get(route, "corsPolicy", "allowOrigins")).entries())
      check(get(origin, "regex"), [...routePath, "corsPolicy", "allowOrigins", k, "regex"]);
    const rewrite: FieldPath = [...routePath, "rewrite", "uriRegexRewrite", "match"];
    check(get(vs.object, ...rewrite), rewrite);
  }
}

const TRAFFIC_POLICY_FIELDS = [
  "loadBalancer",
  "connectionPool",
  "outlierDetection",
  "tls",
  "portLevelSettings",
  "tunnel",
  "proxyProtocol",
  "retryBudget",
];
const PORT_POLICY_FIELDS = ["loadBalancer", "connectionPool", "outlierDetection", "tls"];
const HASH_KEYS = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"];
/** Envoy's upper bound on the Maglev table, as Istio enforces it. */
const MAGLEV_MAX_TABLE_SIZE = 5000011;

function checkTrafficPolicy(
  ctx: LintContext,
  rule: ManifestDocument,
  policy: unknown,
  path: FieldPath,
): void {
  if (!isPlainObject(policy)) return;
  if (!TRAFFIC_POLICY_FIELDS.some((f) => policy[f] !== undefined && policy[f] !== null)) {
    ctx.report(
      rule,
      path,
      "istio/empty-traffic-policy",
      `DestinationRule ${rule.name}: trafficPolicy has no settings`,
    );
  }
  checkLoadBalancer(ctx, rule, policy.loadBalancer, [...path, "loadBalancer"]);
  for (const [i, port] of asArray(policy.portLevelSettings).entries()) {
    const portPath = [...path, "portLevelSettings", i];
    if (!isPlainObject(port)) continue;
    if (!isPlainObject(port.port)) {
      ctx.report(
        rule,
        portPath,
        "istio/port-level-port",
        `DestinationRule ${rule.name}: portLevelSettings[${i}] has no port`,
      );
    }
    if (!PORT_POLICY_FIELDS.some((f) => port[f] !== undefined && port[f] !== null)) {
      ctx.report(
        rule,
        portPath,
        "istio/empty-traffic-policy",
        `DestinationRule ${rule.name}: portLevelSettings[${i}] has no settings`,
      );
    }
    checkLoadBalancer(ctx, rule, port.loadBalancer, [...portPath, "loadBalancer"]);
  }
}

function checkLoadBalancer(ctx: LintContext, rule: ManifestDocument, lb: unknown, path: FieldPath): void {
  if (!isPlainObject(lb)) return;
  const where = `DestinationRule ${rule.name}`;
  const hash = lb.consistentHash;
  if (lb.simple !== undefined && hash !== undefined) {
    ctx.report(
      rule,
      path,
      "istio/one-lb-policy",
      `${where}: loadBalancer sets both simple (${String(lb.simple)}) and consistentHash`,
    );
  }
  if (lb.warmupDurationSecs !== undefined) {
    checkDuration(
      ctx,
      rule,
      lb.warmupDurationSecs,
      [...path, "warmupDurationSecs"],
      `${where}: warmupDurationSecs`,
    );
  }
  if (!isPlainObject(hash)) return;
  const hashPath = [...path, "consistentHash"];

  const keys = HASH_KEYS.filter((k) => hash[k] !== undefined);
  if (keys.length !== 1) {
    const detail = keys.length === 0 ? "sets no hash key" : `sets ${keys.join(" and ")}`;
    ctx.report(
      rule,
      hashPath,
      "istio/one-hash-key",
      `${where}: consistentHash ${detail}; exactly one of ${HASH_KEYS.join(", ")} is allowed`,
    );
  }
  if (hash.ringHash !== undefined && hash.maglev !== undefined) {
    ctx.report(
      rule,
      hashPath,
      "istio/one-hash-key",
      `${where}: consistentHash sets both ringHash and maglev`,
    );
  }

  if (isPlainObject(hash.httpCookie)) checkCookie(ctx, rule, hash.httpCookie, [...hashPath, "httpCookie"]);
  for (const problem of hashKeyProblems(hash)) {
    const at = [...hashPath, ...problem.path];
    ctx.report(
      rule,
      at,
      problem.kind === "cookie" ? "envoy/cookie-syntax" : "envoy/hash-key-name",
      `${where}: ${formatPath(at)} ${problem.message}`,
    );
  }

  const minimumRingSize = hash.minimumRingSize;
  if (typeof minimumRingSize === "number" && minimumRingSize !== 0) {
    ctx.report(
      rule,
      [...hashPath, "minimumRingSize"],
      "istio/minimum-ring-size-deprecated",
      `${where}: consistentHash.minimumRingSize ${minimumRingSize} is deprecated; use ringHash.minimumRingSize`,
    );
    if (hash.ringHash !== undefined || hash.maglev !== undefined) {
      ctx.report(
        rule,
        [...hashPath, "minimumRingSize"],
        "istio/ring-size-conflict",
        `${where}: minimumRingSize ${minimumRingSize} is set together with ${hash.maglev !== undefined ? "maglev" : "ringHash"}`,
      );
    }
  }

  if (hash.maglev !== undefined) checkMaglev(ctx, rule, hash.maglev, [...hashPath, "maglev"]);
}

function checkCookie(ctx: LintContext, rule: ManifestDocument, cookie: Json, path: FieldPath): void {
  const where = `DestinationRule ${rule.name}`;
  if (typeof cookie.name !== "string" || cookie.name === "") {
    ctx.report(rule, path, "istio/cookie-name", `${where}: httpCookie has no name`);
  }
  if (cookie.ttl !== undefined)
    checkDuration(ctx, rule, cookie.ttl, [...path, "ttl"], `${where}: httpCookie.ttl`);
  const names = new Set<string>();
  for (const [i, attribute] of asArray(cookie.attributes).entries()) {
    const name = get(attribute, "name");
    if (typeof name !== "string" || name === "") {
      ctx.report(
        rule,
        [...path, "attributes", i],
        "istio/cookie-attribute",
        `${where}: httpCookie.attributes[${i}] has no name`,
      );
    } else if (names.has(name)) {
      ctx.report(
        rule,
        [...path, "attributes", i],
        "istio/cookie-attribute",
        `${where}: httpCookie attribute "${name}" is repeated`,
      );
    } else {
      names.add(name);
    }
  }
}

function checkMaglev(ctx: LintContext, rule: ManifestDocument, maglev: unknown, path: FieldPath): void {
  const where = `DestinationRule ${rule.name}`;
  const size = get(maglev, "tableSize");
  const tableSize =
    typeof size === "number" ? size : typeof size === "string" && /^\d+$/.test(size) ? Number(size) : 0;
  const at = size === undefined ? path : [...path, "tableSize"];
  if (tableSize === 0) {
    ctx.report(
      rule,
      at,
      "istio/maglev-table-size",
      `${where}: maglev.tableSize must be set (65537 is Envoy's default)`,
    );
    return;
  }
  if (tableSize >= MAGLEV_MAX_TABLE_SIZE) {
    ctx.report(
      rule,
      at,
      "istio/maglev-table-size",
      `${where}: maglev.tableSize ${tableSize} must be less than ${MAGLEV_MAX_TABLE_SIZE}`,
    );
  }
  if (!isPrime(tableSize)) {
    ctx.report(
      rule,
      at,
      "istio/maglev-table-size",
      `${where}: maglev.tableSize ${tableSize} is not a prime number`,
    );
  }
}

/** Protobuf JSON duration text: seconds with up to nine fractional digits and an "s" suffix. */
const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

function checkDuration(
  ctx: LintContext,
  rule: ManifestDocument,
  value: unknown,
  path: FieldPath,
  what: string,
): void {
  const match = typeof value === "string" ? DURATION.exec(value) : null;
  if (!match) {
    ctx.report(
      rule,
      path,
      "istio/duration",
      `${what} ${JSON.stringify(value)} is not a duration such as "1800s" or "0.5s"`,
    );
    return;
  }
  // ttl 0s is meaningful (a session cookie); only warmupDurationSecs has a floor.
  if (!what.endsWith("warmupDurationSecs")) return;
  const nanos = Number(match[2]) * 1e9 + Number((match[3] ?? "").padEnd(9, "0"));
  if (match[1] || nanos < 1e6)
    ctx.report(rule, path, "istio/duration", `${what} ${value} must be at least 1ms`);
}

/** Trial division on odd factors up to the square root, accepting 1, 2 and 3 as Envoy does. */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n <= 0) return false;
  if (n < 4) return true;
  if (n % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(n));
  for (let factor = 3; factor <= limit; factor += 2) if (n % factor === 0) return false;
  return true;
}
