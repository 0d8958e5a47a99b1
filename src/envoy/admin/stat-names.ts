/**
 * The Envoy statistics the gateway emits, under Envoy's names and types, and Envoy's default tag
 * extraction, which splits a flat stat name into a tag-extracted name and tags for Prometheus.
 *
 * Names and types: docs/root/configuration/upstream/cluster_manager/cluster_stats.rst,
 * docs/root/configuration/http/http_conn_man/stats.rst and the router filter's statistics
 * (docs/root/configuration/http/http_filters/router_filter.rst).
 * Tag extraction: source/common/config/well_known_names.cc (the default extractors),
 * source/common/stats/tag_extractor_impl.cc (how one extractor matches) and
 * source/common/stats/tag_producer_impl.cc (in which order they run and how names are cut).
 */
import { RE2JS } from "re2js";
import type { EnvoyCluster } from "../../xds/cluster-types.js";

export type StatType = "counter" | "gauge";

/** One statistic, its name relative to the tree it lives in (`cluster.<name>.`, `http.<prefix>.`). */
export interface StatDescriptor {
  readonly name: string;
  readonly type: StatType;
}

const counters = (...names: string[]): StatDescriptor[] => names.map((name) => ({ name, type: "counter" }));
const gauges = (...names: string[]): StatDescriptor[] => names.map((name) => ({ name, type: "gauge" }));

/** The HTTP status classes Envoy counts as `..._<class>xx`. */
export const RESPONSE_CODE_CLASSES = [1, 2, 3, 4, 5] as const;

/** Rooted at `cluster.<observability name>.` (cluster_stats.rst, "General" and load balancer). */
export const CLUSTER_STATS: readonly StatDescriptor[] = [
  ...counters(
    "upstream_cx_total",
    "upstream_cx_connect_fail",
    "upstream_cx_overflow",
    "upstream_rq_total",
    "upstream_rq_pending_overflow",
    "upstream_rq_timeout",
    "upstream_rq_rx_reset",
    "upstream_rq_retry",
    "upstream_rq_retry_overflow",
    "upstream_rq_completed",
    ...RESPONSE_CODE_CLASSES.map((c) => `upstream_rq_${c}xx`),
    "membership_change",
    "lb_healthy_panic",
  ),
  ...gauges(
    "upstream_cx_active",
    "upstream_rq_active",
    "upstream_rq_pending_active",
    "membership_healthy",
    "membership_total",
  ),
];

/** Rooted at `cluster.<name>.outlier_detection.`, present when the cluster has outlier detection. */
export const OUTLIER_DETECTION_STATS: readonly StatDescriptor[] = [
  ...gauges("ejections_active"),
  ...counters(
    "ejections_enforced_total",
    "ejections_overflow",
    "ejections_detected_consecutive_5xx",
    "ejections_enforced_consecutive_5xx",
    "ejections_detected_consecutive_gateway_failure",
    "ejections_enforced_consecutive_gateway_failure",
  ),
];

/** Rooted at `cluster.<name>.circuit_breakers.<default|high>.`: 1 while the breaker is at capacity. */
export const CIRCUIT_BREAKER_STATS: readonly StatDescriptor[] = gauges(
  "cx_open",
  "rq_pending_open",
  "rq_open",
  "rq_retry_open",
);

/** Rooted at `cluster.<name>.ring_hash_lb.` for a RING_HASH cluster. */
export const RING_HASH_LB_STATS: readonly StatDescriptor[] = gauges(
  "size",
  "min_hashes_per_host",
  "max_hashes_per_host",
);

/** Rooted at `cluster.<name>.maglev_lb.` for a MAGLEV cluster. */
export const MAGLEV_LB_STATS: readonly StatDescriptor[] = gauges(
  "min_entries_per_host",
  "max_entries_per_host",
);

/** Rooted at `http.<stat_prefix>.`: the connection manager's own and the router filter's. */
export const HTTP_CONN_MANAGER_STATS: readonly StatDescriptor[] = [
  ...counters(
    "downstream_cx_total",
    "downstream_rq_total",
    "downstream_rq_completed",
    ...RESPONSE_CODE_CLASSES.map((c) => `downstream_rq_${c}xx`),
    "no_route",
    "rq_total",
  ),
  ...gauges("downstream_cx_active", "downstream_rq_active"),
];

/**
 * Utility::sanitizeStatsName, which every scope name goes through: one leading and one trailing dot
 * dropped, `://`, `:/`, `:` and NUL each turned into `_`.
 */
