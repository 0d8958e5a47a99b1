/**
 * `explain`: why affinity holds or breaks on a proxy, and where each session lands. One code path for
 * every input: a config dump (a real istio-proxy's, Envoy's admin, the local mesh's) becomes a
 * ProxyView; each path a request takes through it is diagnosed and, when asked, placed. Pure.
 */
import { field, isObject, str } from "../proxy-config/config-dump.js";
import type { Finding, RouteContext, Verdict } from "./context.js";
import { diagnose, verdictOf } from "./diagnoses.js";
import { type Placement, type PlacementOptions, place } from "./placement.js";
import type { ProxyView } from "./proxy-view.js";
import { type TraceOptions, trace } from "./trace.js";
import { versionNotes } from "./version-notes.js";

export interface ExplainOptions extends TraceOptions {
  readonly placement?: PlacementOptions;
}

/** The JSON report's version; a change of its shape changes it (docs/explain.md). */
export const EXPLAIN_SCHEMA = "session-affinity.explain/v1";

export interface RouteReport {
  readonly listener: { readonly name: string; readonly path: string };
  readonly routeConfig?: { readonly name: string; readonly path: string };
  readonly virtualHost?: {
    readonly name: string;
    readonly domains: readonly string[];
    readonly path: string;
  };
  /** Absent when no route matched the request (Envoy answers 404, NR). */
  readonly route?: { readonly name: string; readonly match: unknown; readonly path: string };
  readonly tcpProxy?: boolean;
  readonly clusters: readonly {
    readonly name: string;
    readonly weight: number;
    readonly path?: string;
    readonly lbPolicy?: string;
    readonly hosts: readonly {
      readonly address: string;
      readonly weight: number;
      readonly health: string;
      readonly ejected: boolean;
      readonly zone?: string;
      readonly priority: number;
    }[];
  }[];
  readonly hashPolicy: unknown;
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  readonly placement: readonly Placement[];
}

export interface ExplainReport {
  readonly schema: typeof EXPLAIN_SCHEMA;
  readonly source: string;
  readonly proxy: ProxyView["proxy"];
  /** The least sticky verdict of all routes reported. */
  readonly verdict: Verdict;
  readonly routes: readonly RouteReport[];
}

const RANK: Record<Verdict, number> = { sticky: 0, "sticky-with-caveats": 1, "not-sticky": 2 };

function routeReport(ctx: RouteContext, options: ExplainOptions): RouteReport {
  const findings = [...diagnose(ctx), ...versionNotes(ctx.proxy, ctx)];
  const route = ctx.route;
  const vh = ctx.virtualHost;
  return {
    listener: { name: str(ctx.listener.value.name), path: ctx.listener.path },
    ...(ctx.routeConfig
      ? { routeConfig: { name: str(ctx.routeConfig.value.name), path: ctx.routeConfig.path } }
      : {}),
    ...(vh
      ? {
          virtualHost: {
            name: str(vh.value.name),
            domains: Array.isArray(vh.value.domains) ? vh.value.domains.map(str) : [],
            path: vh.path,
          },
        }
      : {}),
    ...(route
      ? {
          route: {
            name:
              str(route.value.name) ||
              str(field(route.value, "metadata", "filterMetadata", "istio", "config")),
            match: route.value.match,
            path: route.path,
          },
        }
      : {}),
    ...(ctx.tcpProxy ? { tcpProxy: true } : {}),
    clusters: ctx.clusters.map((c) => ({
      name: c.name,
      weight: c.weight,
      ...(c.cluster
        ? { path: c.cluster.path, lbPolicy: str(c.cluster.value.lbPolicy) || "ROUND_ROBIN" }
        : {}),
      hosts: c.hosts.map((h) => ({
        address: h.address,
        weight: h.weight,
        health: h.health,
        ejected: h.failedOutlierCheck,
        ...(h.locality.zone ? { zone: h.locality.zone } : {}),
        priority: h.priority,
      })),
    })),
    hashPolicy: isObject(route?.value.route) ? (route.value.route.hashPolicy ?? []) : [],
    verdict: verdictOf(findings),
    findings,
    placement: options.placement
      ? ctx.clusters.flatMap((c) => place(ctx, c, options.placement as PlacementOptions) ?? [])
      : [],
  };
}

export function explain(view: ProxyView, options: ExplainOptions): ExplainReport {
  const routes = trace(view, options).map((ctx) => routeReport(ctx, options));
  const verdict = routes.reduce<Verdict>(
    (worst, r) => (RANK[r.verdict] > RANK[worst] ? r.verdict : worst),
    "sticky",
  );
  return { schema: EXPLAIN_SCHEMA, source: view.source, proxy: view.proxy, verdict, routes };
}
