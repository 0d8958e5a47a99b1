import { parseManifests } from "../../src/manifests/index.js";
import { buildGatewayConfig, type GatewayConfig } from "../../src/mesh/gateway-config.js";
import { type MeshObject, toMeshObject } from "../../src/mesh/model.js";

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

/** What istiod would push for the Gateways, VirtualServices, DestinationRules and Services in `yaml`. */
export function gatewayConfigFromYaml(yaml: string, file = "test.yaml"): GatewayConfig {
  const objects = parseManifests(yaml, file).documents.map(toMeshObject);
  const of = <K extends MeshObject["kind"]>(kind: K) =>
    objects.filter((o): o is Extract<MeshObject, { kind: K }> => o.kind === kind);
  return buildGatewayConfig({
    gateways: of("Gateway"),
    virtualServices: of("VirtualService"),
    destinationRules: of("DestinationRule"),
    services: of("Service"),
  });
}
