/**
 * kubectl's table output for the views: the same columns and headers, columns padded to the widest
 * cell plus three spaces (kubectl's tabwriter), and AGE in kubectl's human duration. Pure.
 */
import type { ResourceName, ResourceViews } from "./views.js";

/** kubectl's `duration.HumanDuration`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join("")
      .trimEnd();
  return `${[headers, ...rows].map(line).join("\n")}\n`;
}

const list = (items: readonly string[]) => `[${items.join(" ")}]`;

/** The table `kubectl get <resource>` prints; `now` in ms since the epoch. */
export function renderResource(resource: ResourceName, views: ResourceViews, now: number): string {
  const age = (createdAt: number) => humanDuration(now - createdAt);
  switch (resource) {
    case "pods":
      return renderTable(
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        views.pods.map((p) => [
          p.name,
          `${p.ready ? 1 : 0}/1`,
          p.status,
          p.lastRestartAt === undefined ? String(p.restarts) : `${p.restarts} (${age(p.lastRestartAt)} ago)`,
          age(p.createdAt),
        ]),
      );
    case "deployments":
      return renderTable(
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        views.deployments.map((d) => [
          d.name,
          `${d.ready}/${d.replicas}`,
          String(d.upToDate),
          String(d.available),
          age(d.createdAt),
        ]),
      );
    case "services":
      return renderTable(
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
        views.services.map((s) => [s.name, s.type, "<none>", "<none>", s.ports.join(","), age(s.createdAt)]),
      );
    case "gateways":
      return renderTable(
        ["NAME", "AGE"],
        views.gateways.map((g) => [g.name, age(g.createdAt)]),
      );
    case "virtualservices":
      return renderTable(
        ["NAME", "GATEWAYS", "HOSTS", "AGE"],
        views.virtualservices.map((v) => [v.name, list(v.gateways), list(v.hosts), age(v.createdAt)]),
      );
    case "destinationrules":
      return renderTable(
        ["NAME", "HOST", "AGE"],
        views.destinationrules.map((d) => [d.name, d.host, age(d.createdAt)]),
      );
    case "endpoints":
      return renderTable(
        ["NAME", "ENDPOINTS", "AGE"],
        views.endpoints.map((e) => {
          const shown = e.addresses.slice(0, 3).map((a) => a.address);
          const more = e.addresses.length > 3 ? ` + ${e.addresses.length - 3} more...` : "";
          return [e.name, shown.length === 0 ? "<none>" : `${shown.join(",")}${more}`, age(e.createdAt)];
        }),
      );
  }
}

/** kubectl's resource names and short names. */
export const RESOURCE_ALIASES: Readonly<Record<string, ResourceName>> = {
  pods: "pods",
  pod: "pods",
  po: "pods",
  deployments: "deployments",
  deployment: "deployments",
  deploy: "deployments",
  "deployments.apps": "deployments",
  services: "services",
  service: "services",
  svc: "services",
  gateways: "gateways",
  gateway: "gateways",
  gw: "gateways",
  virtualservices: "virtualservices",
  virtualservice: "virtualservices",
  vs: "virtualservices",
  destinationrules: "destinationrules",
  destinationrule: "destinationrules",
  dr: "destinationrules",
  endpoints: "endpoints",
  ep: "endpoints",
};
