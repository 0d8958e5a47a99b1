import type { RuleId, Severity } from "./rules.js";

/** One thing the linter found, pointing at a line of a manifest. */
export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly name: string;
  readonly ruleId: RuleId;
  readonly severity: Severity;
  readonly message: string;
}
