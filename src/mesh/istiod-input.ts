/**
 * What the local API server hands istiod: the applied Services, Gateways, VirtualServices and
 * DestinationRules as stored (oldest first, as istiod orders configs), and each Service's ready
 * endpoints from its EndpointSlices (endpoints.ts) with the pod's labels. Every local pod listens on
 * 127.0.0.1 on a port of its own, so a pod's "IP" is the loopback address and its target port that
 * port, whichever Service port maps to it.
 */
import type { IstiodInput, KubeObject, ServiceEndpoints } from "../istiod/input.js";
import { DEFAULT_GATEWAY_PROXY } from "../istiod/input.js";
import type { ControlPlane } from "./control-plane.js";
import { type PodView, serviceEndpoints } from "./endpoints.js";
import { DEFAULT_NAMESPACE, type MeshKind } from "./model.js";

function stored(cp: ControlPlane, kind: MeshKind): KubeObject[] {
  return cp.list(kind).map(({ doc }) => {
    const object = doc.object as unknown as KubeObject;
    return { ...object, metadata: { ...object.metadata, namespace: doc.namespace ?? DEFAULT_NAMESPACE } };
  });
}

/** The objects istiod reads, kept for one control-plane revision (pods change far more often). */
export interface StoredObjects {
  readonly revision: number;
  readonly services: KubeObject[];
  readonly gateways: KubeObject[];
  readonly virtualServices: KubeObject[];
  readonly destinationRules: KubeObject[];
}

export function storedObjects(cp: ControlPlane): StoredObjects {
  return {
    revision: cp.revision,
    services: stored(cp, "Service"),
    gateways: stored(cp, "Gateway"),
    virtualServices: stored(cp, "VirtualService"),
    destinationRules: stored(cp, "DestinationRule"),
  };
}

export function istiodInput(cp: ControlPlane, objects: StoredObjects, pods: readonly PodView[]): IstiodInput {
  const endpoints: ServiceEndpoints[] = cp.list("Service").map(({ object: service }) => {
    const byPod = new Map<
      string,
      {
        address: string;
        ports: Record<number, number>;
        podName: string;
        labels: Readonly<Record<string, string>>;
      }
    >();
    for (const port of service.ports) {
      for (const e of serviceEndpoints(service, port, pods)) {
        const target = Number(e.address.slice(e.address.lastIndexOf(":") + 1));
        const entry = byPod.get(e.pod) ?? {
          address: "127.0.0.1",
          ports: {},
          podName: e.pod,
          labels: e.labels,
        };
        entry.ports[port.port] = target;
        byPod.set(e.pod, entry);
      }
    }
    return {
      namespace: service.namespace,
      name: service.name,
      endpoints: [...byPod.values()].map((e) => ({ ...e, locality: { region: "", zone: "", subzone: "" } })),
    };
  });
  return {
    services: objects.services,
    gateways: objects.gateways,
    virtualServices: objects.virtualServices,
    destinationRules: objects.destinationRules,
    endpoints,
    proxy: DEFAULT_GATEWAY_PROXY,
    // The local mesh runs istiod with persistent sessions on, so the walkthrough's label works.
    features: { enablePersistentSessionFilter: true },
  };
}