export function sanitizeStatsName(name: string): string {
  const trimmed = name.replace(/\.$/, "").replace(/^\./, "");
  return trimmed.replace(/:\/\/|:\/|:|\0/g, "_");
}

/**
 * The scope a cluster's stats live under: generateStatsScope creates `cluster.<alt_stat_name or
 * name>.`, which createScope sanitises (so its trailing dot goes and colons become `_`).
 */
export function clusterStatPrefix(cluster: Pick<EnvoyCluster, "name" | "altStatName">): string {
  return sanitizeStatsName(`cluster.${cluster.altStatName ? cluster.altStatName : cluster.name}.`);
}

/** `cluster.<observability name>.<stat>`, e.g. clusterStat(cluster, "upstream_rq_total"). */
export function clusterStat(cluster: Pick<EnvoyCluster, "name" | "altStatName">, stat: string): string {
  return `${clusterStatPrefix(cluster)}.${stat}`;
}

/** `http.<stat_prefix>.<stat>` for a connection manager's (and its router's) stats. */
export function httpStat(statPrefix: string, stat: string): string {
  return `http.${statPrefix}.${stat}`;
}

/** The class counter an HTTP status increments, e.g. 503 → `upstream_rq_5xx`. */
export function responseClassStat(direction: "upstream" | "downstream", status: number): string {
  return `${direction}_rq_${Math.floor(status / 100)}xx`;
}

// ---- Tag extraction ----------------------------------------------------------------------------

export interface Tag {
  readonly name: string;
  readonly value: string;
}

export interface ExtractedTags {
  readonly tagExtractedName: string;
  readonly tags: readonly Tag[];
}

interface RegexDescriptor {
  readonly tag: string;
  readonly regex: string;
  readonly substr: string;
  readonly negative?: string;
}

// The placeholders expandRegex substitutes into the default regexes.
const ADDRESS = String.raw`(?:(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[a-fA-F_\d]+\])_\d+)`;
const TAG_VALUE = String.raw`[^\.]+`;
const CIPHER = String.raw`[\w-]+`;
const LISTENER_OR_CLUSTER = String.raw`(?:listener|cluster)\..*?`;
const r = String.raw;

const re2 = (tag: string, substr: string, regex: string, negative?: string): RegexDescriptor => ({
  tag,
  regex,
  substr,
  ...(negative === undefined ? {} : { negative }),
});

/** TagNameValues' RE2 descriptors (tag, required substring, regex), in the order it adds them. */
const REGEX_DESCRIPTORS: readonly RegexDescriptor[] = [
  re2("envoy.response_code", "_rq_", r`_rq(_(\d{3}))$`),
  re2("envoy.response_code_class", "_rq_", r`_rq_((\d))xx$`),
  re2(
    "envoy.dynamo_partition_id",
    ".dynamodb.table.",
    r`^http\.${TAG_VALUE}\.dynamodb\.table\.${TAG_VALUE}\.capacity\.${TAG_VALUE}(\.__partition_id=(\w{7}))$`,
  ),
  re2(
    "envoy.dynamo_operation",
    ".dynamodb.",
    r`^http\.${TAG_VALUE}\.dynamodb.(?:operation|table\.${TAG_VALUE}\.capacity)(\.(${TAG_VALUE}))(?:\.|$)`,
  ),
  re2(
    "envoy.dynamo_table",
    ".dynamodb.",
    r`^http\.${TAG_VALUE}\.dynamodb.(?:table|error)\.((${TAG_VALUE})\.)`,
  ),
  re2("envoy.ssl_cipher", ".ssl.ciphers.", r`^listener\..*?\.ssl\.ciphers(\.(${CIPHER}))$`),
  re2("envoy.ssl_curve", ".ssl.curves.", r`^${LISTENER_OR_CLUSTER}\.ssl\.curves(\.(${CIPHER}))$`),
  re2("envoy.ssl_sigalg", ".ssl.sigalgs.", r`^${LISTENER_OR_CLUSTER}\.ssl\.sigalgs(\.(${CIPHER}))$`),
  re2("envoy.ssl_version", ".ssl.versions.", r`^${LISTENER_OR_CLUSTER}\.ssl\.versions(\.(TLSv\d\.\d))$`),
  re2("cipher_suite", ".ssl.ciphers.", r`^cluster\.${TAG_VALUE}\.ssl\.ciphers(\.(${CIPHER}))$`),
  re2("envoy.http_conn_manager_prefix", ".http.", r`^listener\..*?\.http\.((${TAG_VALUE})\.)`),
  re2(
    "envoy.worker_id",
    "",
    r`^(?:listener\.(?:${ADDRESS}|${TAG_VALUE})\.|server\.|listener_manager\.)worker_((\d+)\.)`,
  ),
  // "admin" is the admin listener's stat prefix, never taken as a listener address.
  re2("envoy.listener_address", "", r`^listener\.((${ADDRESS}|${TAG_VALUE})\.)`, "admin"),
  re2("envoy.rds_route_config", ".rds.", r`^http\.${TAG_VALUE}\.rds\.(([\w-\.]+)\.)\w+?$`),
];

