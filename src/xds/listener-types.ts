/**
 * envoy.config.listener.v3.Listener and its HttpConnectionManager in proto3 JSON form, only the fields
 * listeners.ts emits.
 */
import type { TypedAny } from "./route-types.js";

export interface EnvoyHttpFilter {
  readonly name: string;
  readonly typedConfig: TypedAny;
}

export interface EnvoyHttpConnectionManager extends TypedAny {
  readonly statPrefix: string;
  readonly rds: {
    readonly configSource: {
      readonly ads: Record<string, never>;
      readonly initialFetchTimeout: string;
      readonly resourceApiVersion: "V3";
    };
    readonly routeConfigName: string;
  };
  readonly httpFilters: readonly EnvoyHttpFilter[];
  readonly useRemoteAddress: boolean;
  readonly forwardClientCertDetails: "SANITIZE_SET";
  readonly setCurrentClientCertDetails: {
    readonly subject: boolean;
    readonly cert: boolean;
    readonly dns: boolean;
    readonly uri: boolean;
  };
  readonly serverName: string;
  readonly streamIdleTimeout: string;
  readonly normalizePath: boolean;
  readonly pathWithEscapedSlashesAction: "KEEP_UNCHANGED";
  readonly upgradeConfigs: readonly { readonly upgradeType: string }[];
  readonly httpProtocolOptions: Record<string, never>;
  readonly proxy100Continue: boolean;
}

export interface EnvoyListener {
  readonly "@type": "type.googleapis.com/envoy.config.listener.v3.Listener";
  readonly name: string;
  readonly address: { readonly socketAddress: { readonly address: string; readonly portValue: number } };
  readonly filterChains: readonly {
    readonly filters: readonly { readonly name: string; readonly typedConfig: EnvoyHttpConnectionManager }[];
    readonly transportSocketConnectTimeout: string;
  }[];
  readonly trafficDirection: "OUTBOUND";
  readonly maxConnectionsToAcceptPerSocketEvent: number;
}
