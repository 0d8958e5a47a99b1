import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateWebhook } from "../../src/validation/index.js";

// What istiod's webhook answers for a DestinationRule beyond Istio's own test tables (those are
// test/fixtures/validation/destination-rule/): how its decoder (golang/protobuf jsonpb, in
// pkg/webhooks/validation/server/server.go before ValidateDestinationRule runs) reads the spec, and
// the parts of ValidateTLS / validateLoadBalancer no Istio table reaches.

const rule = (spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
  apiVersion: "networking.istio.io/v1",
  kind: "DestinationRule",
  metadata: { name: "foo", namespace: "bar", ...(annotations ? { annotations } : {}) },
  spec,
});

function answer(spec: Record<string, unknown>, annotations?: Record<string, string>) {
  const findings = validateWebhook("DestinationRule", rule(spec, annotations), "bar", "foo");
  return {
    errors: findings.filter((f) => f.severity === "error").map((f) => f.message),
    warnings: findings.filter((f) => f.severity === "warning").map((f) => f.message),
  };
}

describe("a spec istiod cannot decode", () => {
  it("is refused with the decoder's error alone: no rule runs, no warning, no annotation check", () => {
    const got = answer(
      {
        host: "",
        trafficPolicy: {
          outlierDetection: { consecutiveErrors: 5 },
          loadBalancer: { consistentHash: { httpCookie: { name: "s", ttl: "1d" } } },
        },
      },
      { "istio.io/dry-run": "true" },
    );
    assert.deepEqual(got, {
      errors: ['error decoding configuration: bad Duration: time: unknown unit "d" in duration "1d"'],
      warnings: [],
    });
  });

  it("reports the first field in the .proto's order, not the manifest's", () => {
    // TrafficPolicy declares load_balancer before connection_pool.
    const got = answer({
      host: "reviews",
      trafficPolicy: {
        connectionPool: { tcp: { idleTimeout: "x" } },
        loadBalancer: { warmupDurationSecs: "5 s" },
      },
    });
    assert.deepEqual(got.errors, [
      'error decoding configuration: bad Duration: time: unknown unit " s" in duration "5 s"',
    ]);
  });

  it("refuses integers outside their Go type and enum names jsonpb does not know", () => {
    assert.deepEqual(
      answer({ host: "reviews", trafficPolicy: { connectionPool: { tcp: { maxConnections: 3e9 } } } }).errors,
      ["error decoding configuration: json: cannot unmarshal number 3000000000 into Go value of type int32"],
    );
    assert.deepEqual(
      answer({ host: "reviews", trafficPolicy: { outlierDetection: { consecutive5xxErrors: -1 } } }).errors,
      ["error decoding configuration: json: cannot unmarshal number -1 into Go value of type uint32"],
    );
    assert.deepEqual(answer({ host: "reviews", trafficPolicy: { loadBalancer: { simple: "FOO" } } }).errors, [
      'error decoding configuration: unknown value "\\"FOO\\"" for enum istio.networking.v1alpha3.LoadBalancerSettings.SimpleLB',
    ]);
    assert.deepEqual(
      answer({
        host: "reviews",
        subsets: [
          {
            name: "v1",
            trafficPolicy: {
              loadBalancer: { localityLbSetting: { distribute: [{ from: "a", to: { b: 1.5 } }] } },
            },
          },
        ],
      }).errors,
      ["error decoding configuration: json: cannot unmarshal number 1.5 into Go value of type uint32"],
    );
  });

  it("reads `null` as jsonpb does: an unset field, an empty list element", () => {
    assert.deepEqual(
      answer({ host: "reviews", trafficPolicy: null, workloadSelector: null, exportTo: ["*"] }),
      {
        errors: [],
        warnings: [],
      },
    );
    assert.deepEqual(answer({ host: "reviews", subsets: [null] }).errors, ["subset name cannot be empty"]);
    assert.deepEqual(answer({ host: "reviews", trafficPolicy: { portLevelSettings: [null] } }).errors, [
      "portTrafficPolicy must have valid port",
      "port traffic policy must have at least one field",
    ]);
    assert.deepEqual(answer({ host: "reviews", exportTo: [null] }).errors, [
      "only .,*, or a valid DNS 1123 label is allowed as exportTo entry",
    ]);
  });
});

describe("ValidateTLS beyond Istio's tables (agent/validation.go)", () => {
  const tls = (settings: Record<string, unknown>) =>
    answer({ host: "reviews", trafficPolicy: { tls: settings } });

  it("wants configmap://<namespace>/<name> in the rule's own namespace (credentials.ParseResourceName)", () => {
    assert.deepEqual(tls({ mode: "SIMPLE", credentialName: "configmap://bar/ca" }).errors, []);
    assert.deepEqual(tls({ mode: "SIMPLE", credentialName: "configmap://ca" }).errors, [
      'invalid configmap:// credentialName: invalid resource name "configmap://ca". Expected namespace and name',
    ]);
    assert.deepEqual(tls({ mode: "SIMPLE", credentialName: "configmap:///ca" }).errors, [
      'invalid configmap:// credentialName: invalid resource name "configmap:///ca". Expected namespace',
    ]);
    assert.deepEqual(tls({ mode: "SIMPLE", credentialName: "configmap://other/ca" }).errors, [
      'invalid configmap:// credentialName: namespace must match the configuration namespace "bar"',
    ]);
  });

  it("takes an empty subjectAltNames list as unset, as jsonpb leaves it nil", () => {
    assert.deepEqual(tls({ mode: "SIMPLE", subjectAltNames: [], insecureSkipVerify: true }).errors, []);
  });
});

describe("validateLoadBalancer's hash key is the oneof member jsonpb kept", () => {
  it("checks httpCookie only when no later-declared key replaced it", () => {
    const lb = (consistentHash: Record<string, unknown>) =>
      answer({ host: "reviews", trafficPolicy: { loadBalancer: { consistentHash } } }).errors;
    assert.deepEqual(lb({ httpCookie: { ttl: "0s" } }), ["name required for HttpCookie"]);
    assert.deepEqual(lb({ httpCookie: { ttl: "0s" }, useSourceIp: true }), []);
  });
});

describe("warnings of subset and port-level traffic policies are dropped (appendErrors)", () => {
  it("keeps the top level's only", () => {
    const deprecated = { outlierDetection: { consecutiveErrors: 5 } };
    assert.equal(answer({ host: "reviews", trafficPolicy: deprecated }).warnings.length, 1);
    assert.deepEqual(answer({ host: "reviews", subsets: [{ name: "v1", trafficPolicy: deprecated }] }), {
      errors: [],
      warnings: [],
    });
    assert.deepEqual(
      answer({
        host: "reviews",
        trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, ...deprecated }] },
      }),
      { errors: [], warnings: [] },
    );
  });
});
