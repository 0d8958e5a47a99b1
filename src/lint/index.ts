import type { ManifestSet } from "../manifests/index.js";
import { LintContext } from "./context.js";
import { checkCrossReferences } from "./cross-references.js";
import { checkIstioValidation } from "./istio-validation.js";
import { checkPitfalls } from "./pitfalls.js";
import { checkSchema } from "./schema.js";
import type { Finding } from "./types.js";

export { RULES, type RuleId, type RuleInfo, type Severity } from "./rules.js";
export type { Finding } from "./types.js";

export interface LintOptions {
  /** xref/* rules; off for a file linted without the objects it names. Default on. */
  readonly crossReferences?: boolean;
}

/** Runs every rule group over a set of manifests; findings are sorted by file, line and rule. */
export async function lintManifests(set: ManifestSet, options: LintOptions = {}): Promise<Finding[]> {
  const ctx = new LintContext(set);
  await checkSchema(ctx, set);
  checkIstioValidation(ctx);
  if (options.crossReferences !== false) checkCrossReferences(ctx);
  checkPitfalls(ctx);
  return ctx.findings.toSorted(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.ruleId.localeCompare(b.ruleId) ||
      a.message.localeCompare(b.message),
  );
}

/** `file:line kind/name rule-id message` */
export function formatFinding(finding: Finding): string {
  return `${finding.file}:${finding.line} ${finding.kind}/${finding.name} ${finding.ruleId} ${finding.message}`;
}

export function countBySeverity(findings: readonly Finding[]): { errors: number; warnings: number } {
  const errors = findings.filter((f) => f.severity === "error").length;
  return { errors, warnings: findings.length - errors };
}
