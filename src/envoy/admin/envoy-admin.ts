/**
 * Envoy's own admin endpoints for the gateway (envoy: source/server/admin/): /config_dump,
 * /server_info, /clusters, /stats and /stats/prometheus, with Envoy's query parameters, content types
 * and error answers. JSON is printed as Envoy's protobuf printer pretty-prints it (one space per
 * level), with proto3 JSON names (lowerCamelCase, as istioctl prints them; Envoy itself prints the
 * proto field names; both parse as the same message).
 */
import { clustersJson, clustersText } from "./clusters.js";
import { configDump } from "./config-dump.js";
import { clusterStatusViews, type GatewayBooks, gatewayStats } from "./gateway-views.js";
import { serverInfo } from "./server-info.js";
import { isStatsQueryError, prometheusText, statsJson, statsText } from "./stats.js";
import type { ProxyIdentity } from "./views.js";

export interface AdminReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface EnvoyAdminSource {
  readonly books: GatewayBooks;
  readonly identity: ProxyIdentity;
  readonly now: () => number;
}

/** The Envoy admin paths answered here. */
export const ENVOY_ADMIN_PATHS: ReadonlySet<string> = new Set([
  "/config_dump",
  "/server_info",
  "/clusters",
  "/stats",
  "/stats/prometheus",
]);

const json = (body: unknown): AdminReply => ({
  status: 200,
  contentType: "application/json",
  body: `${JSON.stringify(body, null, 1)}\n`,
});
const text = (status: number, body: string, contentType = "text/plain; charset=UTF-8"): AdminReply => ({
  status,
  contentType,
  body,
});

/** Envoy's admin answer for `path`, or undefined when it is not one of the paths above. */
export function envoyAdminReply(
  path: string,
  query: URLSearchParams,
  source: EnvoyAdminSource,
): AdminReply | undefined {
  const { books, identity } = source;
  const now = source.now();
  const param = (name: string) => query.get(name) ?? undefined;
  switch (path) {
    case "/config_dump": {
      const applied = books.dataPlane.applied;
      if (!applied) return json({});
      const result = configDump(
        applied,
        identity,
        {
          includeEds: query.has("include_eds"),
          ...(param("resource") ? { resource: param("resource") } : {}),
          ...(param("mask") ? { mask: param("mask") } : {}),
          ...(param("name_regex") ? { nameRegex: param("name_regex") } : {}),
        },
        now,
      );
      return result.status === 200 ? json(result.body) : text(result.status, result.message);
    }
    case "/server_info":
      return json(serverInfo(identity, books.dataPlane.applied, now));
    case "/clusters": {
      const views = clusterStatusViews(books);
      return query.get("format") === "json" ? json(clustersJson(views)) : text(200, clustersText(views));
    }
    case "/stats":
    case "/stats/prometheus": {
      const options = {
        ...(param("filter") ? { filter: param("filter") } : {}),
        usedOnly: query.has("usedonly"),
      };
      const stats = gatewayStats(books);
      const out =
        path === "/stats/prometheus"
          ? prometheusText(stats, options)
          : query.get("format") === "json"
            ? statsJson(stats, options)
            : statsText(stats, options);
      if (isStatsQueryError(out)) return text(out.status, out.body);
      if (typeof out !== "string") return json(out);
      return path === "/stats/prometheus"
        ? text(200, out, "text/plain; version=0.0.4; charset=UTF-8")
        : text(200, out);
    }
  }
  return undefined;
}
