/**
 * The walkthrough's objects as istiod sees them once applied to namespace `default`: read from
 * deploy/*.yaml, with a kustomize component's patches applied the way kustomize does for these files
 * (its JSON-patch ops on the DestinationRule, its strategic-merge label, its `$patch: delete`).
 */
import { readFileSync } from "node:fs";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import {
  DEFAULT_GATEWAY_PROXY,
  type IstiodInput,
  type KubeObject,
  type ServiceEndpoint,
} from "../../src/istiod/input.js";

const deploy = (file: string) => new URL(`../../deploy/${file}`, import.meta.url);
const docs = (file: string): KubeObject[] =>
  parseAllDocuments(readFileSync(deploy(file), "utf8"))
    .map((d) => d.toJS() as KubeObject)
    .filter((o) => o?.kind)
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? "default" } }));

export type Component = "header-hash" | "source-ip-hash" | "maglev" | "persistent-session";

interface Op {
  op: "add" | "replace";
  path: string;
  value: unknown;
}

function applyOps(target: Record<string, unknown>, ops: Op[]): void {
  for (const { path, value } of ops) {
    const keys = path.split("/").slice(1);
    let at = target;
    for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
    at[keys.at(-1) as string] = value;
  }
}

export const HOST = "session-svc.default.svc.cluster.local";

/** Three ready, injected session pods, one per zone of one region. */
export const PODS: ServiceEndpoint[] = ["a", "b", "c"].map((zone, i) => ({
  address: `127.0.0.${11 + i}`,
  ports: { 80: 8080 },
  podName: `session-deployment-7d9f8b6c5d-${zone}bc1${i}`,
  labels: { app: "session", "security.istio.io/tlsMode": "istio", "pod-template-hash": "7d9f8b6c5d" },
  locality: { region: "eu-west-1", zone: `eu-west-1${zone}`, subzone: "" },
}));

export function walkthroughInput(component?: Component): IstiodInput {
  const objects = [
    ...docs("session.yaml"),
    ...docs("session-gateway.yaml"),
    ...docs("session-affinity.yaml"),
  ];
  let services = objects.filter((o) => o.kind === "Service");
  let rules = objects.filter((o) => o.kind === "DestinationRule");
  if (component) {
    const dir = `components/${component}`;
    const k = parseYaml(readFileSync(deploy(`${dir}/kustomization.yaml`), "utf8")) as {
      patches: { patch?: string; path?: string }[];
    };
    for (const p of k.patches) {
      if (p.patch) {
        rules = rules.map((r) => {
          const copy = structuredClone(r) as unknown as Record<string, unknown>;
          applyOps(copy, parseYaml(p.patch as string) as Op[]);
          return copy as unknown as KubeObject;
        });
        continue;
      }
      const patch = parseYaml(readFileSync(deploy(`${dir}/${p.path}`), "utf8")) as KubeObject & {
        $patch?: string;
      };
      if (patch.$patch === "delete") rules = rules.filter((r) => r.metadata.name !== patch.metadata.name);
      else if (patch.kind === "Service")
        services = services.map((s) =>
          s.metadata.name === patch.metadata.name
            ? {
                ...s,
                metadata: { ...s.metadata, labels: { ...s.metadata.labels, ...patch.metadata.labels } },
              }
            : s,
        );
    }
  }
  return {
    services,
    gateways: objects.filter((o) => o.kind === "Gateway"),
    virtualServices: objects.filter((o) => o.kind === "VirtualService"),
    destinationRules: rules,
    endpoints: [{ namespace: "default", name: "session-svc", endpoints: PODS }],
    proxy: DEFAULT_GATEWAY_PROXY,
  };
}
