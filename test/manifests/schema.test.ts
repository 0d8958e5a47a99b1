import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateSchema } from "../../src/manifests/index.js";

const dr = (loadBalancer: unknown, apiVersion = "networking.istio.io/v1") => ({
  apiVersion,
  kind: "DestinationRule",
  metadata: { name: "web" },
  spec: { host: "web", trafficPolicy: { loadBalancer } },
});

describe("validateSchema", () => {
  it("validates networking.istio.io/v1 objects with the v1 schema", async () => {
    const result = await validateSchema(dr({ simple: "ROUND_ROBIN" }));
    assert.deepEqual(result, {
      status: "validated",
      schema: "networking.istio.io/v1 DestinationRule",
      issues: [],
    });
  });

  it("knows fields of current Istio the old schema lacked, and names fields newer than the emulated Istio", async () => {
    const current = await validateSchema(
      dr({
        warmup: { duration: "30s", minimumPercent: 10, aggression: 1.5 },
        consistentHash: { ringHash: {} },
      }),
    );
    assert.deepEqual(current.status === "validated" && current.issues, []);
    const newer = await validateSchema(dr({ zoneAwareLbSetting: {} }));
    assert.deepEqual(newer.status === "validated" && newer.issues.map((i) => i.message), [
      'unknown field "spec.trafficPolicy.loadBalancer.zoneAwareLbSetting": it came with Istio 1.31, after the Istio 1.30 emulated here',
    ]);
  });

  it("reports a field the schema does not define, with its path", async () => {
    const result = await validateSchema(dr({ consistantHash: { useSourceIp: true } }));
    assert.equal(result.status, "validated");
    assert.deepEqual(result.issues, [
      {
        code: "unknown-field",
        path: ["spec", "trafficPolicy", "loadBalancer", "consistantHash"],
        message: 'unknown field "spec.trafficPolicy.loadBalancer.consistantHash"',
      },
    ]);
  });

  it("does not report keys of free-form maps such as labels and annotations", async () => {
    const result = await validateSchema({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", labels: { anything: "x" }, annotations: { "example.com/a": "b" } },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    assert.deepEqual(result, { status: "validated", schema: "v1 Service", issues: [] });
  });

  it("accepts Istio fields newer than the bundled schema", async () => {
    const result = await validateSchema(
      dr({ consistentHash: { httpCookie: { name: "r", ttl: "0s", attributes: [{ name: "Secure" }] } } }),
    );
    assert.equal(result.status, "validated");
    assert.deepEqual(result.issues, []);
  });

  it("names the field, the expected type and the value of a type error", async () => {
    const result = await validateSchema({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { ports: [{ port: 80, targetPort: true }] },
    });
    assert.equal(result.status, "validated");
    assert.deepEqual(result.issues, [
      {
        code: "invalid",
        path: ["spec", "ports", 0, "targetPort"],
        message: "spec.ports[0].targetPort must be string or integer, got boolean true",
      },
    ]);
  });

  it("says no-schema for kinds neither package describes", async () => {
    const result = await validateSchema({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "r" },
    });
    assert.deepEqual(result, { status: "no-schema" });
  });

  it("says no-schema for a kind its group lacks or that is not a plain name", async () => {
    for (const kind of ["Widget", "service", "../v1/Service", "Service/../Pod", ""]) {
      const result = await validateSchema({ apiVersion: "v1", kind, metadata: { name: "x" } });
      assert.deepEqual(result, { status: "no-schema" }, kind);
    }
  });
});

describe("@kubernetes-models/istio 3 on this Node (its engines field asks for 22)", () => {
  const objects = {
    DestinationRule: {
      host: "reviews",
      trafficPolicy: {
        connectionPool: { http: { maxConcurrentStreams: 100 }, tcp: { idleTimeout: "1h" } },
        loadBalancer: { simple: "LEAST_REQUEST", warmup: { duration: "30s" } },
      },
    },
    VirtualService: {
      hosts: ["reviews"],
      http: [
        { route: [{ destination: { host: "reviews" } }], mirrors: [{ destination: { host: "shadow" } }] },
      ],
    },
    Gateway: {
      servers: [
        {
          port: { number: 443, name: "https", protocol: "HTTPS" },
          hosts: ["example.com"],
          tls: { mode: "OPTIONAL_MUTUAL", credentialNames: ["a", "b"], caCrl: "/crl.pem" },
        },
      ],
    },
  };

  it("validates every kind in v1, v1beta1 and v1alpha3, knowing fields of Istio 1.30", async () => {
    for (const version of ["v1", "v1beta1", "v1alpha3"]) {
      for (const [kind, spec] of Object.entries(objects)) {
        const result = await validateSchema({
          apiVersion: `networking.istio.io/${version}`,
          kind,
          metadata: { name: "x" },
          spec,
        });
        assert.deepEqual(result, {
          status: "validated",
          schema: `networking.istio.io/${version} ${kind}`,
          issues: [],
        });
      }
    }
  });
});
