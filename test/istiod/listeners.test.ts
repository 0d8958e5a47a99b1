/**
 * Golden LDS for the walkthrough's gateway, hand-derived from istiod 1.30's gateway.go
 * buildGatewayListeners / buildGatewayConnectionManager, listener.go buildGatewayListener and
 * listener_builder.go buildHTTPConnectionManager with the default MeshConfig.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { DEFAULT_GATEWAY_PROXY, type IstiodInput, type KubeObject } from "../../src/istiod/input.js";
import { buildListeners } from "../../src/istiod/listeners.js";
import { checkEnvoyResource } from "../helpers/envoy-proto.js";

function input(persistentSession: boolean): IstiodInput {
  const all = ["session.yaml", "session-gateway.yaml", "session-affinity.yaml"].flatMap((f) =>
    parseAllDocuments(readFileSync(new URL(`../../deploy/${f}`, import.meta.url), "utf8"))
      .map((d) => d.toJS() as KubeObject)
      .filter((o) => o?.kind)
      .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: "default" } })),
  );
  return {
    services: all.filter((o) => o.kind === "Service"),
    gateways: all.filter((o) => o.kind === "Gateway"),
    virtualServices: all.filter((o) => o.kind === "VirtualService"),
    destinationRules: all.filter((o) => o.kind === "DestinationRule"),
    endpoints: [],
    proxy: DEFAULT_GATEWAY_PROXY,
    features: { enablePersistentSessionFilter: persistentSession },
  };
}

const T = "type.googleapis.com/";
const ROUTER = {
  name: "envoy.filters.http.router",
  typedConfig: { "@type": `${T}envoy.extensions.filters.http.router.v3.Router` },
};
const BEFORE_SESSION = [
  {
    name: "envoy.filters.http.grpc_stats",
    typedConfig: {
      "@type": `${T}envoy.extensions.filters.http.grpc_stats.v3.FilterConfig`,
      emitFilterState: true,
      statsForAllMethods: false,
    },
  },
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
  {
    name: "envoy.filters.http.fault",
    typedConfig: { "@type": `${T}envoy.extensions.filters.http.fault.v3.HTTPFault` },
  },
  {
    name: "envoy.filters.http.cors",
    typedConfig: { "@type": `${T}envoy.extensions.filters.http.cors.v3.Cors` },
  },
];

function expected(httpFilters: unknown[]) {
  return [
    {
      "@type": `${T}envoy.config.listener.v3.Listener`,
      name: "0.0.0.0_8080",
      address: { socketAddress: { address: "0.0.0.0", portValue: 8080 } },
      filterChains: [
        {
          filters: [
            {
              name: "envoy.filters.network.http_connection_manager",
              typedConfig: {
                "@type": `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
                statPrefix: "outbound_0.0.0.0_8080",
                rds: {
                  configSource: { ads: {}, initialFetchTimeout: "0s", resourceApiVersion: "V3" },
                  routeConfigName: "http.8080",
                },
                httpFilters,
                useRemoteAddress: true,
                forwardClientCertDetails: "SANITIZE_SET",
                setCurrentClientCertDetails: { subject: true, cert: true, dns: true, uri: true },
                serverName: "istio-envoy",
                streamIdleTimeout: "0s",
                normalizePath: true,
                pathWithEscapedSlashesAction: "KEEP_UNCHANGED",
                upgradeConfigs: [{ upgradeType: "websocket" }],
                httpProtocolOptions: {},
                proxy100Continue: true,
              },
            },
          ],
          transportSocketConnectTimeout: "15s",
        },
      ],
      trafficDirection: "OUTBOUND",
      maxConnectionsToAcceptPerSocketEvent: 1,
    },
  ];
}

function check(got: unknown[], want: unknown): void {
  assert.deepEqual(got, want);
  for (const l of got) {
    assert.deepEqual(
      checkEnvoyResource(l, {
        opaqueAnyTypes: ["istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig"],
      }),
      [],
    );
  }
}

describe("buildListeners for the walkthrough gateway", () => {
  it("plain HTTP server on Service port 80 listens on target port 8080 with RDS http.8080", () => {
    check(buildListeners(input(false)), expected([...BEFORE_SESSION, ROUTER]));
  });

  it("PILOT_ENABLE_PERSISTENT_SESSION_FILTER adds the empty stateful_session filter before the router", () => {
    const session = {
      name: "envoy.filters.http.stateful_session",
      typedConfig: { "@type": `${T}envoy.extensions.filters.http.stateful_session.v3.StatefulSession` },
    };
    check(buildListeners(input(true)), expected([...BEFORE_SESSION, session, ROUTER]));
  });
});
