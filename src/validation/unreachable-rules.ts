/**
 * The warnings istiod's ValidateVirtualService gives for rules traffic can never reach (istio/istio
 * pkg/config/validation/validation.go: analyzeUnreachableHTTPRules, analyzeUnreachableTCPRules,
 * analyzeUnreachableTLSRules, genMatchHTTPRoutes, coveredValidation). Envoy takes the first route
 * that matches, so a rule after a catch-all, a match repeated from an earlier rule, or an HTTP
 * prefix match an earlier, shorter prefix already takes, never applies.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import { decodedString, isSet, num, str } from "./decoded-values.js";
import type { Findings } from "./findings.js";
import { goQuote } from "./istio-names.js";
import { readStringMatch } from "./string-match.js";

type FieldKind = "scalar" | "stringMatch" | "stringMatchMap" | "stringMap" | "list";

const L4_FIELDS: readonly [string, FieldKind][] = [
  ["destinationSubnets", "list"],
  ["port", "scalar"],
  ["sourceLabels", "stringMap"],
  ["gateways", "list"],
  ["sourceNamespace", "scalar"],
];
const TLS_FIELDS: readonly [string, FieldKind][] = [["sniHosts", "list"], ...L4_FIELDS];
/** HTTPMatchRequest without `name`, which Go clears before comparing. */
const HTTP_FIELDS: readonly [string, FieldKind][] = [
  ["uri", "stringMatch"],
  ["scheme", "stringMatch"],
  ["method", "stringMatch"],
  ["authority", "stringMatch"],
  ["headers", "stringMatchMap"],
  ["port", "scalar"],
  ["sourceLabels", "stringMap"],
  ["gateways", "list"],
  ["queryParams", "stringMatchMap"],
  ["ignoreUriCase", "scalar"],
  ["withoutHeaders", "stringMatchMap"],
  ["sourceNamespace", "scalar"],
  ["statPrefix", "scalar"],
];

const mapEntries = (map: unknown): [string, unknown][] =>
  map !== null && typeof map === "object" && !Array.isArray(map)
    ? Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    : [];

function stringMatchKey(match: unknown): unknown {
  const { type, value } = readStringMatch(match);
  return type === undefined ? null : [type, value];
}

/**
 * Go compares matches by their encoding/json text: zero scalars, empty lists and empty maps are
 * left out, a set message (even an empty one) is not, map keys are sorted. This key is equal for
 * two matches exactly when those texts are.
 */
function matchKey(match: unknown, fields: readonly [string, FieldKind][]): string {
  const key: unknown[] = [];
  for (const [field, kind] of fields) {
    const value = get(match, field);
    let part: unknown;
    if (kind === "scalar") part = value === 0 || value === false || value === "" ? null : (value ?? null);
    else if (kind === "stringMatch") part = isSet(value) ? { set: stringMatchKey(value) } : null;
    else if (kind === "list") {
      const list = asArray(value).map((v) => decodedString(v) ?? v);
      part = list.length > 0 ? list : null;
    } else {
      const entries = mapEntries(value).map(([k, v]) => [
        k,
        kind === "stringMap" ? (decodedString(v) ?? v) : stringMatchKey(v),
      ]);
      part = entries.length > 0 ? entries : null;
    }
    key.push(part);
  }
  return JSON.stringify(key);
}

type Report = (path: FieldPath, message: string) => void;

const unused = (rule: string, reason: string) => `virtualService rule ${rule} not used (${reason})`;
const ineffective = (rule: string, match: string, dup: string) =>
  `virtualService rule ${rule} match ${match} is not used (duplicate/overlapping match in rule ${dup})`;

/** An HTTP uri-prefix match, as genMatchHTTPRoutes reduces it for the overlap check. */
interface PrefixMatch {
  readonly rule: string;
  readonly match: string;
  readonly path: FieldPath;
  readonly prefix: string;
  readonly port: number;
  readonly method: string;
  readonly authority: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly queryParams: ReadonlyMap<string, string>;
  readonly withoutHeaders: ReadonlyMap<string, string>;
}

/** assignExactOrPrefix: `exact:<v>`, `prefix:<v>`, or "" (regex, or nothing). */
function exactOrPrefix(match: unknown): string {
  const { type, value } = readStringMatch(match);
  if (type === "exact" && value !== "") return `exact:${value}`;
  if (type === "prefix" && value !== "") return `prefix:${value}`;
  return "";
}

