/**
 * A config dump read back as the xDS snapshot it was built from, so the local gateway can run a real
 * proxy's configuration (`up --config-dump`): the active listeners, route configurations, clusters
 * and, from `?include_eds`, the load assignments, in proto3 JSON form. Fields the gateway does not act
 * on stay in, and are listed by it as not implemented.
 */
import { SessionAffinityError } from "../errors.js";
import type { EnvoyCluster, EnvoyClusterLoadAssignment } from "../xds/cluster-types.js";
import type { EnvoyListener } from "../xds/listener-types.js";
import type { EnvoyRouteConfiguration } from "../xds/route-types.js";
import type { XdsSnapshot } from "../xds/snapshot.js";
import {
  type ConfigDump,
  dumpBootstrapNode,
  dumpClusters,
  dumpEndpointConfigs,
  dumpListeners,
  dumpRouteConfigs,
  field,
  findSection,
  str,
} from "./config-dump.js";

export function snapshotOfDump(dump: ConfigDump, version: string): XdsSnapshot {
  const endpoints = dumpEndpointConfigs(dump);
  if (!endpoints)
    throw new SessionAffinityError(
      "ERR_USAGE",
      `${dump.source ?? "config dump"}: has no endpoints; take it with /config_dump?include_eds (istioctl proxy-config all -o json includes them)`,
    );
  const node = findSection(dump, "bootstrap") ? dumpBootstrapNode(dump) : {};
  return Object.freeze({
    version,
    istioVersion: str(field(node.metadata, "ISTIO_VERSION")),
    listeners: dumpListeners(dump) as unknown as EnvoyListener[],
    routes: dumpRouteConfigs(dump) as unknown as EnvoyRouteConfiguration[],
    clusters: dumpClusters(dump) as unknown as EnvoyCluster[],
    endpoints: endpoints as unknown as EnvoyClusterLoadAssignment[],
  });
}

/** Every endpoint address of the snapshot's load assignments (ip:port, [ip]:port for IPv6), sorted. */
export function endpointAddresses(snapshot: XdsSnapshot): string[] {
  const out = new Set<string>();
  for (const cla of snapshot.endpoints)
    for (const group of cla.endpoints ?? [])
      for (const lb of group.lbEndpoints ?? []) {
        const s = lb.endpoint?.address?.socketAddress;
        if (!s) continue;
        out.add(s.address.includes(":") ? `[${s.address}]:${s.portValue}` : `${s.address}:${s.portValue}`);
      }
  return [...out].sort();
}
