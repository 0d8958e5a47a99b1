import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadManifests, parseManifests } from "../../src/manifests/index.js";
import { ControlPlane, RejectedManifestError } from "../../src/mesh/control-plane.js";
import { serviceFqdn, toMeshObject } from "../../src/mesh/model.js";
import { humanDuration, renderTable } from "../../src/mesh/tables.js";
import { DEPLOY } from "../helpers/mesh.js";

/** Reads a DestinationRule `r` in `dr.yaml` whose trafficPolicy holds `policy` (one line of YAML). */
function readRule(policy: string): () => unknown {
  const doc = parseManifests(
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r}
spec:
  host: session-svc
  trafficPolicy:
    ${policy}
`,
    "dr.yaml",
  ).documents[0];
  return () => toMeshObject(doc as NonNullable<typeof doc>);
}

describe("model", () => {
  it("reads the walkthrough's Deployment: env, downward API, secret, probes, grace period", async () => {
    const set = await loadManifests([`${DEPLOY}/session.yaml`]);
    const d = toMeshObject(set.documents[0] as (typeof set.documents)[number]);
    assert.equal(d.kind, "Deployment");
    if (d.kind !== "Deployment") return;
    assert.equal(d.replicas, 3);
    assert.deepEqual(
      d.env.find((e) => e.name === "POD_NAME"),
      { name: "POD_NAME", fieldRef: "metadata.name" },
    );
    assert.deepEqual(d.env.find((e) => e.name === "SESSION_SECRET")?.secretKeyRef, {
      name: "session-secret",
      key: "SESSION_SECRET",
      optional: true,
    });
    assert.equal(d.readinessProbe?.path, "/readyz");
    assert.equal(d.readinessProbe?.periodSeconds, 2);
    assert.equal(d.terminationGracePeriodSeconds, 30);
  });

  it("rejects what the mesh cannot run, naming file, line and field", () => {
    const text = `apiVersion: apps/v1
kind: Deployment
metadata: {name: redis}
spec:
  selector: {matchLabels: {app: r}}
  template:
    metadata: {labels: {app: r}}
    spec:
      containers:
        - name: redis
          image: redis:7
`;
    const doc = parseManifests(text, "r.yaml").documents[0];
    assert.throws(
      () => toMeshObject(doc as NonNullable<typeof doc>),
      /r\.yaml:11 Deployment\/redis: spec\.template\.spec\.containers\[0\]\.image: redis:7 cannot run here/,
    );
  });

  it("refuses outlierDetection values Istio refuses, naming the field", () => {
    const rule = (od: string) => readRule(`outlierDetection: ${od}`);
    assert.throws(
      rule("{interval: 0s}"),
      /dr\.yaml:\d+ DestinationRule\/r: spec\.trafficPolicy\.outlierDetection\.interval: must be at least 1ms/,
    );
    assert.throws(
      rule("{baseEjectionTime: 0ms}"),
      /outlierDetection\.baseEjectionTime: must be at least 1ms/,
    );
    assert.throws(
      rule("{maxEjectionPercent: 101}"),
      /outlierDetection\.maxEjectionPercent: must be at most 100/,
    );
    assert.throws(
      rule("{consecutive5xxErrors: -1}"),
      /outlierDetection\.consecutive5xxErrors: must be a whole number/,
    );
    assert.doesNotThrow(rule("{consecutive5xxErrors: 0, interval: 1ms, minHealthPercent: 100}"));
  });

  it("refuses circuit-breaker counts that are not whole numbers within int32, naming the field", () => {
    const rule = (pool: string) => readRule(`connectionPool: ${pool}`);
    assert.throws(
      rule("{tcp: {maxConnections: -1}}"),
      /dr\.yaml:\d+ DestinationRule\/r: spec\.trafficPolicy\.connectionPool\.tcp\.maxConnections: must be a whole number/,
    );
    assert.throws(
      rule("{http: {maxRetries: 1.5}}"),
      /connectionPool\.http\.maxRetries: must be a whole number/,
    );
    assert.throws(
      rule("{http: {http1MaxPendingRequests: 3000000000}}"),
      /connectionPool\.http\.http1MaxPendingRequests: must be at most 2147483647/,
    );
    assert.doesNotThrow(rule("{tcp: {maxConnections: 0}, http: {http2MaxRequests: 1}}"));
  });

  it("resolves short hosts in a namespace", () => {
    assert.equal(serviceFqdn("session-svc", "default"), "session-svc.default.svc.cluster.local");
    assert.equal(serviceFqdn("a.b", "x"), "a.b.svc.cluster.local");
    assert.equal(serviceFqdn("api.example.com", "x"), "api.example.com");
  });
});

describe("control plane", () => {
  it("lints a file with what is applied, so the walkthrough order is accepted", async () => {
    const cp = new ControlPlane();
    const changes: string[][] = [];
    cp.onChange((kinds) => changes.push([...kinds].sort()));
    await assert.rejects(
      cp.apply(await loadManifests([`${DEPLOY}/session-affinity.yaml`])),
      (err: unknown) => {
        assert.ok(err instanceof RejectedManifestError);
        assert.equal(err.findings[0]?.ruleId, "xref/destination-rule-host");
        return true;
      },
    );
    assert.equal(cp.list("DestinationRule").length, 0, "nothing applied");
    const first = await cp.apply(await loadManifests([`${DEPLOY}/session.yaml`]));
    assert.deepEqual(
      first.objects.map((o) => `${o.resource} ${o.action}`),
      ["deployment.apps/session-deployment created", "service/session-svc created"],
    );
    await cp.apply(await loadManifests([`${DEPLOY}/session-gateway.yaml`]));
    await cp.apply(await loadManifests([`${DEPLOY}/session-affinity.yaml`]));
    assert.deepEqual(changes, [
      ["Deployment", "Service"],
      ["Gateway", "VirtualService"],
      ["DestinationRule"],
    ]);
  });

  it("keeps a scaled replica count across a re-apply that does not change it (kubectl's 3-way merge)", async () => {
    const cp = new ControlPlane();
    await cp.apply(await loadManifests([`${DEPLOY}/session.yaml`]));
    cp.scale("default", "session-deployment", 5);
    const again = await cp.apply(await loadManifests([`${DEPLOY}/session.yaml`]));
    assert.equal(again.objects[0]?.action, "unchanged");
    const d = cp.get("Deployment", "default", "session-deployment")?.object;
    assert.equal(d?.kind === "Deployment" && d.replicas, 5);
  });

  it("deletes a file all or nothing", async () => {
    const cp = new ControlPlane();
    await cp.apply(await loadManifests([`${DEPLOY}/session.yaml`]));
    assert.throws(
      () =>
        cp.delete(
          parseManifests(
            `apiVersion: v1\nkind: Service\nmetadata: {name: session-svc}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: other}\n`,
            "x.yaml",
          ),
        ),
      /nothing deleted; not found: service\/other/,
    );
    assert.equal(cp.list("Service").length, 1);
  });
});

describe("kubectl tables", () => {
  it("formats AGE like kubectl", () => {
    assert.deepEqual(
      [
        5_000,
        119_000,
        125_000,
        600_000,
        3 * 3600_000 + 5 * 60_000,
        9 * 3600_000,
        50 * 3600_000,
        400 * 86400_000,
      ].map(humanDuration),
      ["5s", "119s", "2m5s", "10m", "3h5m", "9h", "2d2h", "400d"],
    );
  });

  it("pads columns with three spaces", () => {
    assert.equal(
      renderTable(["NAME", "AGE"], [["session-gateway", "2m"]]),
      "NAME              AGE\nsession-gateway   2m\n",
    );
  });
});
