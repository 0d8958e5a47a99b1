import { parseManifests } from "../../src/manifests/index.js";
import { buildGatewayConfig, type GatewayConfig } from "../../src/mesh/gateway-config.js";
import { type MeshObject, toMeshObject } from "../../src/mesh/model.js";

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
