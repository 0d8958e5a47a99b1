import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { lintManifests, RULES } from "../../src/lint/index.js";
import { parseManifests } from "../../src/manifests/index.js";

describe("rule catalogue", () => {
  it("documents every rule id in docs/lint-rules.md with its severity, and no others", async () => {
    const doc = await readFile("docs/lint-rules.md", "utf8");
    const rows = [...doc.matchAll(/^\| `([a-z-]+\/[a-z-]+)`\s*\| (error|warning)\s*\|/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    assert.deepEqual(
      rows.sort(),
      Object.entries(RULES)
        .map(([id, rule]) => [id, rule.severity])
        .sort(),
    );
  });

  it("appends the rule's reason to each message and takes the severity from the catalogue", async () => {
    const set = parseManifests(
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  sessionAffinity: ClientIP\n  ports: [{port: 80}]\n",
      "svc.yaml",
    );
    const [finding] = await lintManifests(set);
    assert.ok(finding);
    assert.equal(finding.ruleId, "pitfall/client-ip-affinity");
    assert.equal(finding.severity, "warning");
    assert.ok(finding.message.endsWith(` — ${RULES["pitfall/client-ip-affinity"].why}`));
  });
});

describe("Maglev table sizes, as istiod's webhook checks them (validateLoadBalancer)", () => {
  const lint = (tableSize: string) =>
    lintManifests(
      parseManifests(
        `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: m}\nspec:\n  host: example.com\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        maglev: ${tableSize}\n`,
        "m.yaml",
      ),
    ).then((findings) => findings.map((f) => f.message.split(" — ")[0]));

  it("requires a table size: maglev: {} is refused twice, unset and not prime", async () => {
    assert.deepEqual(await lint("{}"), [
      "DestinationRule m: tableSize must be a prime number for maglev",
      "DestinationRule m: tableSize must be set for maglev",
    ]);
  });

  it("rejects sizes of 5000011 and above even when prime", async () => {
    assert.deepEqual(await lint("{tableSize: 5000011}"), [
      "DestinationRule m: tableSize must be less than 5000011 for maglev",
    ]);
  });

  it("accepts Envoy's default 65537 and the largest prime below the limit", async () => {
    assert.deepEqual(await lint("{tableSize: 65537}"), []);
    assert.deepEqual(await lint("{tableSize: 4999999}"), []);
  });
});

describe("pitfall/consistent-hash-without-key", () => {
  it("accepts ringHash or maglev without a hash key, as Istio does, and warns that nothing is sticky", async () => {
    for (const hash of ["{ringHash: {minimumRingSize: 1024}}", "{maglev: {tableSize: 65537}}", "{}"]) {
      const findings = await lintManifests(
        parseManifests(
          `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: k}\nspec:\n  host: example.com\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: ${hash}\n`,
          "k.yaml",
        ),
      );
      assert.deepEqual(
        findings.map((f) => `${f.severity} ${f.ruleId}`),
        ["warning pitfall/consistent-hash-without-key"],
        hash,
      );
    }
  });
});
