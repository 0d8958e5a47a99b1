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

/** The one-line message `read` throws. */
function refusal(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    const message = (error as Error).message;
    assert.doesNotMatch(message, /[\r\n]/, "one line");
    return message;
  }
  assert.fail("accepted");
}

function readDoc(yaml: string, file: string): () => unknown {
  const doc = parseManifests(yaml, file).documents[0];
  return () => toMeshObject(doc as NonNullable<typeof doc>);
}

/** A VirtualService `v` in `vs.yaml` with one match block `match` (one line of YAML). */
const readMatch = (match: string) =>
  readDoc(
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec:
  hosts: ["*"]
  http:
    - match: [${match}]
      route: [{destination: {host: session-svc}}]
`,
    "vs.yaml",
  );

/** A DestinationRule `r` in `dr.yaml` with `consistentHash` at the top, on port 80 and in subset v1. */
const readHash = (consistentHash: string) =>
  ["spec.trafficPolicy", "spec.trafficPolicy.portLevelSettings[0]", "spec.subsets[0].trafficPolicy"].map(
    (where, i) => {
      const lb = `loadBalancer: {consistentHash: ${consistentHash}}`;
      const policy = [
        `trafficPolicy: {${lb}}`,
        `trafficPolicy: {portLevelSettings: [{port: {number: 80}, ${lb}}]}`,
        `subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {${lb}}}]`,
      ][i];
      const read = readDoc(
        `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: session-svc\n  ${policy}\n`,
        "dr.yaml",
      );
      return { where: `${where}.loadBalancer.consistentHash`, read };
    },
  );

describe("model: regexes as RE2 (istio/istio pkg/config/validation validateStringMatchRegexp)", () => {
  it("refuses backreferences, lookahead and lookbehind, which RE2 has not, naming the field", () => {
    assert.equal(
      refusal(readMatch(String.raw`{uri: {regex: "/(a)\\1"}}`)),
      'vs.yaml:7 VirtualService/v: spec.http[0].match[0].uri.regex: "/(a)\\\\1" is not RE2 syntax (invalid escape sequence: `\\1`)',
    );
    assert.match(
      refusal(readMatch(`{headers: {x-user: {regex: "a(?=b)"}}}`)),
      /^vs\.yaml:7 VirtualService\/v: spec\.http\[0\]\.match\[0\]\.headers\.x-user\.regex: "a\(\?=b\)" is not RE2 syntax \(invalid or unsupported Perl syntax: `\(\?=`\)$/,
    );
    assert.match(
      refusal(readMatch(`{queryParams: {q: {regex: "(?<!a)b"}}}`)),
      /spec\.http\[0\]\.match\[0\]\.queryParams\.q\.regex: "\(\?<!a\)b" is not RE2 syntax \(invalid or unsupported Perl syntax: `\(\?<!`\)$/,
    );
    assert.match(
      refusal(readMatch(`{withoutHeaders: {x-a: {regex: "(?<=a)b"}}}`)),
      /withoutHeaders\.x-a\.regex: .* \(invalid or unsupported Perl syntax: `\(\?<=`\)$/,
    );
  });

  it("refuses an empty regex and one over 1024 bytes, as Istio does", () => {
    assert.match(
      refusal(readMatch(`{method: {regex: ""}}`)),
      /match\[0\]\.method\.regex: must not be empty$/,
    );
    assert.match(
      refusal(readMatch(`{authority: {regex: "${"é".repeat(513)}"}}`)),
      /match\[0\]\.authority\.regex: is 1026 bytes, more than the 1024 Istio allows$/,
    );
    assert.doesNotThrow(readMatch(`{authority: {regex: "${"a".repeat(1024)}"}}`));
  });

  it('accepts RE2 syntax, and regex "*" in withoutHeaders only (Istio\'s present_match)', () => {
    assert.doesNotThrow(
      readMatch(String.raw`{uri: {regex: "/(a+)+b"}, headers: {x-id: {regex: "(?i)[[:alpha:]]\\d+"}}}`),
    );
    assert.doesNotThrow(readMatch(`{withoutHeaders: {x-debug: {regex: "*"}}}`));
    assert.match(
      refusal(readMatch(`{headers: {x-debug: {regex: "*"}}}`)),
      /headers\.x-debug\.regex: "\*" is not RE2 syntax \(missing argument to repetition operator: `\*`\)$/,
    );
  });
});

/**
 * The cookie parts go into Set-Cookie as written (Envoy Http::Utility::makeSetCookieValue), and
 * Istio's validateLoadBalancer checks only that the name is set, so the mesh holds them to
 * RFC 6265 §4.1.1; header and query keys follow Envoy's route_components.proto HashPolicy.
 */
describe("model: consistentHash keys (RFC 6265 cookies; Envoy HashPolicy)", () => {
  it("refuses a cookie name with CR LF, at top level, port level and in subsets, in one line", () => {
    for (const { where, read } of readHash(
      String.raw`{httpCookie: {name: "sid\r\nSet-Cookie: admin=1", ttl: 0s}}`,
    )) {
      assert.equal(
        refusal(read),
        `dr.yaml:6 DestinationRule/r: ${where}.httpCookie.name: "sid\\r\\nSet-Cookie: admin=1" is not a token (letters, digits and !#$%&'*+-.^_\`|~), as RFC 6265 requires`,
      );
    }
  });

  it("refuses cookie names that are not tokens, and paths or attribute values with CTLs, non-ASCII or ';'", () => {
    const refused = [
      [`{name: "a b"}`, /httpCookie\.name: "a b" is not a token/],
      [`{name: "a=b"}`, /httpCookie\.name: "a=b" is not a token/],
      [
        `{name: sid, path: "/\\r\\nX-Evil: 1"}`,
        /httpCookie\.path: "\/\\r\\nX-Evil: 1" holds a control character/,
      ],
      [
        `{name: sid, path: "/; Domain=evil.example"}`,
        /httpCookie\.path: .* holds a control character, a non-ASCII character or ';'/,
      ],
      [`{name: sid, path: "/café"}`, /httpCookie\.path: "\/café" holds/],
      [
        `{name: sid, attributes: [{name: "Same\\nSite", value: Lax}]}`,
        /httpCookie\.attributes\[0\]\.name: "Same\\nSite" is not a token/,
      ],
      [
        `{name: sid, attributes: [{name: SameSite, value: "Lax\\r\\nX: 1"}]}`,
        /httpCookie\.attributes\[0\]\.value: .* holds a control character/,
      ],
    ] as const;
    for (const [cookie, message] of refused) {
      for (const { read } of readHash(`{httpCookie: ${cookie}}`)) assert.match(refusal(read), message);
    }
    for (const { read } of readHash(
      `{httpCookie: {name: "__Host-session_affinity.v1", path: "/api/v1", ttl: 3600s, attributes: [{name: SameSite, value: Strict}, {name: Partitioned}]}}`,
    ))
      assert.doesNotThrow(read);
  });

  it("refuses an httpHeaderName Envoy's HTTP_HEADER_NAME refuses and an empty httpQueryParameterName", () => {
    for (const { where, read } of readHash(`{httpHeaderName: "x-user\\nx-evil: 1"}`)) {
      const message = `${where}.httpHeaderName: "x-user\\nx-evil: 1" holds NUL, CR or LF, which a header name cannot`;
      assert.ok(refusal(read).endsWith(message), message);
    }
    for (const { read } of readHash(`{httpHeaderName: ""}`))
      assert.match(refusal(read), /\.httpHeaderName: must not be empty$/);
    for (const { read } of readHash(`{httpQueryParameterName: ""}`))
      assert.match(refusal(read), /\.httpQueryParameterName: must not be empty$/);
    for (const { read } of readHash(`{httpHeaderName: x-user}`)) assert.doesNotThrow(read);
    for (const { read } of readHash(`{httpQueryParameterName: user}`)) assert.doesNotThrow(read);
  });
});

describe("control plane: apply refuses what lint refuses", () => {
  it("rejects a backreference regex and a CR LF cookie name with one finding each, applying nothing", async () => {
    const cp = new ControlPlane();
    await cp.apply(await loadManifests([`${DEPLOY}/session.yaml`]));
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec:
  hosts: [session-svc]
  http:
    - match: [{uri: {regex: "/(a)\\\\1"}}]
      route: [{destination: {host: session-svc}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r}
spec:
  host: session-svc
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie: {name: "sid\\r\\nSet-Cookie: admin=1", ttl: 0s}
`;
    await assert.rejects(cp.apply(parseManifests(yaml, "bad.yaml")), (err: unknown) => {
      assert.ok(err instanceof RejectedManifestError);
      assert.deepEqual(
        err.findings.map((f) => `${f.line} ${f.ruleId}`),
        ["7 istio/webhook", "18 envoy/cookie-syntax"],
      );
      return true;
    });
    assert.equal(cp.list("VirtualService").length + cp.list("DestinationRule").length, 0);
  });
});
