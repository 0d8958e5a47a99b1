import { isPlainObject, type ManifestDocument, objectRef } from "../manifests/index.js";
import {
  asArray,
  get,
  hashesHttpData,
  type Json,
  type LintContext,
  labelsMatch,
  sameNamespace,
  stringMap,
  type Workload,
} from "./context.js";

/**
 * Settings that Kubernetes and Istio accept but that break or silently weaken session affinity.
 * Each is a warning: the configuration is valid, the result is probably not what was meant.
 */
export function checkPitfalls(ctx: LintContext): void {
  for (const rule of ctx.destinationRules) checkHashRule(ctx, rule);
  for (const service of ctx.services) checkService(ctx, service);
  for (const vs of ctx.virtualServices) checkRoutes(ctx, vs);
  checkPassthroughGateways(ctx);
  checkGatewayReplicas(ctx);
  checkGatewayApi(ctx);
  checkTerminationGrace(ctx);
}

/** The app's session cookie: COOKIE_NAME when set, "sid" for this project's container otherwise. */
function appCookieNames(workloads: readonly Workload[]): Set<string> {
  const names = new Set<string>();
  for (const w of workloads) {
    for (const container of w.containers) {
      const env = asArray(container.env).filter(isPlainObject);
      const cookie = env.find((e) => e.name === "COOKIE_NAME");
      if (typeof cookie?.value === "string") names.add(cookie.value);
      else if (
        env.some((e) => e.name === "SESSION_STORE") ||
        String(container.image).includes("session-affinity")
      ) {
        names.add("sid");
      }
    }
  }
  return names;
}

const HASH_KEYS = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"] as const;

function checkHashRule(ctx: LintContext, rule: ManifestDocument): void {
  const service = ctx.serviceOf(rule);
  const policies = ctx.hashPolicies(rule);
  const host = String(get(rule.object, "spec", "host"));

  if (!host.includes(".")) {
    const resolved = ctx.resolveHost(host, rule.namespace);
    if (resolved.status === "missing" && resolved.elsewhere) {
      ctx.report(
        rule,
        ["spec", "host"],
        "pitfall/short-host-other-namespace",
        `DestinationRule ${rule.name}: host "${host}" is looked up in namespace ${rule.namespace ?? "(unset)"}, but Service ${host} is in ${resolved.elsewhere.namespace}; write ${host}.${resolved.elsewhere.namespace}.svc.cluster.local`,
      );
    }
  }

  const cookies = service ? appCookieNames(ctx.workloadsBehind(service)) : new Set<string>();
  for (const policy of policies) {
    if (!HASH_KEYS.some((key) => policy.hash[key] !== undefined)) {
      ctx.report(
        rule,
        policy.path,
        "pitfall/consistent-hash-without-key",
        `DestinationRule ${rule.name}: consistentHash names no hash key (httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName), so no request is sticky`,
      );
    }
    const cookie = policy.hash.httpCookie;
    if (isPlainObject(cookie)) {
      if (cookie.ttl === undefined) {
        ctx.report(
          rule,
          [...policy.path, "httpCookie"],
          "pitfall/cookie-without-ttl",
          `DestinationRule ${rule.name}: httpCookie "${String(cookie.name)}" has no ttl, so the gateway never sets it`,
        );
      }
      if (typeof cookie.name === "string" && cookies.has(cookie.name)) {
        ctx.report(
          rule,
          [...policy.path, "httpCookie", "name"],
          "pitfall/cookie-name-collision",
          `DestinationRule ${rule.name}: httpCookie "${cookie.name}" is also the app's session cookie`,
        );
      }
    }
    if (policy.trafficPolicy.outlierDetection !== undefined) {
      ctx.report(
        rule,
        [...policy.trafficPolicyPath, "outlierDetection"],
        "pitfall/hash-with-outlier-detection",
        `DestinationRule ${rule.name}: consistentHash is combined with outlierDetection`,
      );
    }
  }
}

