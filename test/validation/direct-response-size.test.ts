import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateWebhook } from "../../src/validation/index.js";

// The two cases of Istio's TestValidateHTTPDirectResponse (validation_test.go) whose bodies are too
// large for a fixture file: "with string body over 1mb" (2 MiB) and "with bytes body over 1mb"
// (1 MiB + 1 byte, base64 in YAML as in JSON).
const vs = (body: Record<string, string>) => ({
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: { name: "foo", namespace: "bar" },
  spec: { hosts: ["foo.bar"], gateways: ["bar/gw"], http: [{ directResponse: { status: 200, body } }] },
});
const errorsOf = (object: unknown) =>
  validateWebhook("VirtualService", object, "bar", "foo")
    .filter((f) => f.severity === "error")
    .map((f) => f.message);

describe("direct responses over 1 MiB (TestValidateHTTPDirectResponse)", () => {
  it("refuses a string body of 2 MiB", () => {
    assert.deepEqual(errorsOf(vs({ string: "a".repeat(2 * 1024 * 1024) })), [
      "large direct_responses may impact control plane performance, must be less than 1MB",
    ]);
  });

  it("refuses a bytes body of 1 MiB + 1", () => {
    const bytes = Buffer.alloc(1024 * 1024 + 1, 1).toString("base64");
    assert.deepEqual(errorsOf(vs({ bytes })), [
      "large direct_responses may impact control plane performance, must be less than 1MB",
    ]);
  });
});
