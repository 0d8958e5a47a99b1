/**
 * EDS as the gateway runs it: a ClusterLoadAssignment's hosts with their weights, localities and
 * health. Every locality of priority 0 joins one host set, as Envoy balances them without
 * locality-weighted balancing; hosts of other priorities are kept apart (failover is not run) and
 * reported as such. Health (envoy: source/common/upstream/upstream_impl.cc): HEALTHY and UNKNOWN hosts
 * take traffic; UNHEALTHY, DRAINING, TIMEOUT and DEGRADED ones only in panic mode.
 */
import type { EnvoyClusterLoadAssignment, EnvoyLocality, HealthStatus } from "../xds/cluster-types.js";

export interface HostEntry {
  /** ip:port as the balancer and Envoy print it. */
  readonly address: string;
  readonly weight: number;
  readonly health: HealthStatus;
  readonly locality: EnvoyLocality;
}

export function isUsableHealth(health: HealthStatus): boolean {
  return health === "HEALTHY" || health === "UNKNOWN";
}

/** The priority-0 hosts of a ClusterLoadAssignment. */
export function hostsOf(assignment: EnvoyClusterLoadAssignment | undefined): HostEntry[] {
  const hosts: HostEntry[] = [];
  for (const group of assignment?.endpoints ?? []) {
    if (((group as { priority?: number }).priority ?? 0) !== 0) continue;
    for (const lb of group.lbEndpoints) {
      const s = lb.endpoint.address.socketAddress;
      const address = s.address.includes(":")
        ? `[${s.address}]:${s.portValue}`
        : `${s.address}:${s.portValue}`;
      hosts.push({
        address,
        weight: lb.loadBalancingWeight ?? 1,
        health: lb.healthStatus ?? "UNKNOWN",
        locality: group.locality ?? {},
      });
    }
  }
  return hosts;
}