function checkService(ctx: LintContext, service: ManifestDocument): void {
  if (get(service.object, "spec", "sessionAffinity") === "ClientIP") {
    ctx.report(
      service,
      ["spec", "sessionAffinity"],
      "pitfall/client-ip-affinity",
      `Service ${service.name}: sessionAffinity ClientIP has no effect on traffic through Istio proxies`,
    );
  }

  const persistentCookie = stringMap(get(service.object, "metadata", "labels"))[
    "istio.io/persistent-session"
  ];
  const behind = ctx.workloadsBehind(service);
  if (persistentCookie !== undefined) {
    const cookieName = persistentCookie.split(":")[0] ?? "";
    if (appCookieNames(behind).has(cookieName)) {
      ctx.report(
        service,
        ["metadata", "labels", "istio.io/persistent-session"],
        "pitfall/cookie-name-collision",
        `Service ${service.name}: persistent-session cookie "${cookieName}" is also the app's session cookie`,
      );
    }
  }

  const policies = ctx.hashPoliciesFor(service);
  if (policies.length === 0) return;

  if (policies.some((p) => hashesHttpData(p.hash))) {
    for (const [i, port] of asArray(get(service.object, "spec", "ports")).entries()) {
      if (!isPlainObject(port) || isHttpPort(port)) continue;
      const label =
        port.name === undefined
          ? `port ${String(port.port)}`
          : `port ${String(port.port)} (name "${String(port.name)}")`;
      ctx.report(
        service,
        ["spec", "ports", i],
        "pitfall/port-not-http",
        `Service ${service.name}: ${label} has no http appProtocol or name prefix, but DestinationRule ${policies[0]?.rule.name} hashes on HTTP data`,
      );
    }
  }

  for (const workload of behind) {
    if (workload.replicas === undefined && workload.doc.kind === "DaemonSet") continue;
    const replicas = workload.replicas ?? 1;
    if (replicas !== 1 || autoscaled(ctx, workload)) continue;
    ctx.report(
      workload.doc,
      workload.replicas === undefined ? ["spec"] : ["spec", "replicas"],
      "pitfall/single-replica",
      `${objectRef(workload.doc)}: ${workload.replicas === undefined ? "replicas defaults to 1" : "replicas is 1"} behind consistent-hash Service ${service.name}`,
    );
  }
}

function isHttpPort(port: Json): boolean {
  const http = ["http", "http2", "grpc", "grpc-web", "h2c"];
  if (typeof port.appProtocol === "string") {
    const proto = port.appProtocol.toLowerCase();
    return http.includes(proto) || proto === "kubernetes.io/h2c" || proto === "kubernetes.io/ws";
  }
  const name = typeof port.name === "string" ? port.name.toLowerCase() : "";
  return http.some((p) => name === p || name.startsWith(`${p}-`));
}

function autoscaled(ctx: LintContext, workload: Workload): boolean {
  return ctx.documents.some(
    (d) =>
      d.kind === "HorizontalPodAutoscaler" &&
      sameNamespace(d.namespace, workload.doc.namespace) &&
      get(d.object, "spec", "scaleTargetRef", "kind") === workload.doc.kind &&
      get(d.object, "spec", "scaleTargetRef", "name") === workload.doc.name &&
      Number(get(d.object, "spec", "maxReplicas")) > 1,
  );
}

function checkRoutes(ctx: LintContext, vs: ManifestDocument): void {
  const spec = get(vs.object, "spec");
  const hashedService = (host: unknown) => {
    if (typeof host !== "string") return undefined;
    const resolved = ctx.resolveHost(host, vs.namespace);
    if (resolved.status !== "service") return undefined;
    const policies = ctx.hashPoliciesFor(resolved.service);
    return policies.length > 0 ? { service: resolved.service, policies } : undefined;
  };

  for (const [r, route] of asArray(get(spec, "http")).entries()) {
    const destinations = asArray(get(route, "route"));
    const hashed = destinations.map((d) => hashedService(get(d, "destination", "host")));
    if (destinations.length > 1 && hashed.some(Boolean)) {
      const subsets = destinations.some((d) => get(d, "destination", "subset") !== undefined);
      ctx.report(
        vs,
        ["spec", "http", r, "route"],
        "pitfall/hash-weighted-destinations",
        `VirtualService ${vs.name}: http[${r}] splits over ${destinations.length} ${subsets ? "subset " : ""}destinations of a consistent-hash host`,
      );
    }
    for (const [d, dest] of destinations.entries()) {
      const target = hashed[d];
      if (!target || get(dest, "destination", "port", "number") !== undefined) continue;
      const portLevel = target.policies.find((p) => p.scope === "port");
      if (portLevel) {
        ctx.report(
          vs,
          ["spec", "http", r, "route", d, "destination"],
          "pitfall/port-level-hash-without-route-port",
          `VirtualService ${vs.name}: destination ${String(get(dest, "destination", "host"))} names no port, so DestinationRule ${portLevel.rule.name}'s port-level consistentHash is not applied`,
        );
      }
    }
  }

  for (const section of ["tls", "tcp"] as const) {
    for (const [r, route] of asArray(get(spec, section)).entries()) {
      for (const [d, dest] of asArray(get(route, "route")).entries()) {
        const target = hashedService(get(dest, "destination", "host"));
        const httpHash = target?.policies.find((p) => hashesHttpData(p.hash));
        if (!target || !httpHash) continue;
        ctx.report(
          vs,
          ["spec", section, r, "route", d, "destination"],
          "pitfall/tls-passthrough",
          `VirtualService ${vs.name}: ${section} route to ${target.service.name}, which DestinationRule ${httpHash.rule.name} hashes on HTTP data`,
        );
      }
    }
  }
}

