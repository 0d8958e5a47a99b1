import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

function lint(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "lint", ...args], {
    encoding: "utf8",
    input,
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("session-affinity lint", () => {
  it("exits 0 with no output lines for the walkthrough's files in deploy/", () => {
    const { code, stdout, stderr } = lint(["deploy/"]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "");
    assert.match(stderr, /^5 objects, 0 errors, 0 warnings\n$/);
  });

  it("prints file:line kind/name rule-id message and exits 1 when there are errors", () => {
    const { code, stdout } = lint(["test/fixtures/lint/unknown-field.yaml"]);
    assert.equal(code, 1);
    const lines = stdout.trimEnd().split("\n");
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] ?? "",
      /^test\/fixtures\/lint\/unknown-field\.yaml:28 DestinationRule\/web schema\/unknown-field unknown field "spec\.trafficPolicy\.loadBalancer\.consistantHash" — /,
    );
  });

  it("--no-cross-references lints a DestinationRule alone without failing on its Service, and says so", () => {
    const rule =
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec: {host: session-svc, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}}\n";
    const alone = lint(["-"], rule);
    assert.equal(alone.code, 1);
    assert.match(alone.stdout, / xref\/destination-rule-host /);
    const skipped = lint(["--no-cross-references", "-"], rule);
    assert.equal(skipped.code, 0, skipped.stdout);
    assert.equal(skipped.stdout, "");
    assert.match(
      skipped.stderr,
      /^info: references to objects in other files were not checked \(--no-cross-references\)\n/,
    );
  });

  it("lists the rule groups in Istio's admission order in --help", () => {
    const { code, stdout } = lint(["--help"]);
    assert.equal(code, 0);
    const order = [
      "schema/*",
      "istio/crd-rule",
      "istio/webhook ",
      "istio/webhook-warning",
      "envoy/*",
      "xref/*",
      "pitfall/*",
    ];
    const at = order.map((group) => stdout.indexOf(group));
    assert.ok(
      at.every((i) => i > 0),
      stdout,
    );
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
    );
  });

  it("exits 0 when there are only warnings", () => {
    const { code, stdout } = lint(["test/fixtures/lint/walkthrough-cookie.yaml"]);
    assert.equal(code, 0);
    assert.equal(stdout.trimEnd().split("\n").length, 2);
  });

  it("prints findings as a JSON array with --json", () => {
    const { code, stdout } = lint(["--json", "test/fixtures/lint/namespaces.yaml"]);
    assert.equal(code, 0);
    const findings = JSON.parse(stdout) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(findings[0] ?? {}).sort(), [
      "file",
      "kind",
      "line",
      "message",
      "name",
      "ruleId",
      "severity",
    ]);
    assert.deepEqual(
      findings.map((f) => [f.file, f.line, f.kind, f.name, f.ruleId, f.severity]),
      [
        [
          "test/fixtures/lint/namespaces.yaml",
          25,
          "DestinationRule",
          "web",
          "pitfall/short-host-other-namespace",
          "warning",
        ],
      ],
    );
  });

  it("reads manifests from stdin given -", () => {
    const { code, stdout } = lint(
      ["-"],
      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}], sessionAffinity: ClientIP}\n",
    );
    assert.equal(code, 0);
    assert.match(stdout, /^<stdin>:4 Service\/s pitfall\/client-ip-affinity /);
  });

  it("reports invalid YAML as a finding on its line and exits 1", () => {
    const { code, stdout } = lint(
      ["-"],
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken\ndata: {a: b}\n",
    );
    assert.equal(code, 1);
    assert.match(stdout, /^<stdin>:\d+ -\/- manifest\/yaml-syntax /);
  });

  it("exits 2 with one line naming an unreadable path", () => {
    const { code, stdout, stderr } = lint(["deploy/no-such-file.yaml"]);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr, "session-affinity: cannot read deploy/no-such-file.yaml: no such file or folder\n");
  });

  it("exits 2 naming an unknown flag", () => {
    const { code, stderr } = lint(["--strict", "deploy/"]);
    assert.equal(code, 2);
    assert.match(stderr, /^session-affinity: lint: .*--strict/);
  });

  it("prints usage with --help and exits 0", () => {
    const { code, stdout } = lint(["--help"]);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^usage: session-affinity lint \[--json\] \[--no-cross-references\] \[paths\.\.\.\]/,
    );
  });
});
