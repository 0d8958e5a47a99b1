/**
 * LDS for the ingress gateway: one listener per plain-HTTP port, after istiod's
 * pilot/pkg/networking/core/gateway.go (buildGatewayListeners, MutableGatewayListener.build,
 * createGatewayHTTPFilterChainOpts, buildGatewayConnectionManager), listener.go (buildGatewayListener)
 * and listener_builder.go (buildHTTPConnectionManager) in Istio 1.30, with the default MeshConfig.
 *
 * Left out although istiod writes them: access logs (empty unless meshConfig.accessLogFile is set), the
 * tracing block and the UUID requestIdExtension (configureTracing), Istio's telemetry filters
 * (istio_authn, istio.metadata_exchange, istio.stats), internalAddressConfig (needs MeshNetworks),
 * HTTPS/TLS servers, QUIC listeners and the PROXY-protocol listener filter.
 */

import type { EnvoyHttpConnectionManager, EnvoyHttpFilter, EnvoyListener } from "../xds/listener-types.js";
import type { IstiodInput } from "./input.js";
import { gatewayHttpServers, type ResolvedServer } from "./route-gateway.js";
import { STATEFUL_SESSION_FILTER } from "./route-hash-policy.js";

const T = "type.googleapis.com/";

/**
 * The HTTP filter chain istiod always writes for a gateway, in its order (buildHTTPConnectionManager),
 * restricted to the affinity-relevant and always-present filters. The stateful-session filter is empty
 * at listener level and configured per route; istiod adds it on every non-inbound listener as soon as
 * PILOT_ENABLE_PERSISTENT_SESSION_FILTER is on, whether or not any Service carries the label.
 */
function httpFilters(persistentSession: boolean): EnvoyHttpFilter[] {
  return [
    {
      name: "envoy.filters.http.grpc_stats",
      typedConfig: {
        "@type": `${T}envoy.extensions.filters.http.grpc_stats.v3.FilterConfig`,
        emitFilterState: true,
        statsForAllMethods: false,
      },
    },
    // PILOT_ENABLE_ALPN_FILTER (default on): Istio's own filter, for protocol sniffing upstream.
    {
      name: "istio.alpn",
      typedConfig: {
        "@type": `${T}istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig`,
        alpnOverride: [
          { upstreamProtocol: "HTTP10", alpnOverride: ["istio-http/1.0", "istio", "http/1.0"] },
          { upstreamProtocol: "HTTP11", alpnOverride: ["istio-http/1.1", "istio", "http/1.1"] },
          { upstreamProtocol: "HTTP2", alpnOverride: ["istio-h2", "istio", "h2"] },
        ],
      },
    },
    // Present so routes can carry fault/CORS per-filter config.
    {
      name: "envoy.filters.http.fault",
      typedConfig: { "@type": `${T}envoy.extensions.filters.http.fault.v3.HTTPFault` },
    },
    {
      name: "envoy.filters.http.cors",
      typedConfig: { "@type": `${T}envoy.extensions.filters.http.cors.v3.Cors` },
    },
    ...(persistentSession
      ? [
          {
            name: STATEFUL_SESSION_FILTER,
            typedConfig: { "@type": `${T}envoy.extensions.filters.http.stateful_session.v3.StatefulSession` },
          },
        ]
      : []),
    // The router must be last; StartChildSpan and SuppressEnvoyHeaders are false by default (omitted).
    {
      name: "envoy.filters.http.router",
      typedConfig: { "@type": `${T}envoy.extensions.filters.http.router.v3.Router` },
    },
  ];
}

function connectionManager(server: ResolvedServer, input: IstiodInput): EnvoyHttpConnectionManager {
  const listenerName = `0.0.0.0_${server.listenPort}`;
  return {
    "@type": `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
    // MutableGatewayListener.build: lower-cased traffic direction + "_" + listener name.
    statPrefix: `outbound_${listenerName}`,
    rds: {
      configSource: { ads: {}, initialFetchTimeout: "0s", resourceApiVersion: "V3" },
      routeConfigName: server.routeName,
    },
    httpFilters: httpFilters(input.features?.enablePersistentSessionFilter ?? false),
    // Gateways are the edge: the client address is the peer's, not a trusted X-Forwarded-For hop.
    useRemoteAddress: true,
    // buildGatewayConnectionManager: gateways sanitize client certs and set the current one's details.
    forwardClientCertDetails: "SANITIZE_SET",
    setCurrentClientCertDetails: { subject: true, cert: true, dns: true, uri: true },
    serverName: "istio-envoy",
    // ServerHeaderTransformation OVERWRITE and codec AUTO are enum zero values: not printed.
    streamIdleTimeout: "0s",
    // Default MeshConfig path normalization (BASE): normalize, keep escaped slashes, do not merge.
    normalizePath: true,
    pathWithEscapedSlashesAction: "KEEP_UNCHANGED",
    upgradeConfigs: [{ upgradeType: "websocket" }],
    httpProtocolOptions: {},
    // ENABLE_100_CONTINUE_HEADERS (default on).
    proxy100Continue: true,
  };
}

/** Every gateway listener, sorted by name; one filter chain per plain-HTTP port. */
export function buildListeners(input: IstiodInput): EnvoyListener[] {
  const byPort = new Map<number, ResolvedServer>();
  // Plain-text HTTP servers on one port share one filter chain and one RDS name.
  for (const s of gatewayHttpServers(input)) if (!byPort.has(s.listenPort)) byPort.set(s.listenPort, s);
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, server]) => ({
      "@type": `${T}envoy.config.listener.v3.Listener`,
      name: `0.0.0.0_${port}`,
      address: { socketAddress: { address: "0.0.0.0", portValue: port } },
      filterChains: [
        {
          filters: [
            {
              name: "envoy.filters.network.http_connection_manager",
              typedConfig: connectionManager(server, input),
            },
          ],
          // PILOT_GATEWAY_TRANSPORT_SOCKET_CONNECT_TIMEOUT (default 15s).
          transportSocketConnectTimeout: "15s",
        },
      ],
      trafficDirection: "OUTBOUND",
      // MAX_CONNECTIONS_PER_SOCKET_EVENT_LOOP (default 1).
      maxConnectionsToAcceptPerSocketEvent: 1,
    }));
}
