/**
 * /server_info against envoy.admin.v3.ServerInfo (api/envoy/admin/v3/server_info.proto) and the way
 * envoy: source/server/admin/server_info_handler.cc fills it, plus the identity pilot-agent gives
 * the gateway (istio/istio pkg/bootstrap/config.go).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configDump } from "../../../src/envoy/admin/config-dump.js";
import {
  EMULATED_ENVOY_VERSION,
  EMULATED_ISTIO_RELEASE,
  ISTIO_PROXY_REVISIONS,
  istioGatewayIdentity,
} from "../../../src/envoy/admin/identity.js";
import { serverInfo } from "../../../src/envoy/admin/server-info.js";
import { applySnapshot } from "../../../src/envoy/resource-versions.js";
import { translate } from "../../../src/istiod/index.js";
import { checkEnvoyJson } from "../../helpers/envoy-proto.js";
import { walkthroughInput } from "../../istiod/walkthrough-input.js";

const STARTED = Date.UTC(2026, 6, 1, 11, 59, 0, 900);
const POD = {
  podName: "istio-ingressgateway-5d8f6c7b9d-x2x7q",
  namespace: "istio-system",
  podIp: "10.244.0.7",
  adminPort: 15000,
  startedAt: STARTED,
  labels: { istio: "ingressgateway", app: "istio-ingressgateway", "pod-template-hash": "5d8f6c7b9d" },
};
const identity = istioGatewayIdentity(POD);
const applied = applySnapshot(undefined, translate(walkthroughInput(), "1"), STARTED + 2000);

describe("server info", () => {
  it("is a valid envoy.admin.v3.ServerInfo", () => {
    assert.deepEqual(
      checkEnvoyJson("envoy.admin.v3.ServerInfo", serverInfo(identity, applied, STARTED + 5000)),
      [],
    );
    assert.deepEqual(
      checkEnvoyJson("envoy.admin.v3.ServerInfo", serverInfo(identity, undefined, STARTED)),
      [],
    );
  });

  it("names the emulated release's build as Envoy prints its version: revision/version/status/type/ssl", () => {
    const info = serverInfo(identity, applied, STARTED);
    assert.equal(
      info.version,
      `${ISTIO_PROXY_REVISIONS[EMULATED_ISTIO_RELEASE]}/${EMULATED_ENVOY_VERSION}/Clean/RELEASE/BoringSSL`,
    );
    assert.match(info.version, /^[0-9a-f]{40}\/1\.38\.\d+(-dev)?\/Clean\/RELEASE\/BoringSSL$/);
  });

  it("names an Istio release it has no commit for as a distribution build of that release", () => {
    const other = istioGatewayIdentity({ ...POD, istioVersion: "1.31.0", envoyVersion: "1.39.0" });
    assert.equal(serverInfo(other, applied, STARTED).version, "1.31.0/1.39.0/Distribution/RELEASE/BoringSSL");
  });

  it("is INITIALIZING until a snapshot is applied, then LIVE", () => {
    assert.equal(serverInfo(identity, undefined, STARTED).state, "INITIALIZING");
    assert.equal(serverInfo(identity, applied, STARTED).state, "LIVE");
  });

  it("counts uptime in whole seconds of the clock, as Envoy subtracts time_t values", () => {
    // 59.2 s have passed, but the clock's second moved 60 times.
    const info = serverInfo(identity, applied, Date.UTC(2026, 6, 1, 12, 0, 0, 100));
    assert.equal(info.uptimeCurrentEpoch, "60s");
    assert.equal(info.uptimeAllEpochs, "60s");
  });

  it("reports hot restart as disabled, as pilot-agent starts Envoy", () => {
    assert.equal(serverInfo(identity, applied, STARTED).hotRestartVersion, "disabled");
  });

  it("prints the same node as the bootstrap dump, with Envoy's user agent", () => {
    const result = configDump(applied, identity, { mask: "bootstrap.node" }, STARTED);
    assert.equal(result.status, 200);
    const bootstrap = (result.status === 200 ? result.body.configs?.[0]?.bootstrap : undefined) as
      | { node: unknown }
      | undefined;
    const info = serverInfo(identity, applied, STARTED);
    assert.deepEqual(bootstrap?.node, info.node);
    assert.equal(info.node.userAgentName, "envoy");
    assert.deepEqual(info.node.userAgentBuildVersion, {
      version: { majorNumber: 1, minorNumber: 38, patch: 4 },
      metadata: {
        "build.label": "dev",
        "build.type": "RELEASE",
        "revision.sha": ISTIO_PROXY_REVISIONS[EMULATED_ISTIO_RELEASE],
        "revision.status": "Clean",
        "ssl.version": "BoringSSL",
      },
    });
  });
});

describe("the gateway's identity as pilot-agent builds it", () => {
  it("uses Istio's node id and service cluster for a router", () => {
    assert.equal(
      identity.nodeId,
      "router~10.244.0.7~istio-ingressgateway-5d8f6c7b9d-x2x7q.istio-system~istio-system.svc.cluster.local",
    );
    assert.equal(identity.nodeCluster, "istio-ingressgateway.istio-system");
    assert.deepEqual(identity.adminAddress, { address: "127.0.0.1", portValue: 15000 });
    assert.equal(identity.istioVersion, EMULATED_ISTIO_RELEASE);
    assert.equal(identity.envoyVersion, EMULATED_ENVOY_VERSION);
  });

  it("sets the node metadata that follows from the pod, in key order, with labels in key order", () => {
    assert.deepEqual(identity.nodeMetadata, {
      CLUSTER_ID: "Kubernetes",
      INSTANCE_IPS: "10.244.0.7",
      ISTIO_PROXY_SHA: ISTIO_PROXY_REVISIONS[EMULATED_ISTIO_RELEASE],
      ISTIO_VERSION: EMULATED_ISTIO_RELEASE,
      LABELS: { app: "istio-ingressgateway", istio: "ingressgateway", "pod-template-hash": "5d8f6c7b9d" },
      MESH_ID: "cluster.local",
      NAME: "istio-ingressgateway-5d8f6c7b9d-x2x7q",
      NAMESPACE: "istio-system",
      OWNER: "kubernetes://apis/apps/v1/namespaces/istio-system/deployments/istio-ingressgateway",
      WORKLOAD_NAME: "istio-ingressgateway",
    });
    assert.deepEqual(Object.keys(identity.nodeMetadata.LABELS as object), [
      "app",
      "istio",
      "pod-template-hash",
    ]);
  });

  it("leaves out the workload of a pod no Deployment made, and falls back to it or istio-proxy for the cluster", () => {
    const bare = istioGatewayIdentity({ ...POD, podName: "gateway", labels: {} });
    assert.equal(bare.nodeMetadata.WORKLOAD_NAME, undefined);
    assert.equal(bare.nodeMetadata.OWNER, undefined);
    assert.equal(bare.nodeCluster, "istio-proxy.istio-system");
    const unlabelled = istioGatewayIdentity({ ...POD, labels: { "pod-template-hash": "5d8f6c7b9d" } });
    assert.equal(unlabelled.nodeCluster, "istio-ingressgateway.istio-system");
  });
});
