/**
 * Istio's CRD test data (pkg/config/validation/testdata/crds/) through the API server's layer: the
 * schema package and the CRDs' CEL rules (src/validation/crd-rules.ts).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { formatPath, validateSchema } from "../../src/manifests/index.js";
import { crdRuleFindings } from "../../src/validation/index.js";

const ROOT = join(import.meta.dirname, "..", "fixtures", "validation-crd");

describe("Istio's CRD test data through the schema and CEL layer", () => {
  for (const file of readdirSync(ROOT).filter((f) => f.endsWith(".yaml"))) {
    it(`${file}: every document gets the API server's verdict`, async () => {
      for (const doc of parseAllDocuments(readFileSync(join(ROOT, file), "utf8"))) {
        const { _expect, ...object } = doc.toJS() as {
          _expect: { valid: boolean; error?: string; source: string };
        } & Record<string, unknown>;
        const schema = await validateSchema(object);
        assert.equal(schema.status, "validated");
        const messages = [
          ...(schema.status === "validated"
            ? schema.issues.map((i) => `${formatPath(i.path)}: ${i.message}`)
            : []),
          ...crdRuleFindings(String(object.kind), object).map((f) => f.message),
        ];
        assert.equal(messages.length === 0, _expect.valid, `${_expect.source}: ${JSON.stringify(messages)}`);
        if (_expect.error) {
          assert.ok(
            messages.some((m) => m.includes(_expect.error as string)),
            `${_expect.source}: ${JSON.stringify(messages)}`,
          );
        }
      }
    });
  }
});