function prefixMatch(match: unknown, rule: string, name: string, path: FieldPath): PrefixMatch | undefined {
  const uri = get(match, "uri");
  if (!isSet(uri)) return undefined;
  const { type, value: prefix } = readStringMatch(uri);
  if (type !== "prefix" || prefix === "") return undefined;
  const reduce = (key: string) => new Map(mapEntries(get(match, key)).map(([k, v]) => [k, exactOrPrefix(v)]));
  return {
    rule,
    match: name,
    path,
    prefix,
    port: num(get(match, "port")) ?? 0,
    // A match without a method is taken to be for GET.
    method: exactOrPrefix(get(match, "method")) || "exact:GET",
    authority: exactOrPrefix(get(match, "authority")),
    headers: reduce("headers"),
    queryParams: reduce("queryParams"),
    withoutHeaders: reduce("withoutHeaders"),
  };
}

/** Values equal, or A's is a prefix-string of B's text (Go's strings.HasPrefix(a, b)). */
const coversValue = (a: string, b: string) => a === b || a.startsWith(b);

function coversMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) {
    const other = b.get(key);
    if (other === undefined || !coversValue(value, other)) return false;
  }
  return true;
}

/** coveredValidation: whether earlier match A takes all the traffic of later match B. */
function covers(a: PrefixMatch, b: PrefixMatch): boolean {
  return (
    b.prefix.startsWith(a.prefix) &&
    a.port === b.port &&
    coversValue(a.method, b.method) &&
    coversValue(a.authority, b.authority) &&
    coversMap(a.headers, b.headers) &&
    coversMap(a.queryParams, b.queryParams) &&
    coversMap(a.withoutHeaders, b.withoutHeaders)
  );
}

/** Route and match names: an HTTP route's or match's `name` quoted, else `#<index>`. */
function displayName(value: unknown, index: number, named: boolean): string {
  const name = named ? (str(get(value, "name")) ?? "") : "";
  return name !== "" ? goQuote(name) : `#${index}`;
}

function analyzeRules(
  report: Report,
  path: FieldPath,
  routes: unknown,
  fields: readonly [string, FieldKind][],
  http: boolean,
): void {
  const list = asArray(routes);
  const seen = new Map<string, number>();
  let emptyMatchRule = -1;
  const prefixes: PrefixMatch[] = [];
  for (const [n, route] of list.entries()) {
    const rule = displayName(route, n, http);
    const at = [...path, n];
    const matches = asArray(get(route, "match"));
    if (matches.length === 0) {
      if (emptyMatchRule >= 0) report(at, unused(rule, "only the last rule can have no matches"));
      emptyMatchRule = n;
      continue;
    }
    let duplicates = 0;
    for (const [m, match] of matches.entries()) {
      if (emptyMatchRule >= 0) {
        report(at, unused(rule, "route without matches defined before"));
        continue;
      }
      const matchAt = [...at, "match", m];
      const key = matchKey(match, fields);
      const dup = seen.get(key);
      if (dup !== undefined) {
        report(matchAt, ineffective(rule, displayName(match, m, http), displayName(list[dup], dup, http)));
        duplicates++;
        continue;
      }
      seen.set(key, n);
      const reduced = http ? prefixMatch(match, rule, displayName(match, m, true), matchAt) : undefined;
      if (reduced) prefixes.push(reduced);
    }
    if (duplicates === matches.length) report(at, unused(rule, "all matches used by prior rules"));
  }
  for (const [i, a] of prefixes.entries()) {
    for (const b of prefixes.slice(i + 1)) {
      // Equal prefixes were duplicates above, or differ in something else.
      if (b.prefix === a.prefix || !covers(a, b)) continue;
      report(
        b.path,
        ineffective(
          b.rule,
          `${b.match} of prefix ${b.prefix}`,
          `${a.match} of prefix ${a.prefix} on ${a.rule}`,
        ),
      );
    }
  }
}

/** The three analyses over spec.http, spec.tcp and spec.tls, as warnings. */
export function checkUnreachableRules(out: Findings, spec: unknown): void {
  const report: Report = (path, message) => out.warn(path, message);
  analyzeRules(report, ["spec", "http"], get(spec, "http"), HTTP_FIELDS, true);
  analyzeRules(report, ["spec", "tcp"], get(spec, "tcp"), L4_FIELDS, false);
  analyzeRules(report, ["spec", "tls"], get(spec, "tls"), TLS_FIELDS, false);
}
