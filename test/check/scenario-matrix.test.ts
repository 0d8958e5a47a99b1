import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { analyze } from "../../src/check/analyze.js";
import type { ClientRecord, Outcome } from "../../src/check/outcome.js";
import {
  balancerInForce,
  failedResult,
  MANIFEST_SOURCES,
  POLICIES,
  parseOnly,
  predictedScenario,
  resultFromSummary,
  type ScenariosReport,
  scenarioMatrix,
  scenarioName,
} from "../../src/check/scenario-matrix.js";
import { DEPLOY_ROOT } from "../../src/check/scenarios.js";
import {
  formatScenariosJson,
  formatScenariosMarkdown,
  formatScenariosSvg,
} from "../../src/check/scenarios-report.js";
import { SessionAffinityError } from "../../src/errors.js";
import { simulate } from "../../src/lb/simulate.js";

const ok = (hostname: string, count: number): Outcome => ({ ok: true, hostname, count });

describe("scenario matrix", () => {
  it("has 4 policies × 2 stores × 3 disruptions, policy first", () => {
    const all = scenarioMatrix();
    assert.equal(all.length, 24);
    assert.deepEqual(all[0], { policy: "none", store: "memory", disruption: "scale" });
    assert.deepEqual(all[23], { policy: "persistent-session", store: "redis", disruption: "rollout" });
    assert.equal(new Set(all.map(scenarioName)).size, 24);
  });

  it("--only: names in one dimension are alternatives, dimensions combine, aliases accepted", () => {
    const f = parseOnly("maglev, ring, kill ,REDIS");
    assert.deepEqual(f, { policies: ["ring-hash", "maglev"], stores: ["redis"], disruptions: ["kill-pod"] });
    assert.deepEqual(scenarioMatrix(f).map(scenarioName), [
      "ring hash × Redis × pod killed (SIGKILL)",
      "Maglev × Redis × pod killed (SIGKILL)",
    ]);
    assert.equal(scenarioMatrix(parseOnly("rollout")).length, 8);
  });

  it("--only rejects unknown and empty names with a usage error", () => {
    for (const spec of ["ringhash", "memory,disk", ",", ""]) {
      assert.throws(
        () => parseOnly(spec),
        (err: unknown) => err instanceof SessionAffinityError && err.code === "ERR_USAGE",
        spec,
      );
    }
  });

  it("every policy's manifests exist in deploy/", () => {
    for (const policy of POLICIES) {
      const source = MANIFEST_SOURCES[policy];
      const paths = source.files ?? [join(source.kustomize, "kustomization.yaml")];
      for (const p of paths) assert.ok(existsSync(join(DEPLOY_ROOT, p)), `${policy}: ${p}`);
    }
  });

  it("reads the balancer the mesh runs and flags manifests that do not give the policy's", () => {
    assert.deepEqual(balancerInForce("maglev", { lbPolicy: "maglev", tableSize: 65537 }), {
      balancer: "maglev",
      label: "maglev (table 65537)",
    });
    assert.equal(
      balancerInForce("persistent-session", {
        lbPolicy: "least-request",
        session: { kind: "cookie", name: "session-pod" },
      }).label,
      "least-request + persistent session cookie session-pod",
    );
    assert.equal(balancerInForce("none", { lbPolicy: "least-request" }).mismatch, undefined);
    assert.match(
      balancerInForce("maglev", { lbPolicy: "ring-hash", minRingSize: 1024 }).mismatch ?? "",
      /Maglev gave ring-hash \(min ring 1024\), expected maglev/,
    );
    assert.ok(balancerInForce("persistent-session", { lbPolicy: "least-request" }).mismatch);
  });

  it("maps disruptions to simulate's scenarios only where the balancer hashes", () => {
    assert.equal(predictedScenario("ring-hash", "scale"), "scale 5→6");
    assert.equal(predictedScenario("maglev", "kill-pod"), undefined, "the pod returns at its address");
    assert.equal(predictedScenario("maglev", "rollout"), undefined);
    assert.equal(predictedScenario("other", "scale"), undefined);
    const names = simulate({
      sessions: 10,
      from: 5,
      to: 6,
      seed: 1,
      minRingSize: 1024,
      tableSize: 65537,
      policies: ["ring-hash"],
    }).map((r) => r.scenario);
    assert.ok(names.includes("scale 5→6") && names.includes("replace one pod"), names.join());
  });

  it("turns a check's summary into a row: moves and losses across the disruption", () => {
    const records: ClientRecord[] = [
      {
        client: 1,
        outcomes: [ok("a", 1), ok("a", 2), ok("b", 1), ok("b", 2)],
        disruptedAt: 2,
        cookies: ["x"],
      },
      {
        client: 2,
        outcomes: [ok("c", 1), ok("c", 2), ok("c", 3), ok("c", 4)],
        disruptedAt: 2,
        cookies: ["x"],
      },
    ];
    const row = resultFromSummary(
      { policy: "ring-hash", store: "memory", disruption: "scale" },
      { lb: "ring-hash (min ring 1024)", durationMs: 1234 },
      analyze(records, "scale"),
    );
    assert.equal(row.name, "ring hash × memory × scale 5→6");
    assert.deepEqual(row.moved, { count: 1, of: 2, percent: 50 });
    assert.deepEqual(row.lost, { count: 1, of: 2, percent: 50 });
    assert.equal(row.stickiness.percent, 100);
    assert.equal(row.requests, 8);
    assert.equal(row.prediction, undefined);
  });
});

