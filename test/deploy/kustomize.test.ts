import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { lintManifests } from "../../src/lint/index.js";
import { parseManifests } from "../../src/manifests/index.js";

const hasKubectl = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;
const skip = hasKubectl ? false : "kubectl is not installed";

function render(dir: string, extraArgs: string[] = []): string {
  return execFileSync("kubectl", ["kustomize", ...extraArgs, dir], { encoding: "utf8", timeout: 60_000 });
}

const scenarios = readdirSync("deploy/tests", { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

function at(value: unknown, ...path: (string | number)[]): unknown {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

async function lintRendered(name: string, yaml: string) {
  const set = parseManifests(yaml, name);
  return { set, findings: await lintManifests(set) };
}

describe("deploy/ with kustomize", () => {
  it("renders the base to exactly the walkthrough's objects, with no lint findings", { skip }, async () => {
    const { set, findings } = await lintRendered("deploy/", render("deploy"));
    assert.deepEqual(set.documents.map((d) => `${d.apiVersion} ${d.kind}/${d.name}`).sort(), [
      "apps/v1 Deployment/session-deployment",
      "networking.istio.io/v1 DestinationRule/session",
      "networking.istio.io/v1 Gateway/session-gateway",
      "networking.istio.io/v1 VirtualService/session",
      "v1 Service/session-svc",
    ]);
    assert.deepEqual(findings, []);
  });

  it("has a rendered combination for every component", () => {
    const components = readdirSync("deploy/components").sort();
    for (const component of components)
      assert.ok(scenarios.includes(component), `no deploy/tests/${component}`);
  });

  for (const scenario of scenarios) {
    it(`renders deploy/tests/${scenario} to objects with no lint findings`, { skip }, async () => {
      const yaml = render(`deploy/tests/${scenario}`, ["--load-restrictor", "LoadRestrictionsNone"]);
      const { set, findings } = await lintRendered(`deploy/tests/${scenario}`, yaml);
      assert.ok(set.documents.length >= 4);
      assert.deepEqual(findings, []);
    });
  }

  it("switches the app to Redis and requires the Secret in the redis variant", { skip }, () => {
    const set = parseManifests(
      render("deploy/tests/redis", ["--load-restrictor", "LoadRestrictionsNone"]),
      "redis",
    );
    const app = set.documents.find((d) => d.name === "session-deployment");
    const env = at(app?.object, "spec", "template", "spec", "containers", 0, "env");
    assert.ok(Array.isArray(env));
    const byName = new Map(env.map((e) => [at(e, "name"), e]));
    assert.equal(at(byName.get("SESSION_STORE"), "value"), "redis");
    assert.equal(at(byName.get("REDIS_URL"), "value"), "redis://session-redis:6379");
    assert.deepEqual(at(byName.get("SESSION_SECRET"), "valueFrom"), {
      secretKeyRef: { name: "session-secret", key: "SESSION_SECRET", optional: false },
    });
    assert.ok(set.documents.some((d) => d.kind === "Service" && d.name === "session-redis"));
  });

  it("labels the Service and drops the hash in the persistent-session variant", { skip }, () => {
    const set = parseManifests(
      render("deploy/tests/persistent-session", ["--load-restrictor", "LoadRestrictionsNone"]),
      "persistent",
    );
    const service = set.documents.find((d) => d.kind === "Service");
    assert.equal(at(service?.object, "metadata", "labels", "istio.io/persistent-session"), "session-pod");
    assert.equal(
      set.documents.some((d) => d.kind === "DestinationRule"),
      false,
    );
  });
});
