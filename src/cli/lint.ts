import { countBySeverity, formatFinding, lintManifests } from "../lint/index.js";
import { loadManifests } from "../manifests/index.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity lint [--json] [paths...]

Checks Kubernetes and Istio manifests for schema errors, Istio's DestinationRule validation rules,
broken references between objects, and settings that quietly break session affinity.

  paths    files, folders (their .yaml/.yml/.json files, not subfolders) or - for stdin;
           default: deploy/
  --json   print the findings as a JSON array
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
      { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      true,
    );
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const set = await loadManifests(positionals.length > 0 ? positionals : ["deploy"]);
    const findings = await lintManifests(set);
    const { errors, warnings } = countBySeverity(findings);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
    } else {
      for (const finding of findings) process.stdout.write(`${formatFinding(finding)}\n`);
      process.stderr.write(`${set.documents.length} objects, ${errors} errors, ${warnings} warnings\n`);
    }
    return errors > 0 ? 1 : 0;
  },
};