function checkPassthroughGateways(ctx: LintContext): void {
  const httpHash = ctx.destinationRules.find((dr) =>
    ctx.hashPolicies(dr).some((p) => hashesHttpData(p.hash)),
  );
  if (!httpHash) return;
  for (const gateway of ctx.gateways) {
    for (const [i, server] of asArray(get(gateway.object, "spec", "servers")).entries()) {
      if (get(server, "tls", "mode") !== "PASSTHROUGH") continue;
      ctx.report(
        gateway,
        ["spec", "servers", i, "tls", "mode"],
        "pitfall/tls-passthrough",
        `Gateway ${gateway.name}: servers[${i}] passes TLS through while DestinationRule ${httpHash.name} hashes on HTTP data`,
      );
    }
  }
}

function checkGatewayReplicas(ctx: LintContext): void {
  const anyHash = ctx.destinationRules.some((dr) => ctx.hashPolicies(dr).length > 0);
  if (!anyHash) return;
  const seen = new Set<Workload>();
  for (const gateway of ctx.gateways) {
    const selector = stringMap(get(gateway.object, "spec", "selector"));
    if (Object.keys(selector).length === 0) continue;
    for (const workload of ctx.workloads) {
      if (seen.has(workload) || !labelsMatch(selector, workload.podLabels)) continue;
      seen.add(workload);
      const replicas = workload.replicas ?? 1;
      if (replicas <= 1 && !autoscaled(ctx, workload)) continue;
      ctx.report(
        workload.doc,
        workload.replicas === undefined ? ["spec"] : ["spec", "replicas"],
        "pitfall/hash-with-gateway-replicas",
        `${objectRef(workload.doc)}: gateway for ${objectRef(gateway)} runs ${autoscaled(ctx, workload) ? "autoscaled" : replicas} replicas while a DestinationRule uses consistentHash`,
      );
    }
  }
}

function checkGatewayApi(ctx: LintContext): void {
  for (const doc of ctx.documents) {
    if (
      !doc.apiVersion.startsWith("gateway.networking.k8s.io/") &&
      !doc.apiVersion.startsWith("gateway.networking.x-k8s.io/")
    ) {
      continue;
    }
    if (get(doc.object, "spec", "sessionPersistence") !== undefined) {
      ctx.report(
        doc,
        ["spec", "sessionPersistence"],
        "pitfall/gateway-api-session-persistence",
        `${doc.kind} ${doc.name}: sessionPersistence is set`,
      );
    }
    for (const [i, rule] of asArray(get(doc.object, "spec", "rules")).entries()) {
      if (get(rule, "sessionPersistence") === undefined) continue;
      ctx.report(
        doc,
        ["spec", "rules", i, "sessionPersistence"],
        "pitfall/gateway-api-session-persistence",
        `${doc.kind} ${doc.name}: rules[${i}].sessionPersistence is set`,
      );
    }
  }
}

function checkTerminationGrace(ctx: LintContext): void {
  for (const workload of ctx.workloads) {
    const grace = get(workload.doc.object, ...workload.podSpecPath, "terminationGracePeriodSeconds");
    const graceSeconds = typeof grace === "number" ? grace : 30;
    for (const container of workload.containers) {
      const env = asArray(container.env).filter(isPlainObject);
      const ms = (name: string) => {
        const value = env.find((e) => e.name === name)?.value;
        return typeof value === "string" && /^\d+$/.test(value) ? Number(value) : undefined;
      };
      const delay = ms("SHUTDOWN_DELAY_MS");
      if (delay === undefined) continue;
      const timeout = ms("SHUTDOWN_TIMEOUT_MS") ?? 0;
      if (graceSeconds * 1000 > delay + timeout) continue;
      ctx.report(
        workload.doc,
        grace === undefined
          ? [...workload.podSpecPath]
          : [...workload.podSpecPath, "terminationGracePeriodSeconds"],
        "pitfall/termination-grace",
        `${objectRef(workload.doc)}: terminationGracePeriodSeconds ${graceSeconds} is not above SHUTDOWN_DELAY_MS ${delay} + SHUTDOWN_TIMEOUT_MS ${timeout}`,
      );
    }
  }
}
