import { countBySeverity, formatFinding, lintManifests } from "../lint/index.js";
import { loadManifests } from "../manifests/index.js";
import { EMULATED_ISTIO_VERSION } from "../validation/index.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity lint [--json] [--no-cross-references] [paths...]

Checks Kubernetes and Istio manifests as a cluster with Istio ${EMULATED_ISTIO_VERSION} admits them, then for broken
references between objects and for settings that quietly break session affinity. Rule groups, in order:
  schema/*               the API server's schema: types, enums, required and unknown fields (error)
  istio/crd-rule         the Istio CRDs' CEL rules (error)
  istio/webhook          istiod's validating webhook refuses the object; Istio's message (error)
  istio/webhook-warning  istiod accepts it with a warning; Istio's text (warning)
                         (the webhook sees only objects the layers above let through, as on a cluster)
  envoy/*                hash keys Envoy refuses or writes into Set-Cookie as they are (error)
  xref/*                 references between the linted objects (error or warning)
  pitfall/*              settings Istio accepts that break or weaken session affinity (warning)

  paths                  files, folders (their .yaml/.yml/.json files, not subfolders) or - for stdin;
                         default: deploy/
  --json                 print the findings as a JSON array
  --no-cross-references  skip xref/*, for a file whose Service or Gateway lives in another file
  -h, --help

Output: one line per finding, "file:line kind/name rule-id message".
Exit status: 0 no errors (warnings allowed), 1 errors found, 2 bad usage or unreadable path.
Rendered variants: kubectl kustomize deploy/ | session-affinity lint -`;

export const lintCommand: Command = {
  summary: "check manifests for schema errors, Istio validation failures and affinity pitfalls",
  async run(argv) {
    const { values, positionals } = parseFlags(
      "lint",
      argv,
      {
        json: { type: "boolean" },
        "no-cross-references": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      true,
    );
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const set = await loadManifests(positionals.length > 0 ? positionals : ["deploy"]);
    const crossReferences = values["no-cross-references"] !== true;
    const findings = await lintManifests(set, { crossReferences });
    const { errors, warnings } = countBySeverity(findings);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
    } else {
      for (const finding of findings) process.stdout.write(`${formatFinding(finding)}\n`);
      if (!crossReferences) {
        process.stderr.write(
          "info: references to objects in other files were not checked (--no-cross-references)\n",
        );
      }
      process.stderr.write(`${set.documents.length} objects, ${errors} errors, ${warnings} warnings\n`);
    }
    return errors > 0 ? 1 : 0;
  },
};
