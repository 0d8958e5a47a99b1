/**
 * What Istio's admission says about one object: errors (the object is refused) and warnings
 * (`kubectl` prints `Warning: …` and applies it), each with the field it is about.
 */
import type { FieldPath } from "../manifests/types.js";

export type AdmissionLayer =
  /** The CRD's structural schema, checked by the Kubernetes API server. */
  | "crd"
  /** istiod's validating webhook (validation.istio.io). */
  | "webhook";

export interface AdmissionFinding {
  readonly layer: AdmissionLayer;
  readonly severity: "error" | "warning";
  readonly path: FieldPath;
  /** Istio's own text for it. */
  readonly message: string;
}

/** Collects a webhook validation's findings, in the order Istio's code produces them. */
export class Findings {
  readonly #out: AdmissionFinding[];
  readonly #warnings: boolean;

  constructor(out: AdmissionFinding[] = [], warnings = true) {
    this.#out = out;
    this.#warnings = warnings;
  }

  get list(): readonly AdmissionFinding[] {
    return this.#out;
  }

  error(path: FieldPath, message: string): void {
    this.#out.push({ layer: "webhook", severity: "error", path, message });
  }

  warn(path: FieldPath, message: string): void {
    if (this.#warnings) this.#out.push({ layer: "webhook", severity: "warning", path, message });
  }

  /**
   * The same list for a nested check whose warnings Istio drops: where it joins results with
   * appendErrors, which keeps only the errors (subsets, port-level traffic policies).
   */
  withoutWarnings(): Findings {
    return new Findings(this.#out, false);
  }

  /** How many errors so far, to tell whether a check added one. */
  get errorCount(): number {
    return this.#out.filter((f) => f.severity === "error").length;
  }
}