describe("scenario report files", () => {
  const report: ScenariosReport = {
    date: "2025-01-02T03:04:05.000Z",
    clients: 20,
    requests: 10,
    replicas: 5,
    results: [
      {
        ...failedResult({ policy: "ring-hash", store: "memory", disruption: "scale" }, "", 0),
        error: undefined,
        lb: "ring-hash (min ring 1024)",
        clients: 20,
        requests: 200,
        stickiness: { count: 20, of: 20, percent: 100 },
        continuity: { count: 16, of: 20, percent: 80 },
        moved: { count: 4, of: 20, percent: 20 },
        lost: { count: 4, of: 20, percent: 20 },
        prediction: { balancer: "ring-hash", scenario: "scale 5→6", movedPercent: 27.4 },
      },
      failedResult({ policy: "maglev", store: "redis", disruption: "rollout" }, "kubectl <missing> & co", 10),
    ],
  };

  it("markdown: one row per combination, prediction or n/a, failures listed, mapping explained", () => {
    const md = formatScenariosMarkdown(report);
    assert.match(md, /Measured on 2025-01-02 by `session-affinity scenarios --clients 20 --requests 10`/);
    assert.match(
      md,
      /^\| ring hash \| memory \| scale 5→6 \| ring-hash \(min ring 1024\) \| 100% \(20\/20\) \| 20% \(4\/20\) \| 20% \(4\/20\) \| 0 of 200 \| 27\.4% \(ring hash, scale 5→6\) \|$/m,
    );
    assert.match(
      md,
      /^\| Maglev \| Redis \| rolling restart \| — \| — \| not measured \| — \| — \| n\/a \|$/m,
    );
    assert.match(md, /- Maglev × Redis × rolling restart: kubectl <missing> & co/);
    assert.match(md, /killed is restarted in place and listens at its old address again/);
    assert.match(md, /!\[[^\]]+\]\(scenarios\.svg\)/);
  });

  it("svg: titled, described, legend, two bars per measured combination, escaped text", () => {
    const svg = formatScenariosSvg(report);
    assert.match(
      svg,
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* role="img" aria-labelledby="title desc"/,
    );
    assert.match(svg, /<title id="title">[^<]+<\/title>/);
    assert.match(
      svg,
      /<desc id="desc">[^<]*ring hash × memory × scale 5→6: 20% moved, 20% state lost, 27\.4% moved predicted/,
    );
    for (const legend of ["sessions moved", "state lost", "moved, predicted by simulate"])
      assert.ok(svg.includes(`>${legend}</text>`), legend);
    assert.equal((svg.match(/fill="#0072B2"/g) ?? []).length, 2, "legend swatch + one moved bar");
    assert.equal((svg.match(/fill="#D55E00"/g) ?? []).length, 2, "legend swatch + one lost bar");
    assert.match(svg, />not measured</);
    assert.ok(!svg.includes("<missing>"), "error text never reaches the markup unescaped");
    assert.match(svg, /<\/svg>\n$/);
  });

  it("json round-trips", () => {
    assert.deepEqual(JSON.parse(formatScenariosJson(report)), JSON.parse(JSON.stringify(report)));
  });
});
