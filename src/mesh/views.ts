/**
 * The JSON the control API returns for `get`: one view per resource, built from the applied objects
 * and the pods. The same views feed `get`, a checker or a dashboard; tables.ts renders them as
 * kubectl does.
 */
import type { AppliedObject, ControlPlane } from "./control-plane.js";
import { endpointsOfService, podViews } from "./endpoints.js";
import type { DeploymentModel } from "./model.js";
import type { Pod, PodReason } from "./pod.js";
import { podTemplateHash } from "./pod-name.js";

export interface PodInfo {
  readonly name: string;
  readonly namespace: string;
  readonly deployment: string;
  readonly templateHash: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  readonly status: PodReason;
  readonly restarts: number;
  readonly lastRestartAt?: number;
  readonly createdAt: number;
  /** ip:port of the process; the endpoint address while ready. */
  readonly address?: string;
  readonly pid?: number;
  readonly message?: string;
}

export interface DeploymentInfo {
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly ready: number;
  readonly upToDate: number;
  readonly available: number;
  readonly templateHash: string;
  readonly createdAt: number;
}

export interface ServiceInfo {
  readonly name: string;
  readonly namespace: string;
  readonly type: string;
  readonly ports: readonly string[];
  readonly selector: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

export interface GatewayInfo {
  readonly name: string;
  readonly namespace: string;
  readonly hosts: readonly string[];
  readonly createdAt: number;
}

export interface VirtualServiceInfo {
  readonly name: string;
  readonly namespace: string;
  readonly gateways: readonly string[];
  readonly hosts: readonly string[];
  readonly createdAt: number;
}

export interface DestinationRuleInfo {
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
  readonly createdAt: number;
}

export interface EndpointsInfo {
  readonly name: string;
  readonly namespace: string;
  readonly addresses: readonly { readonly address: string; readonly pod: string }[];
  readonly createdAt: number;
}

export interface ResourceViews {
  pods: PodInfo[];
  deployments: DeploymentInfo[];
  services: ServiceInfo[];
  gateways: GatewayInfo[];
  virtualservices: VirtualServiceInfo[];
  destinationrules: DestinationRuleInfo[];
  endpoints: EndpointsInfo[];
}

export type ResourceName = keyof ResourceViews;

export const RESOURCE_NAMES: readonly ResourceName[] = [
  "pods",
  "deployments",
  "services",
  "gateways",
  "virtualservices",
  "destinationrules",
  "endpoints",
];

export function podInfo(pod: Pod): PodInfo {
  const s = pod.status();
  return {
    name: s.name,
    namespace: s.namespace,
    deployment: s.deployment,
    templateHash: s.templateHash,
    labels: s.labels,
    ready: s.ready,
    status: s.reason,
    restarts: s.restarts,
    ...(s.lastExit && s.restarts > 0 ? { lastRestartAt: s.lastExit.at } : {}),
    createdAt: s.createdAt,
    ...(s.port === undefined ? {} : { address: `127.0.0.1:${s.port}` }),
    ...(s.pid === undefined ? {} : { pid: s.pid }),
    ...(s.message === undefined ? {} : { message: s.message }),
  };
}

function deploymentInfo(
  applied: AppliedObject & { object: DeploymentModel },
  pods: readonly Pod[],
): DeploymentInfo {
  const d = applied.object;
  const hash = podTemplateHash(d.template);
  const own = pods.filter(
    (p) => p.spec.namespace === d.namespace && p.spec.deployment === d.name && !p.terminating,
  );
  const ready = own.filter((p) => p.ready).length;
  return {
    name: d.name,
    namespace: d.namespace,
    replicas: d.replicas,
    ready,
    upToDate: own.filter((p) => p.spec.templateHash === hash).length,
    available: ready,
    templateHash: hash,
    createdAt: applied.createdAt,
  };
}

export function buildViews(controlPlane: ControlPlane, pods: readonly Pod[]): ResourceViews {
  const selectable = podViews(pods);
  return {
    pods: pods.map(podInfo),
    deployments: controlPlane.list("Deployment").map((a) => deploymentInfo(a, pods)),
    services: controlPlane.list("Service").map((a) => ({
      name: a.object.name,
      namespace: a.object.namespace,
      type: a.object.type,
      ports: a.object.ports.map((p) => `${p.port}/TCP`),
      selector: a.object.selector,
      labels: a.object.labels,
      createdAt: a.createdAt,
    })),
    gateways: controlPlane.list("Gateway").map((a) => ({
      name: a.object.name,
      namespace: a.object.namespace,
      hosts: a.object.servers.flatMap((s) => s.hosts),
      createdAt: a.createdAt,
    })),
    virtualservices: controlPlane.list("VirtualService").map((a) => ({
      name: a.object.name,
      namespace: a.object.namespace,
      gateways: a.object.gateways,
      hosts: a.object.hosts,
      createdAt: a.createdAt,
    })),
    destinationrules: controlPlane.list("DestinationRule").map((a) => ({
      name: a.object.name,
      namespace: a.object.namespace,
      host: a.object.host,
      createdAt: a.createdAt,
    })),
    endpoints: controlPlane.list("Service").map((a) => ({
      name: a.object.name,
      namespace: a.object.namespace,
      addresses: endpointsOfService(a.object, selectable).map((e) => ({ address: e.address, pod: e.pod })),
      createdAt: a.createdAt,
    })),
  };
}
