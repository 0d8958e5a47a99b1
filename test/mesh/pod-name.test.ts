import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  fnv32a,
  parsePodName,
  podName,
  podTemplateHash,
  randomSuffix,
  SAFE_ALPHABET,
  safeEncode,
} from "../../src/mesh/pod-name.js";

describe("pod names", () => {
  it("hash the template with FNV-32a (reference vectors)", () => {
    assert.equal(fnv32a(""), 0x811c9dc5);
    assert.equal(fnv32a("a"), 0xe40c292c);
    assert.equal(fnv32a("foobar"), 0xbf9cf968);
  });

  it("encode digits with Kubernetes' safe alphabet (no vowels, no 0/1/3)", () => {
    assert.equal(SAFE_ALPHABET, "bcdfghjklmnpqrstvwxz2456789");
    // "58b4547d8d"-style hashes: digits map onto 4-9 and b, c, d, f.
    assert.equal(safeEncode("0123456789"), "456789bcdf");
  });

  it("look like session-deployment-<hash>-<5 chars> and change with the template", () => {
    const template = {
      metadata: { labels: { app: "session" } },
      spec: { containers: [{ name: "session" }] },
    };
    const hash = podTemplateHash(template);
    assert.match(hash, new RegExp(`^[${SAFE_ALPHABET}]{1,10}$`));
    assert.equal(podTemplateHash(structuredClone(template)), hash, "stable for the same template");
    const restarted = {
      ...template,
      metadata: { ...template.metadata, annotations: { "kubectl.kubernetes.io/restartedAt": "x" } },
    };
    assert.notEqual(podTemplateHash(restarted), hash);
    const name = podName("session-deployment", hash);
    assert.deepEqual(parsePodName(name)?.deployment, "session-deployment");
    assert.equal(parsePodName(name)?.templateHash, hash);
    assert.match(randomSuffix(), new RegExp(`^[${SAFE_ALPHABET}]{5}$`));
  });

  it("ignore key order when hashing", () => {
    assert.equal(podTemplateHash({ a: 1, b: { c: 2, d: 3 } }), podTemplateHash({ b: { d: 3, c: 2 }, a: 1 }));
  });
});
