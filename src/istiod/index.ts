/**
 * istiod for the ingress gateway, pure: the applied objects and ready endpoints in, one xDS snapshot
 * out (Listeners, RouteConfigurations, Clusters, ClusterLoadAssignments as Envoy v3 JSON). The
 * snapshot is the only contract with the data plane: nothing downstream reads Istio objects.
 */

import type { XdsSnapshot } from "../xds/snapshot.js";
import { buildClusters } from "./clusters.js";
import { buildEndpoints } from "./endpoints.js";
import { EMULATED_ISTIOD_VERSION, type IstiodInput } from "./input.js";
import { buildListeners } from "./listeners.js";
import { buildRoutes } from "./routes.js";

export type { XdsSnapshot } from "../xds/snapshot.js";
export type { IstiodInput } from "./input.js";
export { DEFAULT_GATEWAY_PROXY, EMULATED_ISTIOD_VERSION } from "./input.js";

export function translate(input: IstiodInput, version: string): XdsSnapshot {
  return Object.freeze({
    version,
    istioVersion: EMULATED_ISTIOD_VERSION,
    listeners: buildListeners(input),
    routes: buildRoutes(input),
    clusters: buildClusters(input),
    endpoints: buildEndpoints(input),
  });
}
