/**
 * Findings of the admission rules in the words `kubectl apply` prints for them, so that a file the
 * local mesh refuses reads as it would against a cluster:
 * - the API server's schema and CEL rules: `The DestinationRule "r" is invalid: <error>`, several as
 *   a `* ` list (kubectl's cmdutil.CheckErr for an Invalid status);
 * - istiod's webhook: `Error from server: error when creating "<file>": admission webhook
 *   "validation.istio.io" denied the request: configuration is invalid: <error>`, several errors in
 *   go-multierror's layout (istio/istio pkg/webhooks/validation/server/server.go);
 * - its warnings on an accepted object: `Warning: <text>`.
 */
import type { Finding } from "./types.js";

const SCHEMA_RULES = new Set(["schema/invalid", "schema/unknown-field", "istio/crd-rule"]);

/** The rule's own text: the message without `Kind name: ` before it and the reason after it. */
function detail(finding: Finding): string {
  const text = finding.message.split(" — ")[0] ?? "";
  const prefix = `${finding.kind} ${finding.name}: `;
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

/** go-multierror's text for one or several errors (Istio returns a lone error as it is). */
function multiError(errors: readonly string[]): string {
  if (errors.length === 1) return errors[0] ?? "";
  return `${errors.length} errors occurred:\n${errors.map((e) => `\t* ${e}`).join("\n")}\n\n`;
}

/** kubectl's lines for a refused file, one block per refused object, in the findings' order. */
export function kubectlDenials(file: string, findings: readonly Finding[]): string[] {
  const byObject = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.severity !== "error" || (!SCHEMA_RULES.has(f.ruleId) && f.ruleId !== "istio/webhook")) continue;
    const key = `${f.kind}/${f.name}`;
    byObject.set(key, [...(byObject.get(key) ?? []), f]);
  }
  const out: string[] = [];
  for (const [, group] of byObject) {
    const first = group[0] as Finding;
    const schema = group.filter((f) => SCHEMA_RULES.has(f.ruleId)).map(detail);
    if (schema.length > 0) {
      out.push(
        schema.length === 1
          ? `The ${first.kind} "${first.name}" is invalid: ${schema[0]}`
          : `The ${first.kind} "${first.name}" is invalid: \n${schema.map((e) => `* ${e}`).join("\n")}`,
      );
      continue;
    }
    const webhook = group.map(detail);
    out.push(
      `Error from server: error when creating "${file}": admission webhook "validation.istio.io" denied the request: configuration is invalid: ${multiError(webhook)}`,
    );
  }
  return out;
}

/** kubectl's `Warning:` lines for istiod's warnings on accepted objects. */
export function kubectlWarnings(findings: readonly Finding[]): string[] {
  return findings.filter((f) => f.ruleId === "istio/webhook-warning").map((f) => `Warning: ${detail(f)}`);
}
