/**
 * The contract between the control plane and the data plane: one push of xDS resources, as Envoy
 * receives them over ADS. Immutable; `version` plays xDS `version_info`. The translation (src/istiod)
 * produces it, the gateway (src/envoy) runs from it, and a real proxy's config dump reads back into it.
 */
import type { EnvoyCluster, EnvoyClusterLoadAssignment } from "./cluster-types.js";
import type { EnvoyListener } from "./listener-types.js";
import type { EnvoyRouteConfiguration } from "./route-types.js";

export interface XdsSnapshot {
  readonly version: string;
  /** The Istio minor whose istiod produced this output. */
  readonly istioVersion: string;
  readonly listeners: readonly EnvoyListener[];
  readonly routes: readonly EnvoyRouteConfiguration[];
  readonly clusters: readonly EnvoyCluster[];
  readonly endpoints: readonly EnvoyClusterLoadAssignment[];
}
