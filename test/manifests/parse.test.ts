import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseManifests } from "../../src/manifests/index.js";

const TWO_OBJECTS = `# leading comment
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
    - name: http
      port: 80
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web}
spec:
  host: web
`;

describe("parseManifests", () => {
  it("returns one document per YAML document with file, start line, identity and object", () => {
    const set = parseManifests(TWO_OBJECTS, "x.yaml");
    assert.deepEqual(set.problems, []);
    assert.deepEqual(
      set.documents.map((d) => [d.file, d.line, d.index, d.apiVersion, d.kind, d.name, d.namespace]),
      [
        ["x.yaml", 2, 0, "v1", "Service", "web", "shop"],
        ["x.yaml", 12, 1, "networking.istio.io/v1", "DestinationRule", "web", undefined],
      ],
    );
    assert.deepEqual(set.documents[1]?.object.spec, { host: "web" });
  });

  it("gives the line of a nested field, and of its deepest present ancestor when the field is absent", () => {
    const service = parseManifests(TWO_OBJECTS, "x.yaml").documents[0];
    assert.ok(service);
    assert.equal(service.lineOf(["spec", "ports", 0, "name"]), 9);
    assert.equal(service.lineOf(["spec", "ports", 0, "port"]), 10);
    assert.equal(service.lineOf(["spec", "ports", 0, "targetPort"]), 9);
    assert.equal(service.lineOf(["spec", "selector"]), 7);
  });

  it("expands a kind: List into its items, with item lines", () => {
    const set = parseManifests(
      "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: b}\n",
      "list.yaml",
    );
    assert.deepEqual(
      set.documents.map((d) => [d.name, d.line]),
      [
        ["a", 4],
        ["b", 7],
      ],
    );
    assert.equal(set.documents[1]?.lineOf(["metadata", "name"]), 9);
  });

  it("skips empty documents and kustomize's own files", () => {
    const set = parseManifests(
      "---\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n",
      "k.yaml",
    );
    assert.deepEqual(set, { documents: [], problems: [] });
  });

  it("reports YAML errors and shapeless documents as problems with their line", () => {
    const set = parseManifests(
      "- a\n---\nkind: ConfigMap\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\na: [\n",
      "bad.yaml",
    );
    assert.deepEqual(
      set.problems.map((p) => [p.line, p.code]),
      [
        [1, "not-an-object"],
        [3, "missing-type"],
        [5, "missing-name"],
        [10, "yaml-syntax"],
      ],
    );
    assert.equal(set.documents.length, 0);
  });

  it("reads JSON as well as YAML", () => {
    const set = parseManifests(
      '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}',
      "ns.json",
    );
    assert.equal(set.documents[0]?.name, "shop");
  });
});
