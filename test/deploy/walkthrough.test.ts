import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { lintManifests } from "../../src/lint/index.js";
import { loadManifests, type ManifestDocument } from "../../src/manifests/index.js";

async function load(file: string): Promise<ManifestDocument[]> {
  const set = await loadManifests([`deploy/${file}`]);
  assert.deepEqual(set.problems, []);
  return [...set.documents];
}

/** The value at a path inside an object, or undefined. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

function envOf(container: unknown): Map<string, unknown> {
  const env = at(container, "env");
  assert.ok(Array.isArray(env));
  return new Map(env.map((e) => [String(at(e, "name")), e]));
}

describe("the walkthrough's files", () => {
  it("lint clean together", async () => {
    assert.deepEqual(await lintManifests(await loadManifests(["deploy"])), []);
  });

  it("session.yaml defines session-deployment and session-svc with an HTTP port named http", async () => {
    const [deployment, service] = await load("session.yaml");
    assert.equal(
      `${deployment?.apiVersion} ${deployment?.kind}/${deployment?.name}`,
      "apps/v1 Deployment/session-deployment",
    );
    assert.equal(`${service?.kind}/${service?.name}`, "Service/session-svc");
    assert.equal(at(service?.object, "spec", "ports", 0, "name"), "http");
    assert.equal(at(service?.object, "spec", "ports", 0, "appProtocol"), "http");
  });

  it("session.yaml runs the app hardened, probed, and draining before it stops", async () => {
    const [deployment] = await load("session.yaml");
    const pod = at(deployment?.object, "spec", "template", "spec");
    const container = at(pod, "containers", 0);
    const env = envOf(container);
    assert.deepEqual(at(env.get("POD_NAME"), "valueFrom"), { fieldRef: { fieldPath: "metadata.name" } });
    assert.equal(at(env.get("SESSION_SECRET"), "valueFrom", "secretKeyRef", "name"), "session-secret");
    assert.equal(typeof at(env.get("COOKIE_NAME"), "value"), "string");
    const delay = Number(at(env.get("SHUTDOWN_DELAY_MS"), "value"));
    const timeout = Number(at(env.get("SHUTDOWN_TIMEOUT_MS"), "value"));
    assert.ok(delay >= 1000);
    assert.ok(Number(at(pod, "terminationGracePeriodSeconds")) * 1000 > delay + timeout);
    assert.equal(at(container, "livenessProbe", "httpGet", "path"), "/healthz");
    assert.equal(at(container, "readinessProbe", "httpGet", "path"), "/readyz");
    assert.equal(at(pod, "securityContext", "runAsNonRoot"), true);
    assert.equal(at(container, "securityContext", "readOnlyRootFilesystem"), true);
    assert.equal(at(container, "securityContext", "allowPrivilegeEscalation"), false);
    assert.deepEqual(at(container, "securityContext", "capabilities", "drop"), ["ALL"]);
    assert.notEqual(at(container, "resources", "requests"), undefined);
    assert.notEqual(at(container, "resources", "limits"), undefined);
  });

  it("session-gateway.yaml defines Gateway session-gateway and VirtualService session on hosts *", async () => {
    const [gateway, vs] = await load("session-gateway.yaml");
    assert.equal(
      `${gateway?.apiVersion} ${gateway?.kind}/${gateway?.name}`,
      "networking.istio.io/v1 Gateway/session-gateway",
    );
    assert.deepEqual(at(gateway?.object, "spec", "servers", 0, "port"), {
      number: 80,
      name: "http",
      protocol: "HTTP",
    });
    assert.equal(`${vs?.kind}/${vs?.name}`, "VirtualService/session");
    assert.deepEqual(at(vs?.object, "spec", "gateways"), ["session-gateway"]);
    assert.deepEqual(at(vs?.object, "spec", "hosts"), ["*"]);
  });

  it("session-affinity.yaml hashes on a gateway cookie with a ttl and a name other than the app's", async () => {
    const [rule] = await load("session-affinity.yaml");
    const [deployment] = await load("session.yaml");
    assert.equal(`${rule?.kind}/${rule?.name}`, "DestinationRule/session");
    assert.equal(at(rule?.object, "spec", "host"), "session-svc");
    const cookie = at(rule?.object, "spec", "trafficPolicy", "loadBalancer", "consistentHash", "httpCookie");
    assert.match(String(at(cookie, "ttl")), /^\d+s$/);
    const appCookie = at(
      envOf(at(deployment?.object, "spec", "template", "spec", "containers", 0)).get("COOKIE_NAME"),
      "value",
    );
    assert.notEqual(at(cookie, "name"), appCookie);
  });

  it("session-affinity.yaml explains in a comment why the ttl matters", async () => {
    const text = await readFile("deploy/session-affinity.yaml", "utf8");
    assert.match(text, /#.*[Ww]ithout a ttl/);
    assert.match(text, /counter stayed at 1/);
  });
});
