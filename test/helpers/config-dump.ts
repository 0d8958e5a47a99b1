/**
 * Config dumps as the local gateway's admin prints them (/config_dump?include_eds), built from the
 * local istiod's translation of an input: the fixtures `explain` and `proxy-config` read.
 */
import { configDump } from "../../src/envoy/admin/config-dump.js";
import { istioGatewayIdentity } from "../../src/envoy/admin/identity.js";
import { applySnapshot } from "../../src/envoy/resource-versions.js";
import { DEFAULT_GATEWAY_PROXY, type IstiodInput, translate } from "../../src/istiod/index.js";
import type { XdsSnapshot } from "../../src/xds/snapshot.js";

export function dumpOfSnapshot(snapshot: XdsSnapshot, istioVersion = "1.30.3"): Record<string, unknown> {
  const identity = istioGatewayIdentity({
    podName: "istio-ingressgateway-7d9f8b6c5d-x2x4q",
    namespace: "istio-system",
    podIp: "10.0.0.2",
    adminPort: 15000,
    startedAt: 0,
    labels: { ...DEFAULT_GATEWAY_PROXY.labels, "pod-template-hash": "7d9f8b6c5d" },
    istioVersion,
  });
  const result = configDump(applySnapshot(undefined, snapshot, 0), identity, { includeEds: true }, 0);
  if (result.status !== 200) throw new Error(result.message);
  return result.body as Record<string, unknown>;
}

export function dumpOf(input: IstiodInput, istioVersion?: string): Record<string, unknown> {
  return dumpOfSnapshot(translate(input, "1"), istioVersion);
}
