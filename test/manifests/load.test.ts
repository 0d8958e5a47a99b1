import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { SessionAffinityError } from "../../src/errors.js";
import { loadManifests } from "../../src/manifests/index.js";

const CONFIG_MAP = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;

describe("loadManifests", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "manifests-"));
    await writeFile(join(dir, "b.yaml"), CONFIG_MAP("b"));
    await writeFile(join(dir, "a.yml"), CONFIG_MAP("a"));
    await writeFile(join(dir, "kustomization.yaml"), "resources: [a.yml, b.yaml]\n");
    await writeFile(join(dir, "notes.txt"), "not a manifest");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a folder's manifest files in name order, leaving out kustomization files and other files", async () => {
    const set = await loadManifests([dir]);
    assert.deepEqual(
      set.documents.map((d) => [d.file, d.name]),
      [
        [join(dir, "a.yml"), "a"],
        [join(dir, "b.yaml"), "b"],
      ],
    );
  });

  it("reads - from the given stdin stream under the name <stdin>", async () => {
    const set = await loadManifests(["-"], { stdin: Readable.from([CONFIG_MAP("piped")]) });
    assert.deepEqual(
      set.documents.map((d) => [d.file, d.name]),
      [["<stdin>", "piped"]],
    );
  });

  it("throws ERR_MANIFEST naming a path that does not exist", async () => {
    const missing = join(dir, "missing.yaml");
    await assert.rejects(loadManifests([missing]), (err: unknown) => {
      assert.ok(err instanceof SessionAffinityError);
      assert.equal(err.code, "ERR_MANIFEST");
      assert.equal(err.message, `cannot read ${missing}: no such file or folder`);
      return true;
    });
  });

  it("throws ERR_MANIFEST for a folder without manifest files", async () => {
    const empty = await mkdtemp(join(tmpdir(), "empty-"));
    try {
      await assert.rejects(loadManifests([empty]), /no \.yaml, \.yml or \.json files/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("loads the walkthrough's objects from deploy/", async () => {
    const set = await loadManifests(["deploy"]);
    assert.deepEqual(set.problems, []);
    assert.deepEqual(set.documents.map((d) => `${d.kind}/${d.name}`).sort(), [
      "Deployment/session-deployment",
      "DestinationRule/session",
      "Gateway/session-gateway",
      "Service/session-svc",
      "VirtualService/session",
    ]);
  });
});
