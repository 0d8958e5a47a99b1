import { type ClusterConfig, clusterConfigOf } from "../../src/envoy/cluster-config.js";
import type { HostEntry } from "../../src/envoy/endpoints.js";
import { type RouteTable, routeTableOf } from "../../src/envoy/route-table.js";
import { DEFAULT_GATEWAY_PROXY, type IstiodInput, translate } from "../../src/istiod/index.js";
import type { KubeObject } from "../../src/istiod/input.js";
import { parseManifests } from "../../src/manifests/index.js";
import type { XdsSnapshot } from "../../src/xds/snapshot.js";

/** The walkthrough's ingress Gateway (all hosts, port 80) and the `session-svc` Service. */
export const GATEWAY_AND_SERVICE_YAML = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: session-gateway}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: v1
kind: Service
metadata: {name: session-svc}
spec: {selector: {app: session}, ports: [{name: http, port: 80, targetPort: http}]}
`;

/** A VirtualService `session` on the walkthrough's Gateway, all hosts, with one HTTP route `route`. */
export const virtualServiceYaml = (route: string) => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: session}
spec:
  hosts: ["*"]
  gateways: [session-gateway]
  http:
    - route: ${route}
`;

/** What the gateway runs: the route table of its listener and each cluster's configuration. */
export interface TestGatewayConfig {
  readonly snapshot: XdsSnapshot;
  readonly routes: RouteTable;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
}

/** The objects of `yaml` as istiod reads them (namespace `default` unless set), no endpoints. */
export function istiodInputFromYaml(yaml: string, file = "test.yaml"): IstiodInput {
  const objects = parseManifests(yaml, file).documents.map((d) => {
    const o = d.object as unknown as KubeObject;
    return { ...o, metadata: { ...o.metadata, namespace: d.namespace ?? "default" } };
  });
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  return {
    services: of("Service"),
    gateways: of("Gateway"),
    virtualServices: of("VirtualService"),
    destinationRules: of("DestinationRule"),
    endpoints: [],
    proxy: DEFAULT_GATEWAY_PROXY,
    features: { enablePersistentSessionFilter: true },
  };
}

/** What istiod pushes for the objects in `yaml`, read back as the gateway runs it. */
export function gatewayConfigFromYaml(yaml: string, file = "test.yaml"): TestGatewayConfig {
  const snapshot = translate(istiodInputFromYaml(yaml, file), "1");
  return {
    snapshot,
    routes: routeTableOf(snapshot.listeners, snapshot.routes, DEFAULT_GATEWAY_PROXY.portMap[80] as number),
    clusters: new Map(snapshot.clusters.map((c) => [c.name, clusterConfigOf(c)])),
  };
}

/** Healthy priority-0 hosts at `addresses`. */
export function hostEntries(addresses: readonly string[]): HostEntry[] {
  return addresses.map((address) => ({
    address,
    weight: 1,
    health: "HEALTHY",
    locality: {},
  }));
}
