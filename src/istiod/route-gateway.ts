/**
 * Which Gateway servers configure the proxy and under which RDS name, after istiod's
 * pilot/pkg/model/gateway.go (MergeGateways, resolvePorts, gatewayRDSRouteName). Shared by the route and
 * listener builders so both agree on `http.<targetPort>`.
 */
import type { IstiodInput, KubeObject } from "./input.js";

export interface GatewayServer {
  readonly port: {
    readonly number: number;
    readonly name?: string;
    readonly protocol: string;
    readonly targetPort?: number;
  };
  readonly hosts: readonly string[];
  readonly bind?: string;
  readonly tls?: unknown;
  readonly name?: string;
}

export interface ResolvedServer {
  /** "namespace/name" of the Gateway, as VirtualServices' `gateways` resolve to. */
  readonly gatewayName: string;
  readonly gatewayNamespace: string;
  readonly server: GatewayServer;
  /** The port the proxy listens on: the gateway Service's target port for the server's port. */
  readonly listenPort: number;
  /** gatewayRDSRouteName: `http.<listenPort>` (plus `.<bind>` when bound). */
  readonly routeName: string;
}

const HTTP_PROTOCOLS = new Set(["HTTP", "HTTP2", "GRPC", "GRPC-WEB"]);

/** protocol.Parse(...).IsHTTP(): plain-text HTTP servers, the only ones reproduced here. */
export function isPlainHttp(protocol: string): boolean {
  return HTTP_PROTOCOLS.has(protocol.toUpperCase());
}

export function namespaceOf(o: KubeObject): string {
  return o.metadata.namespace ?? "default";
}

/**
 * Plain-HTTP servers of every Gateway whose selector picks the proxy. Since the gateway selects by labels
 * (the legacy selector), resolvePorts maps the server port through the gateway Service to its target port,
 * and binds to the port as written when the Service does not expose it.
 */
export function gatewayHttpServers(input: IstiodInput): ResolvedServer[] {
  const out: ResolvedServer[] = [];
  for (const gw of input.gateways) {
    const spec = (gw.spec ?? {}) as { selector?: Record<string, string>; servers?: GatewayServer[] };
    const selector = spec.selector ?? {};
    if (!Object.entries(selector).every(([k, v]) => input.proxy.labels[k] === v)) continue;
    for (const server of spec.servers ?? []) {
      if (!isPlainHttp(server.port.protocol)) continue;
      const listenPort = input.proxy.portMap[server.port.number] ?? server.port.number;
      const bind = server.bind ? `.${server.bind}` : "";
      out.push({
        gatewayName: `${namespaceOf(gw)}/${gw.metadata.name}`,
        gatewayNamespace: namespaceOf(gw),
        server,
        listenPort,
        routeName: `http.${listenPort}${bind}`,
      });
    }
  }
  return out;
}
