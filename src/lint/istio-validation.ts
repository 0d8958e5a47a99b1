import { hashKeyProblems } from "../lb/hash-key-syntax.js";
import { type FieldPath, formatPath, type ManifestDocument } from "../manifests/index.js";
import { hasWebhookValidation, validateWebhook } from "../validation/index.js";
import { asArray, get, type LintContext } from "./context.js";

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

/** Every consistentHash of a rule: top level, per port, per subset (and their ports). */
function checkHashKeys(ctx: LintContext, rule: ManifestDocument): void {
  const policies: FieldPath[] = [["spec", "trafficPolicy"]];
  for (const [i] of asArray(get(rule.object, "spec", "subsets")).entries())
    policies.push(["spec", "subsets", i, "trafficPolicy"]);
  for (const policy of [...policies]) {
    for (const [j] of asArray(get(rule.object, ...policy, "portLevelSettings")).entries()) {
      policies.push([...policy, "portLevelSettings", j]);
    }
  }
  for (const policy of policies) {
    const hashPath = [...policy, "loadBalancer", "consistentHash"];
    for (const problem of hashKeyProblems(get(rule.object, ...hashPath))) {
      const at = [...hashPath, ...problem.path];
      ctx.report(
        rule,
        at,
        problem.kind === "cookie" ? "envoy/cookie-syntax" : "envoy/hash-key-name",
        `DestinationRule ${rule.name}: ${formatPath(at)} ${problem.message}`,
      );
    }
  }
}
