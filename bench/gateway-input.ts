/**
 * The input istiod reads for a large gateway, for the push and explain benchmarks: `services`
 * Services with `endpoints` pods each, every Service with a cookie ring-hash DestinationRule and a
 * VirtualService on one ingress Gateway, pods spread over three zones. `generation` replaces the first
 * pod of every Service, as a rollout would.
 */
import { DEFAULT_GATEWAY_PROXY, type IstiodInput } from "../src/istiod/index.js";
import type { KubeObject } from "../src/istiod/input.js";

export function gatewayInput(services: number, endpoints: number, generation = 0): IstiodInput {
  const svc: KubeObject[] = [];
  const virtualServices: KubeObject[] = [];
  const destinationRules: KubeObject[] = [];
  const eps: IstiodInput["endpoints"][number][] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    svc.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: "default", labels: { app: name } },
      spec: { selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    virtualServices.push({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name, namespace: "default" },
      spec: {
        hosts: [`${name}.example.com`],
        gateways: ["session-gateway"],
        http: [
          {
            match: [{ uri: { prefix: "/" } }],
            route: [{ destination: { host: name, port: { number: 80 } } }],
          },
        ],
      },
    });
    destinationRules.push({
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name, namespace: "default" },
      spec: {
        host: name,
        trafficPolicy: {
          loadBalancer: { consistentHash: { httpCookie: { name: "session-route", ttl: "3600s" } } },
        },
      },
    });
    eps.push({
      namespace: "default",
      name,
      endpoints: Array.from({ length: endpoints }, (_, j) => ({
        address: `10.${(i >> 8) & 255}.${i & 255}.${j === 0 ? 100 + (generation % 100) : j + 1}`,
        ports: { 80: 8080 },
        podName: `${name}-7d9f8b6c5d-p${j}`,
        labels: { app: name },
        locality: { region: "eu-west-1", zone: `eu-west-1${"abc"[j % 3]}`, subzone: "" },
      })),
    });
  }
  const gateway: KubeObject = {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "session-gateway", namespace: "default" },
    spec: {
      selector: { istio: "ingressgateway" },
      servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
    },
  };
  return {
    services: svc,
    gateways: [gateway],
    virtualServices,
    destinationRules,
    endpoints: eps,
    proxy: DEFAULT_GATEWAY_PROXY,
  };
}
