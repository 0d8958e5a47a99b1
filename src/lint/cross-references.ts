import { isPlainObject, type ManifestDocument, objectRef } from "../manifests/index.js";
import { asArray, get, type LintContext, sameNamespace, stringMap } from "./context.js";

/** References between objects: Service → pods and ports, VirtualService → gateways, hosts, subsets. */
export function checkCrossReferences(ctx: LintContext): void {
  for (const service of ctx.services) checkService(ctx, service);
  for (const vs of ctx.virtualServices) checkVirtualService(ctx, vs);
  for (const rule of ctx.destinationRules) checkDestinationRule(ctx, rule);
}

function checkService(ctx: LintContext, service: ManifestDocument): void {
  const selector = stringMap(get(service.object, "spec", "selector"));
  if (Object.keys(selector).length === 0) return;
  const candidates = ctx.workloads.filter((w) => sameNamespace(w.doc.namespace, service.namespace));
  // Without any workload in view there is nothing to compare against (a Service linted on its own).
  if (candidates.length === 0) return;
  const selected = ctx.workloadsBehind(service);
  if (selected.length === 0) {
    const wanted = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    ctx.report(
      service,
      ["spec", "selector"],
      "xref/service-selector",
      `Service ${service.name}: selector ${wanted} matches no pod template among ${candidates.map((w) => objectRef(w.doc)).join(", ")}`,
    );
    return;
  }
  for (const [i, port] of asArray(get(service.object, "spec", "ports")).entries()) {
    if (!isPlainObject(port)) continue;
    const target = port.targetPort ?? port.port;
    for (const workload of selected) {
      const declared = workload.containers.flatMap((c) => asArray(c.ports).filter(isPlainObject));
      const found = declared.some((p) =>
        typeof target === "string" ? p.name === target : p.containerPort === target,
      );
      if (!found) {
        const have = declared.map((p) =>
          p.name ? `${String(p.name)}/${String(p.containerPort)}` : String(p.containerPort),
        );
        ctx.report(
          service,
          ["spec", "ports", i, port.targetPort === undefined ? "port" : "targetPort"],
          "xref/target-port",
          `Service ${service.name}: targetPort ${JSON.stringify(target)} is not a container port of ${objectRef(workload.doc)} (declared: ${have.join(", ") || "none"})`,
        );
      }
    }
  }
}

function checkVirtualService(ctx: LintContext, vs: ManifestDocument): void {
  const spec = get(vs.object, "spec");
  for (const [i, ref] of asArray(get(spec, "gateways")).entries()) {
    if (typeof ref !== "string" || ref === "mesh") continue;
    const [namespace, name] = ref.includes("/") ? ref.split("/", 2) : [vs.namespace, ref];
    const exists = ctx.gateways.some((g) => g.name === name && sameNamespace(g.namespace, namespace));
    if (!exists) {
      ctx.report(
        vs,
        ["spec", "gateways", i],
        "xref/gateway",
        `VirtualService ${vs.name}: gateway "${ref}" is not among the linted manifests`,
      );
    }
  }
  for (const section of ["http", "tcp", "tls"] as const) {
    for (const [r, route] of asArray(get(spec, section)).entries()) {
      for (const [d, dest] of asArray(get(route, "route")).entries()) {
        const destination = get(dest, "destination");
        const host = get(destination, "host");
        if (typeof host !== "string") continue;
        const path = ["spec", section, r, "route", d, "destination", "host"];
        const resolved = ctx.resolveHost(host, vs.namespace);
        if (resolved.status === "missing") {
          const hint = resolved.elsewhere
            ? ` (a Service ${resolved.name} exists in namespace ${resolved.elsewhere.namespace}; use its FQDN)`
            : "";
          ctx.report(
            vs,
            path,
            "xref/route-host",
            `VirtualService ${vs.name}: destination host "${host}" matches no Service${hint}`,
          );
          continue;
        }
        const subset = get(destination, "subset");
        if (typeof subset === "string" && resolved.status === "service") {
          const defined = ctx.destinationRules
            .filter((dr) => ctx.serviceOf(dr) === resolved.service)
            .some((dr) => asArray(get(dr.object, "spec", "subsets")).some((s) => get(s, "name") === subset));
          if (!defined) {
            ctx.report(
              vs,
              ["spec", section, r, "route", d, "destination", "subset"],
              "xref/route-subset",
              `VirtualService ${vs.name}: subset "${subset}" of host "${host}" is defined by no DestinationRule`,
            );
          }
        }
      }
    }
  }
}

function checkDestinationRule(ctx: LintContext, rule: ManifestDocument): void {
  const host = get(rule.object, "spec", "host");
  if (typeof host !== "string") return;
  const resolved = ctx.resolveHost(host, rule.namespace);
  if (resolved.status === "missing") {
    // A short host whose Service lives elsewhere is its own pitfall, reported there.
    if (resolved.elsewhere && !host.includes(".")) return;
    ctx.report(
      rule,
      ["spec", "host"],
      "xref/destination-rule-host",
      `DestinationRule ${rule.name}: host "${host}" matches no Service`,
    );
    return;
  }
  if (resolved.status !== "service") return;
  const behind = ctx.workloadsBehind(resolved.service);
  if (behind.length === 0) return;
  for (const [i, subset] of asArray(get(rule.object, "spec", "subsets")).entries()) {
    const labels = stringMap(get(subset, "labels"));
    if (Object.keys(labels).length === 0) continue;
    const selects = behind.some((w) => Object.entries(labels).every(([k, v]) => w.podLabels[k] === v));
    if (!selects) {
      ctx.report(
        rule,
        ["spec", "subsets", i, "labels"],
        "xref/subset-labels",
        `DestinationRule ${rule.name}: subset "${String(get(subset, "name"))}" labels ${Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(",")} select no pod of Service ${resolved.service.name}`,
      );
    }
  }
}
