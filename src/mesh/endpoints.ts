/**
 * EndpointSlices: which pods back a Service port. Only ready pods that are not terminating are
 * endpoints (Istio sends nothing else to the gateway), so a pod leaves the load balancer the moment
 * it starts terminating, before it is signalled. Every container port of a pod is served by its one
 * process, on the ephemeral loopback port it listens on.
 */
import { type ServiceModel, type ServicePort, selects } from "./model.js";
import type { Pod } from "./pod.js";

export interface PodView {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly port: number | undefined;
  readonly containerPorts: readonly { readonly name?: string; readonly containerPort: number }[];
}

/** What endpoint selection needs to know of each running pod. */
export function podViews(pods: readonly Pod[]): PodView[] {
  return pods.map((p) => ({
    name: p.name,
    namespace: p.spec.namespace,
    labels: p.spec.labels,
    ready: p.ready,
    terminating: p.terminating,
    port: p.port,
    containerPorts: p.spec.containerPorts,
  }));
}

export interface EndpointEntry {
  /** ip:port as the balancer and Envoy print it. */
  readonly address: string;
  readonly pod: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Whether the pod declares the Service's target port (by number or by name). */
function servesTarget(pod: PodView, port: ServicePort): boolean {
  if (pod.containerPorts.length === 0) return typeof port.targetPort === "number";
  return pod.containerPorts.some((p) =>
    typeof port.targetPort === "string" ? p.name === port.targetPort : p.containerPort === port.targetPort,
  );
}

/** The ready endpoints of one Service port, optionally narrowed to a subset's labels, in pod-name order. */
export function serviceEndpoints(
  service: ServiceModel,
  servicePort: ServicePort,
  pods: readonly PodView[],
  subsetLabels: Readonly<Record<string, string>> = {},
): EndpointEntry[] {
  const out: EndpointEntry[] = [];
  for (const pod of pods) {
    if (pod.namespace !== service.namespace || !pod.ready || pod.terminating || pod.port === undefined)
      continue;
    if (!selects(service.selector, pod.labels)) continue;
    if (Object.entries(subsetLabels).some(([k, v]) => pod.labels[k] !== v)) continue;
    if (!servesTarget(pod, servicePort)) continue;
    out.push({ address: `127.0.0.1:${pod.port}`, pod: pod.name, labels: pod.labels });
  }
  return out.sort((a, b) => a.pod.localeCompare(b.pod));
}

/** All endpoints of a Service (any port), for `get endpoints`. */
export function endpointsOfService(service: ServiceModel, pods: readonly PodView[]): EndpointEntry[] {
  const seen = new Map<string, EndpointEntry>();
  for (const port of service.ports) {
    for (const e of serviceEndpoints(service, port, pods)) seen.set(e.address, e);
  }
  return [...seen.values()];
}
