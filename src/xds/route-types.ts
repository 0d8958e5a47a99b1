/**
 * envoy.config.route.v3 resources in proto3 JSON form (lowerCamelCase, Duration as "1.5s", 64-bit
 * integers as strings, wrappers as bare values), as /config_dump prints them. Only the fields the
 * gateway translation in routes.ts emits are declared.
 */

/** A google.protobuf.Any in JSON: the type URL plus the message's own fields. */
export interface TypedAny {
  readonly "@type": string;
  readonly [field: string]: unknown;
}

export interface EnvoyStringMatcher {
  readonly exact?: string;
  readonly prefix?: string;
  readonly safeRegex?: { readonly regex: string };
  /** Not emitted by istiod for the gateway; read from a real proxy's configuration. */
  readonly suffix?: string;
  readonly contains?: string;
  readonly ignoreCase?: boolean;
}

export interface EnvoyHeaderMatcher {
  readonly name: string;
  readonly stringMatch?: EnvoyStringMatcher;
  readonly presentMatch?: boolean;
  readonly invertMatch?: boolean;
  readonly treatMissingHeaderAsEmpty?: boolean;
  /** The deprecated forms a real proxy's configuration may still carry. */
  readonly exactMatch?: string;
  readonly prefixMatch?: string;
  readonly suffixMatch?: string;
  readonly containsMatch?: string;
  readonly safeRegexMatch?: { readonly regex: string };
}

export interface EnvoyQueryParameterMatcher {
  readonly name: string;
  readonly stringMatch?: EnvoyStringMatcher;
  readonly presentMatch?: boolean;
}

export interface EnvoyRouteMatch {
  readonly prefix?: string;
  readonly path?: string;
  readonly safeRegex?: { readonly regex: string };
  /** Not emitted by istiod for the gateway; read from a real proxy's configuration. */
  readonly pathSeparatedPrefix?: string;
  /** google.protobuf.BoolValue: absent when the VirtualService route has no match block. */
  readonly caseSensitive?: boolean;
  readonly headers?: readonly EnvoyHeaderMatcher[];
  readonly queryParameters?: readonly EnvoyQueryParameterMatcher[];
}

export interface EnvoyHashPolicy {
  readonly header?: { readonly headerName: string };
  readonly cookie?: {
    readonly name: string;
    readonly ttl?: string;
    readonly path?: string;
    readonly attributes?: readonly { readonly name: string; readonly value?: string }[];
  };
  readonly connectionProperties?: { readonly sourceIp?: boolean };
  readonly queryParameter?: { readonly name: string };
}

export interface EnvoyRetryHostPredicate {
  readonly name: string;
  readonly typedConfig: TypedAny;
}

export interface EnvoyRetryPolicy {
  readonly retryOn: string;
  /** google.protobuf.UInt32Value. */
  readonly numRetries: number;
  readonly perTryTimeout?: string;
  readonly retryPriority?: { readonly name: string; readonly typedConfig: TypedAny };
  readonly retryHostPredicate?: readonly EnvoyRetryHostPredicate[];
  /** int64, hence a string in JSON. */
  readonly hostSelectionRetryMaxAttempts: string;
  readonly retriableStatusCodes?: readonly number[];
  readonly retryBackOff?: { readonly baseInterval: string };
}

export interface EnvoyHeaderValueOption {
  readonly header: { readonly key: string; readonly value: string };
  /** Absent for APPEND_IF_EXISTS_OR_ADD, the enum's zero value, which proto3 JSON omits. */
  readonly appendAction?: "OVERWRITE_IF_EXISTS_OR_ADD";
}

export interface EnvoyClusterWeight {
  readonly name: string;
  /** google.protobuf.UInt32Value. */
  readonly weight: number;
  readonly requestHeadersToAdd?: readonly EnvoyHeaderValueOption[];
  readonly requestHeadersToRemove?: readonly string[];
  readonly responseHeadersToAdd?: readonly EnvoyHeaderValueOption[];
  readonly responseHeadersToRemove?: readonly string[];
  readonly hostRewriteLiteral?: string;
}

export interface EnvoyRouteAction {
  readonly cluster?: string;
  readonly weightedClusters?: { readonly clusters: readonly EnvoyClusterWeight[] };
  readonly timeout: string;
  readonly retryPolicy?: EnvoyRetryPolicy;
  readonly hashPolicy?: readonly EnvoyHashPolicy[];
  readonly hostRewriteLiteral?: string;
  readonly maxGrpcTimeout: string;
}

export interface EnvoyRoute {
  /** Omitted when empty, as proto3 JSON omits an empty string. */
  readonly name?: string;
  readonly match: EnvoyRouteMatch;
  readonly statPrefix?: string;
  readonly route: EnvoyRouteAction;
  readonly metadata: { readonly filterMetadata: { readonly istio: { readonly config: string } } };
  readonly decorator: { readonly operation: string };
  readonly typedPerFilterConfig?: Readonly<Record<string, TypedAny>>;
  readonly requestHeadersToAdd?: readonly EnvoyHeaderValueOption[];
  readonly requestHeadersToRemove?: readonly string[];
  readonly responseHeadersToAdd?: readonly EnvoyHeaderValueOption[];
  readonly responseHeadersToRemove?: readonly string[];
}

export interface EnvoyVirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  /** Absent on the 404 "blackhole" host: proto3 JSON omits an empty list. */
  readonly routes?: readonly EnvoyRoute[];
  readonly typedPerFilterConfig?: Readonly<Record<string, TypedAny>>;
  readonly includeRequestAttemptCount?: boolean;
}

export interface EnvoyRouteConfiguration {
  readonly name: string;
  readonly virtualHosts: readonly EnvoyVirtualHost[];
  /** google.protobuf.BoolValue, explicitly false. */
  readonly validateClusters: false;
  readonly ignorePortInHostMatching: boolean;
  /** google.protobuf.UInt32Value. */
  readonly maxDirectResponseBodySizeBytes: number;
}
