/**
 * istiod for the ingress gateway, pure: the applied objects and ready endpoints in, one xDS snapshot
 * out (Listeners, RouteConfigurations, Clusters, ClusterLoadAssignments as Envoy v3 JSON). The
 * snapshot is the only contract with the data plane: nothing downstream reads Istio objects.
 */
import { buildClusters } from "./clusters.js";
import { buildEndpoints } from "./endpoints.js";
import type { EnvoyCluster, EnvoyClusterLoadAssignment } from "./envoy-types.js";
import { EMULATED_ISTIOD_VERSION, type IstiodInput } from "./input.js";
import type { EnvoyListener } from "./listener-types.js";
import { buildListeners } from "./listeners.js";
import type { EnvoyRouteConfiguration } from "./route-types.js";
import { buildRoutes } from "./routes.js";

export type { IstiodInput } from "./input.js";
export { DEFAULT_GATEWAY_PROXY, EMULATED_ISTIOD_VERSION } from "./input.js";

/** One push: immutable, versioned as xDS `version_info` is. */
export interface XdsSnapshot {
  readonly version: string;
  /** The Istio minor whose istiod this output reproduces. */
  readonly istioVersion: string;
  readonly listeners: readonly EnvoyListener[];
  readonly routes: readonly EnvoyRouteConfiguration[];
  readonly clusters: readonly EnvoyCluster[];
  readonly endpoints: readonly EnvoyClusterLoadAssignment[];
}

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
