/**
 * Which push last changed each resource, as Envoy records it. Envoy hashes every resource it
 * receives and ignores one whose hash is unchanged (listeners: ListenerManagerImpl's blockUpdate;
 * clusters: ClusterManagerImpl::addOrUpdateCluster; routes: RouteConfigUpdateReceiverImpl::onRdsUpdate),
 * so an unchanged resource keeps the version_info and last_updated of the push that last changed it,
 * while the top-level version_info of the CDS and LDS dumps follows every accepted push.
 */
import type { XdsSnapshot } from "../xds/snapshot.js";
import type { AppliedSnapshot, ResourceUpdate } from "./admin/views.js";

/**
 * Whether two resources are the same message: plain JSON compared field by field, stopping at the
 * first difference (Envoy compares hashes of the messages; comparing directly needs no hashing and
 * no serialisation, which on a 1,000-cluster push is most of the cost).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (
      !Object.hasOwn(b, k) ||
      !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    )
      return false;
  }
  return true;
}

/**
 * A protobuf Timestamp as Envoy prints one in JSON: Envoy keeps milliseconds
 * (TimestampUtil::systemClockToTimestamp), and protobuf prints no fraction for a whole second,
 * else three digits ("2026-12-03T19:41:43Z", "2026-12-03T19:41:43.120Z").
 */
export function envoyTimestamp(epochMs: number): string {
  return new Date(Math.floor(epochMs)).toISOString().replace(".000Z", "Z");
}

function track<T extends object>(
  previousUpdates: ReadonlyMap<string, ResourceUpdate> | undefined,
  previousResources: readonly T[],
  resources: readonly T[],
  nameOf: (resource: T) => string,
  current: ResourceUpdate,
): ReadonlyMap<string, ResourceUpdate> {
  const before = new Map(previousResources.map((r) => [nameOf(r), r]));
  const updates = new Map<string, ResourceUpdate>();
  for (const resource of resources) {
    const name = nameOf(resource);
    const old = before.get(name);
    const kept = previousUpdates?.get(name);
    const unchanged = old !== undefined && sameJson(old, resource);
    updates.set(name, unchanged && kept ? kept : current);
  }
  return updates;
}

/**
 * The books after Envoy accepts `snapshot`: a resource whose JSON is unchanged keeps its previous
 * version and time, a new or changed one takes the snapshot's version and `now`, and a removed one is
 * gone (Envoy drains a removed listener for a while; the books stop at removal).
 */
export function applySnapshot(
  previous: AppliedSnapshot | undefined,
  snapshot: XdsSnapshot,
  now: number,
): AppliedSnapshot {
  const current: ResourceUpdate = { versionInfo: snapshot.version, lastUpdated: envoyTimestamp(now) };
  const old = previous?.snapshot;
  return {
    snapshot,
    listeners: track(previous?.listeners, old?.listeners ?? [], snapshot.listeners, (l) => l.name, current),
    routes: track(previous?.routes, old?.routes ?? [], snapshot.routes, (r) => r.name, current),
    clusters: track(previous?.clusters, old?.clusters ?? [], snapshot.clusters, (c) => c.name, current),
    endpoints: track(
      previous?.endpoints,
      old?.endpoints ?? [],
      snapshot.endpoints,
      (e) => e.clusterName,
      current,
    ),
    version: snapshot.version,
  };
}
