/**
 * Istio's own validation test tables, restated as YAML objects (test/fixtures/validation/): every
 * document carries `_expect` — `valid`, and optionally `warning` (whether istiod warns), `error` and
 * `warningText` (substrings of the messages, as Istio's checkValidationMessage compares them) and
 * `source` (the Istio test and case it comes from).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { validateWebhook } from "../../src/validation/index.js";

const ROOT = join(import.meta.dirname, "..", "fixtures", "validation");

interface Expectation {
  readonly valid: boolean;
  readonly warning?: boolean;
  readonly error?: string;
  readonly warningText?: string;
  readonly source: string;
}

function files(): string[] {
  return readdirSync(ROOT, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".yaml"))
    .sort();
}

describe("istiod's validation test tables as fixtures", () => {
  for (const file of files()) {
    it(`${file}: every case gets Istio's answer`, () => {
      const docs = parseAllDocuments(readFileSync(join(ROOT, file), "utf8")).map(
        (d) => d.toJS() as Record<string, unknown>,
      );
      assert.ok(docs.length > 0);
      for (const doc of docs) {
        const { _expect, ...object } = doc as { _expect: Expectation } & Record<string, unknown>;
        assert.ok(_expect?.source, `${file}: a document without _expect.source`);
        const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
        const findings = validateWebhook(
          String(object.kind),
          object,
          metadata.namespace ?? "default",
          metadata.name ?? "",
        );
        const errors = findings.filter((f) => f.severity === "error").map((f) => f.message);
        const warnings = findings.filter((f) => f.severity === "warning").map((f) => f.message);
        const where = `${file}: ${_expect.source}`;
        assert.equal(errors.length === 0, _expect.valid, `${where}: errors ${JSON.stringify(errors)}`);
        if (_expect.warning !== undefined) {
          assert.equal(
            warnings.length > 0,
            _expect.warning,
            `${where}: warnings ${JSON.stringify(warnings)}`,
          );
        }
        if (_expect.error !== undefined) {
          assert.ok(
            errors.some((e) => e.includes(_expect.error as string)),
            `${where}: no error contains ${JSON.stringify(_expect.error)} in ${JSON.stringify(errors)}`,
          );
        }
        if (_expect.warningText !== undefined) {
          assert.ok(
            warnings.some((w) => w.includes(_expect.warningText as string)),
            `${where}: no warning contains ${JSON.stringify(_expect.warningText)} in ${JSON.stringify(warnings)}`,
          );
        }
      }
    });
  }
});
