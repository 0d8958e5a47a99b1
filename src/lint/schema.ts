import { type ManifestSet, objectRef, validateSchema } from "../manifests/index.js";
import { crdRuleFindings } from "../validation/index.js";
import type { LintContext } from "./context.js";

/** Rules on the manifests' shape: YAML, identity, duplicates, and each object against its schema. */
export async function checkSchema(ctx: LintContext, set: ManifestSet): Promise<void> {
  for (const problem of set.problems) {
    ctx.reportAt(
      { file: problem.file, line: problem.line, kind: problem.kind ?? "-", name: "-" },
      `manifest/${problem.code}`,
      problem.message,
    );
  }

  const seen = new Map<string, string>();
  for (const doc of ctx.documents) {
    const key = `${doc.apiVersion.split("/")[0]}|${objectRef(doc)}`;
    const first = seen.get(key);
    if (first)
      ctx.report(
        doc,
        ["metadata", "name"],
        "manifest/duplicate",
        `${objectRef(doc)} is also defined at ${first}`,
      );
    else seen.set(key, `${doc.file}:${doc.line}`);
  }

  for (const doc of ctx.documents) {
    const result = await validateSchema(doc.object);
    if (result.status === "no-schema") {
      ctx.report(doc, ["kind"], "schema/no-schema", `no schema for ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    for (const issue of result.issues) {
      ctx.report(
        doc,
        issue.path,
        issue.code === "unknown-field" ? "schema/unknown-field" : "schema/invalid",
        issue.message,
      );
    }
    // The CRD's CEL rules, which the API server checks with the schema (Istio's kinds only).
    if (doc.apiVersion.startsWith("networking.istio.io/")) {
      for (const f of crdRuleFindings(doc.kind, doc.object))
        ctx.report(doc, f.path, "istio/crd-rule", f.message);
    }
  }
}
