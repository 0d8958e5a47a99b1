import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lintManifests } from "../../src/lint/index.js";
import { kubectlDenials, kubectlWarnings } from "../../src/lint/kubectl-format.js";
import { parseManifests } from "../../src/manifests/index.js";

const lint = (yaml: string) => lintManifests(parseManifests(yaml, "f.yaml"), { crossReferences: false });

describe("admission findings in kubectl apply's words", () => {
  it("one webhook refusal: Istio's error after kubectl's denial line", async () => {
    const findings = await lint(
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec: {host: ''}\n",
    );
    assert.deepEqual(kubectlDenials("f.yaml", findings), [
      'Error from server: error when creating "f.yaml": admission webhook "validation.istio.io" denied the request: configuration is invalid: empty domain name not allowed',
    ]);
  });

  it("several webhook refusals in go-multierror's layout (in the file's order, not Istio's)", async () => {
    const findings = await lint(
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: reviews\n  subsets: [{name: ''}, {name: a}, {name: a}]\n",
    );
    assert.deepEqual(kubectlDenials("f.yaml", findings), [
      'Error from server: error when creating "f.yaml": admission webhook "validation.istio.io" denied the request: configuration is invalid: 2 errors occurred:\n\t* duplicate subset names: a\n\t* subset name cannot be empty\n\n',
    ]);
  });

  it("the API server's schema and CEL refusals as kubectl's Invalid lines, warnings as Warning: lines", async () => {
    const refused = await lint(
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: reviews\n  trafficPolicy: {outlierDetection: {interval: 0.5ms}}\n",
    );
    assert.deepEqual(kubectlDenials("f.yaml", refused), [
      'The DestinationRule "r" is invalid: spec.trafficPolicy.outlierDetection.interval: Invalid value: "string": must be a valid duration greater than 1ms',
    ]);
    const warned = await lint(
      "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: reviews\n  trafficPolicy: {outlierDetection: {consecutiveErrors: 5}}\n",
    );
    assert.deepEqual(kubectlDenials("f.yaml", warned), []);
    assert.deepEqual(kubectlWarnings(warned), [
      "Warning: outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead",
    ]);
  });
});
