import { hashKeyProblems } from "../lb/hash-key-syntax.js";
import { formatPath, type ManifestDocument } from "../manifests/index.js";
import { hasWebhookValidation, validateWebhook } from "../validation/index.js";
import type { LintContext } from "./context.js";

/**
 * What `kubectl apply` gets back from istiod's validating webhook (../validation/), in admission
 * order: only objects the API server's schema and CEL rules let through reach it, and when it
 * refuses an object its warnings are not shown. Besides, the hash keys Envoy would refuse or write
 * into Set-Cookie as they are (../lb/hash-key-syntax.ts, shared with the mesh's apply).
 */
export function checkIstioValidation(ctx: LintContext): void {
  for (const doc of [...ctx.destinationRules, ...ctx.virtualServices, ...ctx.gateways]) {
    if (ctx.hasError(doc) || !hasWebhookValidation(doc.kind)) continue;
    const findings = validateWebhook(doc.kind, doc.object, doc.namespace ?? "default", doc.name);
    const refused = findings.some((f) => f.severity === "error");
    for (const f of findings) {
      if (refused && f.severity === "warning") continue;
      ctx.report(
        doc,
        f.path,
        f.severity === "error" ? "istio/webhook" : "istio/webhook-warning",
        `${doc.kind} ${doc.name}: ${f.message}`,
      );
    }
  }
  for (const rule of ctx.destinationRules) checkHashKeys(ctx, rule);
}

/** Every consistentHash of a rule: top level, per subset, per port (LintContext.hashPolicies). */
function checkHashKeys(ctx: LintContext, rule: ManifestDocument): void {
  for (const policy of ctx.hashPolicies(rule)) {
    for (const problem of hashKeyProblems(policy.hash)) {
      const at = [...policy.path, ...problem.path];
      ctx.report(
        rule,
        at,
        problem.kind === "cookie" ? "envoy/cookie-syntax" : "envoy/hash-key-name",
        `DestinationRule ${rule.name}: ${formatPath(at)} ${problem.message}`,
      );
    }
  }
}