/** TagNameValues' token patterns: `$` is the value, `*` one token, `**` any number of tokens. */
const TOKEN_DESCRIPTORS: ReadonlyArray<readonly [string, string]> = [
  ["envoy.mongo_callsite", "mongo.*.collection.*.callsite.$.query.**"],
  ["envoy.mongo_collection", "mongo.*.collection.$.**.query.*"],
  ["envoy.mongo_cmd", "mongo.*.cmd.$.**"],
  ["envoy.grpc_bridge_method", "cluster.*.grpc.*.$.**"],
  ["envoy.http_user_agent", "http.*.user_agent.$.**"],
  ["envoy.virtual_cluster", "vhost.*.vcluster.$.**"],
  ["envoy.fault_downstream_cluster", "http.*.fault.$.**"],
  ["envoy.grpc_bridge_service", "cluster.*.grpc.$.**"],
  ["envoy.tcp_prefix", "tcp.$.**"],
  ["envoy.udp_prefix", "udp.$.**"],
  ["envoy.clientssl_prefix", "auth.clientssl.$.**"],
  ["envoy.ratelimit_prefix", "ratelimit.$.**"],
  ["envoy.cluster_name", "cluster.$.**"],
  ["envoy.ext_authz_prefix", "cluster.*.ext_authz.$.**"],
  ["envoy.ext_authz_prefix", "http.*.ext_authz.$.**"],
  ["envoy.http_conn_manager_prefix", "http.$.**"],
  ["envoy.virtual_host", "vhost.$.**"],
  ["envoy.mongo_prefix", "mongo.$.**"],
  ["envoy.route", "vhost.*.route.$.**"],
  ["envoy.thrift_prefix", "thrift.$.**"],
  ["envoy.redis_prefix", "redis.$.**"],
  ["envoy.local_http_ratelimit_prefix", "$.http_local_rate_limit.**"],
  ["envoy.local_network_ratelimit_prefix", "local_rate_limit.$.**"],
  ["envoy.local_listener_ratelimit_prefix", "listener_local_ratelimit.$.**"],
  ["envoy.dns_filter_prefix", "dns_filter.$.**"],
];

/** A match: the tag value and the half-open character range to cut from the name. */
type Match = { readonly value: string; readonly start: number; readonly end: number };

interface Extractor {
  readonly tag: string;
  /** The first token a name must have for this extractor to be tried; "" for every name. */
  readonly prefix: string;
  extract(name: string, tokens: readonly string[]): Match | undefined;
}

/**
 * TagExtractorImplBase::extractRegexPrefix: the literal first token of an anchored regex, when it is
 * followed by an escaped dot (or ends the regex).
 */
function regexPrefix(regex: string): string {
  if (!regex.startsWith("^")) return "";
  for (let i = 1; i < regex.length; i++) {
    if (/[A-Za-z0-9_]/.test(regex.charAt(i))) continue;
    if (i === 1) return "";
    const rest = regex.slice(i);
    const last = i === regex.length - 1;
    const dotNext = rest.startsWith("\\.") || rest.startsWith("(?=\\.)");
    return (!last && dotNext) || (last && rest === "$") ? regex.slice(1, i) : "";
  }
  return "";
}

/** TagExtractorRe2Impl: a partial match whose group 1 is cut and whose group 2 (or 1) is the value. */
function regexExtractor(d: RegexDescriptor): Extractor {
  const re = RE2JS.compile(d.regex);
  return {
    tag: d.tag,
    prefix: regexPrefix(d.regex),
    extract(name) {
      if (d.substr !== "" && !name.includes(d.substr)) return undefined;
      const m = re.matcher(name);
      if (!m.find()) return undefined;
      const start = m.start(1);
      const end = m.end(1);
      if (start < 0 || end <= start) return undefined;
      const inner = m.group(2);
      const value = inner ? inner : name.slice(start, end);
      if (d.negative !== undefined && value === d.negative) return undefined;
      return { value, start, end };
    },
  };
}

/** searchTokens' answers besides a token index: no match, or a match whose part of the pattern had no `$`. */
const FAILED = -2;
const NO_VALUE = -1;

