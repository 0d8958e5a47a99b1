/**
 * Envoy's admin `/stats` (text and `?format=json`) and `/stats/prometheus` for counters and gauges,
 * with `?filter=` and `?usedonly`.
 *
 * - Query handling: source/server/admin/stats_params.cc (the filter is RE2, unanchored; a pattern RE2
 *   refuses is a 400 with the body "Invalid re2 regex") and stats_params.h shouldShowMetric.
 * - `/stats`: source/server/admin/stats_request.cc walks every stat through one map keyed by its full
 *   name, so counters and gauges come out together in byte order of the name; stats_render.cc prints
 *   `name: value` lines, or `{"stats":[{"name":..,"value":..}]}`.
 * - `/stats/prometheus`: source/server/admin/prometheus_stats.cc groups by tag-extracted name, all
 *   counter groups before all gauge groups, groups and members each ordered by StatName comparison
 *   (token by token), one `# TYPE` line per group, `envoy_` + name with every character outside
 *   [a-zA-Z0-9_] turned into `_`, label values escaped as Prometheus' text format requires.
 * Text readouts and histograms are not part of these views, so they are absent.
 */
import { RE2JS } from "re2js";
import { extractTags, type Tag } from "./stat-names.js";
import type { StatView } from "./views.js";

/** A stat with, optionally, Envoy's `used` flag (set on its first increment or set). */
export type StatSample = StatView & { readonly used?: boolean };

export interface StatsOptions {
  /** `?filter=`: an RE2 pattern searched for anywhere in the full stat name; empty means none. */
  readonly filter?: string;
  /** `?usedonly`: only stats that were ever written. */
  readonly usedOnly?: boolean;
}

/** A query Envoy refuses; the caller answers with `status` and `body` as the response. */
export interface StatsQueryError {
  readonly error: "bad-request";
  readonly status: 400;
  readonly body: string;
}

/** StatsParams::parse's answer to a filter RE2 will not compile. */
export const INVALID_FILTER_BODY = "Invalid re2 regex";

export function isStatsQueryError(value: unknown): value is StatsQueryError {
  return (
    typeof value === "object" && value !== null && (value as { error?: unknown }).error === "bad-request"
  );
}

/**
 * Whether a stat was ever written. Without the flag, a non-zero value proves it was; a zero value
 * is taken as never written, which differs from Envoy only for a gauge that went up and back to 0.
 */
function used(stat: StatSample): boolean {
  return stat.used ?? stat.value !== 0;
}

/** The stats a query shows, or the error Envoy gives for it. */
export function selectStats(
  stats: readonly StatSample[],
  options: StatsOptions,
): readonly StatSample[] | StatsQueryError {
  let filter: RE2JS | undefined;
  if (options.filter) {
    try {
      filter = RE2JS.compile(options.filter);
    } catch {
      return { error: "bad-request", status: 400, body: INVALID_FILTER_BODY };
    }
  }
  return stats.filter((s) => (!options.usedOnly || used(s)) && (!filter || filter.test(s.name)));
}

/**
 * std::string / absl::string_view ordering: byte order of the UTF-8 encoding, which is code point
 * order. UTF-16 code units agree except where a surrogate pair meets U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
  }
  return a.length - b.length;
}

/**
 * SymbolTable::lessThan: names compared token by token (split at dots), a name that runs out of
 * tokens first sorting first. So `a.z` sorts before `a-b`, unlike a plain string comparison.
 */
export function compareStatNames(a: string, b: string): number {
  const at = a.split(".");
  const bt = b.split(".");
  const n = Math.min(at.length, bt.length);
  for (let i = 0; i < n; i++) {
    const c = compareUtf8(at[i] as string, bt[i] as string);
    if (c !== 0) return c;
  }
  return at.length - bt.length;
}

function sortedByName(stats: readonly StatSample[]): StatSample[] {
  return [...stats].sort((a, b) => compareUtf8(a.name, b.name));
}

/** `/stats`: `name: value` lines, counters and gauges interleaved in name order. */
export function statsText(
  stats: readonly StatSample[],
  options: StatsOptions = {},
): string | StatsQueryError {
  const shown = selectStats(stats, options);
  if (isStatsQueryError(shown)) return shown;
  return sortedByName(shown)
    .map((s) => `${s.name}: ${formatValue(s.value)}\n`)
    .join("");
}

export interface StatsJson {
  stats: Array<{ name: string; value: number }>;
}

/** `/stats?format=json`: the same stats in the same order; serialise compactly, as Envoy does. */
export function statsJson(
  stats: readonly StatSample[],
  options: StatsOptions = {},
): StatsJson | StatsQueryError {
  const shown = selectStats(stats, options);
  if (isStatsQueryError(shown)) return shown;
  return { stats: sortedByName(shown).map((s) => ({ name: s.name, value: s.value })) };
}

/** Prometheus names and label names: anything outside [a-zA-Z0-9_] becomes `_`. */
export function sanitizePrometheusName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

/** PrometheusStatsFormatter::metricName for a name in no custom namespace. */
export function prometheusMetricName(tagExtractedName: string): string {
  return `envoy_${sanitizePrometheusName(tagExtractedName)}`;
}

/** sanitizeValue: `\` → `\\`, newline → `\n`, `"` → `\"`, as Prometheus' own text encoder does. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\\n"]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** PrometheusStatsFormatter::formattedTags: `name="value"` joined with commas, in tag order. */
export function formatLabels(tags: readonly Tag[]): string {
  return tags.map((t) => `${sanitizePrometheusName(t.name)}="${escapeLabelValue(t.value)}"`).join(",");
}

interface Member {
  readonly stat: StatSample;
  readonly tags: readonly Tag[];
}

function prometheusGroups(stats: readonly StatSample[], type: StatView["type"]): string {
  const groups = new Map<string, Member[]>();
  for (const stat of stats) {
    if (stat.type !== type) continue;
    const { tagExtractedName, tags } = extractTags(stat.name);
    let group = groups.get(tagExtractedName);
    if (!group) {
      group = [];
      groups.set(tagExtractedName, group);
    }
    group.push({ stat, tags });
  }
  let out = "";
  for (const name of [...groups.keys()].sort(compareStatNames)) {
    const metric = prometheusMetricName(name);
    out += `# TYPE ${metric} ${type}\n`;
    const members = [...(groups.get(name) ?? [])].sort((a, b) => compareStatNames(a.stat.name, b.stat.name));
    for (const m of members) out += `${metric}{${formatLabels(m.tags)}} ${formatValue(m.stat.value)}\n`;
  }
  return out;
}

/** `/stats/prometheus` (text exposition 0.0.4) for the counters and gauges. */
export function prometheusText(
  stats: readonly StatSample[],
  options: StatsOptions = {},
): string | StatsQueryError {
  const shown = selectStats(stats, options);
  if (isStatsQueryError(shown)) return shown;
  return prometheusGroups(shown, "counter") + prometheusGroups(shown, "gauge");
}

/** Envoy's values are uint64 and print as plain decimal integers. */
function formatValue(value: number): string {
  if (Number.isSafeInteger(value)) return String(value);
  return Number.isFinite(value) ? BigInt(Math.trunc(value)).toString() : "0";
}
