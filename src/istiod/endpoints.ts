/**
 * EDS for the ingress gateway: one ClusterLoadAssignment per EDS cluster of buildClusters, as istiod's
 * EndpointBuilder builds them (pilot/pkg/xds/endpoints/endpoint_builder.go, with
 * util.AppendLbEndpointMetadata from pilot/pkg/networking/util/util.go). Pure: reads only the input.
 */

import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  type EnvoyClusterLoadAssignment,
  type EnvoyLbEndpoint,
  type EnvoyLocalityLbEndpoints,
  type EnvoyMetadata,
} from "../xds/cluster-types.js";
import { buildClusters } from "./clusters.js";
import type { IstiodInput, ServiceEndpoint } from "./input.js";
import { destinationRuleFor, meshServices } from "./service-model.js";

/** The cluster ID istiod reports for its own Kubernetes cluster unless configured otherwise. */
const CLUSTER_ID = "Kubernetes";
/** features.DrainingLabel: a pod carrying it is sent as DRAINING. */
const DRAINING_LABEL = "istio.io/draining";

/**
 * The workload a pod belongs to, as istiod names it from the pod's owner: a Deployment's pod
 * `<deployment>-<replicaset hash>-<pod hash>` belongs to `<deployment>`.
 */
export function workloadName(podName: string): string {
  const m = /^(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(podName);
  return m ? (m[1] as string) : podName;
}

/** kubelabels.CanonicalService: the canonical name and revision labels, with their fallbacks. */
function canonicalService(labels: Readonly<Record<string, string>>, workload: string): [string, string] {
  const name =
    labels["service.istio.io/canonical-name"] ?? labels["app.kubernetes.io/name"] ?? labels.app ?? workload;
  const revision =
    labels["service.istio.io/canonical-revision"] ??
    labels["app.kubernetes.io/version"] ??
    labels.version ??
    "latest";
  return [name, revision];
}

/** util.AppendLbEndpointMetadata: the mTLS transport-socket match and the compressed workload label. */
function endpointMetadata(ep: ServiceEndpoint, namespace: string): EnvoyMetadata {
  const filterMetadata: EnvoyMetadata["filterMetadata"] = {};
  // Only a pod injected with a sidecar (label security.istio.io/tlsMode: istio) is sent as mTLS-capable;
  // with no PeerAuthentication the mesh is PERMISSIVE, so istiod keeps the mode.
  const tlsMode = ep.labels["security.istio.io/tlsMode"];
  if (tlsMode && tlsMode !== "disabled") filterMetadata["envoy.transport_socket_match"] = { tlsMode };
  const workload = workloadName(ep.podName);
  const [canonicalName, revision] = canonicalService(ep.labels, workload);
  // "latest" is the default and not sent.
  const rev = revision === "latest" ? "" : revision;
  filterMetadata.istio = { workload: `${workload};${namespace};${canonicalName};${rev};${CLUSTER_ID}` };
  return { filterMetadata };
}

/** An endpoint's metadata, worked out once per endpoint and shared by every cluster it is in. */
const metadataCache = new WeakMap<ServiceEndpoint, EnvoyMetadata>();
function metadataOf(ep: ServiceEndpoint, namespace: string): EnvoyMetadata {
  let metadata = metadataCache.get(ep);
  if (metadata === undefined) {
    metadata = endpointMetadata(ep, namespace);
    metadataCache.set(ep, metadata);
  }
  return metadata;
}

const localityKey = (l: ServiceEndpoint["locality"]) => `${l.region}/${l.zone}/${l.subzone}`;

/**
 * The load assignment of one cluster: the service's endpoints that serve the port (and match the
 * subset's labels), grouped by locality, each locality weighted by the sum of its endpoints' weights.
 */
function loadAssignment(
  name: string,
  namespace: string,
  endpoints: readonly ServiceEndpoint[],
  port: number,
  subsetLabels: Readonly<Record<string, string>>,
): EnvoyClusterLoadAssignment {
  const byLocality = new Map<
    string,
    { locality: ServiceEndpoint["locality"]; lbEndpoints: EnvoyLbEndpoint[] }
  >();
  const wanted = Object.entries(subsetLabels);
  for (const ep of endpoints) {
    const target = ep.ports[port];
    if (target === undefined) continue;
    if (wanted.length > 0 && !wanted.every(([k, v]) => ep.labels[k] === v)) continue;
    const key = localityKey(ep.locality);
    let group = byLocality.get(key);
    if (!group) {
      group = { locality: ep.locality, lbEndpoints: [] };
      byLocality.set(key, group);
    }
    group.lbEndpoints.push({
      endpoint: { address: { socketAddress: { address: ep.address, portValue: target } } },
      // Only ready endpoints are in the input; a draining-labelled one is still sent, as DRAINING.
      healthStatus: ep.labels[DRAINING_LABEL] ? "DRAINING" : "HEALTHY",
      metadata: metadataOf(ep, namespace),
      // IstioEndpoint.GetLoadBalancingWeight: 1 unless a weight was given.
      loadBalancingWeight: 1,
    });
  }
  const localities: EnvoyLocalityLbEndpoints[] = [...byLocality.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({
      // util.ConvertLocality: empty parts are left out, so an unset locality prints as {}.
      locality: {
        ...(g.locality.region ? { region: g.locality.region } : {}),
        ...(g.locality.zone ? { zone: g.locality.zone } : {}),
        ...(g.locality.subzone ? { subZone: g.locality.subzone } : {}),
      },
      lbEndpoints: g.lbEndpoints,
      loadBalancingWeight: g.lbEndpoints.reduce((sum, e) => sum + e.loadBalancingWeight, 0),
    }));
  return { "@type": CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, clusterName: name, endpoints: localities };
}

/** One ClusterLoadAssignment per EDS cluster, in the clusters' order. */
export function buildEndpoints(input: IstiodInput): EnvoyClusterLoadAssignment[] {
  const services = new Map(meshServices(input).map((s) => [s.hostname, s]));
  const byService = new Map(input.endpoints.map((e) => [`${e.namespace}/${e.name}`, e.endpoints]));
  const out: EnvoyClusterLoadAssignment[] = [];
  for (const c of buildClusters(input)) {
    if (c.type !== "EDS") continue;
    const [, portText, subset, host] = c.name.split("|") as [string, string, string, string];
    const service = services.get(host);
    if (!service) continue;
    const eps = byService.get(`${service.namespace}/${service.name}`) ?? [];
    const labels = subset
      ? (destinationRuleFor(input, host)?.spec.subsets?.find((s) => s.name === subset)?.labels ?? {})
      : {};
    out.push(loadAssignment(c.name, service.namespace, eps, Number(portText), labels));
  }
  return out;
}