/**
 * TagExtractorTokensImpl::searchTags: walks pattern and name token by token; `**` tries every
 * suffix (backtracking); succeeds only when both are used up. Returns the `$` token's index.
 */
function searchTokens(pattern: readonly string[], input: readonly string[], pi: number, ii: number): number {
  let matched = NO_VALUE;
  for (; ii < input.length && pi < pattern.length; ii++, pi++) {
    const expected = pattern[pi];
    if (expected === "$") {
      matched = ii;
    } else if (expected === "**") {
      if (pi === pattern.length - 1) return matched;
      for (let from = ii; from < input.length; from++) {
        const found = searchTokens(pattern, input, pi + 1, from);
        if (found !== FAILED) return matched !== NO_VALUE ? matched : found;
      }
      return FAILED;
    } else if (expected !== "*" && expected !== input[ii]) {
      return FAILED;
    }
  }
  return pi === pattern.length && ii === input.length ? matched : FAILED;
}

function tokenExtractor(tag: string, patternText: string): Extractor {
  const pattern = patternText.split(".");
  const first = pattern[0] ?? "";
  return {
    tag,
    prefix: first === "$" || first === "*" || first === "**" ? "" : first,
    extract(_name, tokens) {
      const index = searchTokens(pattern, tokens, 0, 0);
      if (index < 0 || index >= tokens.length) return undefined;
      let start = 0;
      for (let i = 0; i < index; i++) start += (tokens[i] as string).length + 1;
      const value = tokens[index] as string;
      let end = start + value.length;
      // Cut the dot after the value, or before it when the value is the last token.
      if (index < tokens.length - 1) end++;
      else if (start > 0) start--;
      return { value, start, end };
    },
  };
}

/** TagProducerImpl::addDefaultExtractors: every regex descriptor, then every token descriptor. */
const EXTRACTORS: readonly Extractor[] = [
  ...REGEX_DESCRIPTORS.map(regexExtractor),
  ...TOKEN_DESCRIPTORS.map(([tag, pattern]) => tokenExtractor(tag, pattern)),
];
const TAG_NAME_COUNT = new Map<string, number>();
for (const e of EXTRACTORS) TAG_NAME_COUNT.set(e.tag, (TAG_NAME_COUNT.get(e.tag) ?? 0) + 1);

/**
 * TagProducerImpl::produceTags with Envoy's default extractors (use_all_default_tags unset): those
 * without a prefix run first, then those whose prefix is the name's first token, each list in the
 * order added. Every extractor sees the whole original name; the parts they match are cut at the end.
 * When two extractors share a tag name, only the first to match adds it.
 */
export function extractTags(name: string): ExtractedTags {
  const dot = name.indexOf(".");
  const first = dot < 0 ? undefined : name.slice(0, dot);
  const ordered = [
    ...EXTRACTORS.filter((e) => e.prefix === ""),
    ...EXTRACTORS.filter((e) => e.prefix !== "" && e.prefix === first),
  ];
  const tokens = name.split(".");
  const tags: Tag[] = [];
  const cut: Array<[number, number]> = [];
  const seen = new Set<string>();
  for (const e of ordered) {
    const shared = (TAG_NAME_COUNT.get(e.tag) ?? 0) > 1;
    if (shared && seen.has(e.tag)) continue;
    const m = e.extract(name, tokens);
    if (!m) continue;
    tags.push({ name: e.tag, value: m.value });
    cut.push([m.start, m.end]);
    if (shared) seen.add(e.tag);
  }
  return { tagExtractedName: removeRanges(name, cut), tags };
}

/** One token pattern (the syntax of the default `addTokenized` descriptors) applied on its own. */
export function extractWithTokenPattern(
  tag: string,
  pattern: string,
  name: string,
): ExtractedTags | undefined {
  const m = tokenExtractor(tag, pattern).extract(name, name.split("."));
  return (
    m && { tagExtractedName: removeRanges(name, [[m.start, m.end]]), tags: [{ name: tag, value: m.value }] }
  );
}

/** StringUtil::removeCharacters over the union of the ranges. */
function removeRanges(name: string, ranges: ReadonlyArray<readonly [number, number]>): string {
  if (ranges.length === 0) return name;
  const drop = new Array<boolean>(name.length).fill(false);
  for (const [start, end] of ranges) for (let i = start; i < end; i++) drop[i] = true;
  let out = "";
  for (let i = 0; i < name.length; i++) if (!drop[i]) out += name.charAt(i);
  return out;
}
