/**
 * Why session affinity holds, is weakened or breaks on one route of a proxy's configuration: every
 * reason found, each with the dump's evidence, the Istio setting that removes it and the upstream
 * source of the behaviour. The ids and their meaning are listed in docs/explain.md. Pure.
 */
import type { Finding, RouteContext, Severity, Verdict } from "./context.js";
import {
  gatewayReplicas,
  localityBalancing,
  panicMode,
  ringTooSmall,
  unreachableClusters,
} from "./diagnoses-cluster.js";
import {
  cookies,
  noConsistentHash,
  noHashPolicy,
  notHttp,
  persistentSession,
  retryLeavesHashedHost,
  unroutable,
  weightedClusters,
} from "./diagnoses-route.js";

const ORDER: Record<Severity, number> = { breaks: 0, caveat: 1, note: 2 };

/** Every reason affinity breaks or is weakened on this route, the most severe first. */
export function diagnose(ctx: RouteContext): Finding[] {
  const unreached = unroutable(ctx);
  // With no route, or a route answered by the proxy itself, nothing else of the route applies.
  if (unreached.length > 0) return unreached;
  const findings = [
    ...notHttp(ctx),
    ...unreachableClusters(ctx),
    ...noHashPolicy(ctx),
    ...noConsistentHash(ctx),
    ...weightedClusters(ctx),
    ...cookies(ctx),
    ...persistentSession(ctx),
    ...retryLeavesHashedHost(ctx),
    ...panicMode(ctx),
    ...localityBalancing(ctx),
    ...ringTooSmall(ctx),
    ...gatewayReplicas(ctx),
  ];
  // Array.prototype.sort is stable: within a severity the order above is kept.
  return findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
}

/** Any "breaks" → not sticky; any "caveat" → sticky with caveats; otherwise (notes only) sticky. */
export function verdictOf(findings: readonly Finding[]): Verdict {
  if (findings.some((f) => f.severity === "breaks")) return "not-sticky";
  if (findings.some((f) => f.severity === "caveat")) return "sticky-with-caveats";
  return "sticky";
}
