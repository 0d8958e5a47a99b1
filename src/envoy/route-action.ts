/**
 * The parts of an Envoy RouteAction the router acts on, read from xDS once per push: hash policies
 * (envoy: source/common/http/hash_policy.cc), the retry policy with Envoy's defaults for what is
 * unset (source/common/router/retry_policy_impl.cc, retry_state_impl.cc), the route timeout
 * (config_impl.cc: 15 s when unset, 0 disables it) and the per-route stateful session
 * (source/extensions/filters/http/stateful_session/stateful_session.cc).
 */
import { SessionAffinityError } from "../errors.js";
import type { HashPolicy } from "../lb/hash-policy.js";
import type { RetryPolicy } from "../lb/retry.js";
import type { SessionStateConfig } from "../lb/stateful-session.js";
import { durationMs, durationWholeSeconds } from "../xds/duration.js";
import type { EnvoyHashPolicy, EnvoyRetryPolicy, TypedAny } from "../xds/route-types.js";

export interface RetrySettings extends RetryPolicy {
  readonly retryOn: readonly string[];
  readonly retriableStatusCodes: readonly number[];
  /** retry_back_off.base_interval (Envoy's 25 ms when unset); the ceiling is 10 times it. */
  readonly backoffBaseMs: number;
}

/** The retry_on conditions the gateway runs; others are listed as not implemented. */
export const IMPLEMENTED_RETRY_ON: ReadonlySet<string> = new Set([
  "5xx",
  "gateway-error",
  "reset",
  "connect-failure",
  "retriable-status-codes",
  // HTTP/2 stream conditions and gRPC statuses never occur on the gateway's HTTP/1.1 connections.
  "refused-stream",
  "unavailable",
  "cancelled",
  "deadline-exceeded",
  "internal",
  "resource-exhausted",
]);

/** Envoy's router without a retry policy: no retries. */
export const NO_RETRIES: RetrySettings = {
  numRetries: 0,
  hostSelectionRetryMaxAttempts: 1,
  previousHostsPredicate: false,
  retryOn: [],
  retriableStatusCodes: [],
  backoffBaseMs: 25,
};

export const PREVIOUS_HOSTS_PREDICATE = "envoy.retry_host_predicates.previous_hosts";
export const STATEFUL_SESSION_FILTER = "envoy.filters.http.stateful_session";
const COOKIE_STATE =
  "type.googleapis.com/envoy.extensions.http.stateful_session.cookie.v3.CookieBasedSessionState";
const HEADER_STATE =
  "type.googleapis.com/envoy.extensions.http.stateful_session.header.v3.HeaderBasedSessionState";

type HashPolicyJson = EnvoyHashPolicy & { readonly terminal?: boolean };

/** A route hash policy, or undefined for one that hashes nothing (connection_properties without source_ip). */
export function hashPolicyOf(p: HashPolicyJson, where: string): HashPolicy | undefined {
  const terminal = p.terminal === true ? { terminal: true } : {};
  if (p.header) return { kind: "header", name: p.header.headerName.toLowerCase(), ...terminal };
  if (p.cookie) {
    const c = p.cookie;
    return {
      kind: "cookie",
      name: c.name,
      ...(c.path ? { path: c.path } : {}),
      ...(c.ttl === undefined ? {} : { ttlSeconds: durationWholeSeconds(c.ttl, `${where}.cookie.ttl`) }),
      ...(c.attributes && c.attributes.length > 0 ? { attributes: c.attributes } : {}),
      ...terminal,
    };
  }
  if (p.connectionProperties)
    return p.connectionProperties.sourceIp ? { kind: "source-ip", ...terminal } : undefined;
  if (p.queryParameter) return { kind: "query", name: p.queryParameter.name, ...terminal };
  throw new SessionAffinityError("ERR_XDS", `${where}: a hash policy the gateway does not implement`);
}

export function retrySettingsOf(policy: EnvoyRetryPolicy | undefined, where: string): RetrySettings {
  if (!policy) return NO_RETRIES;
  const retryOn = policy.retryOn
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const attempts = Number(policy.hostSelectionRetryMaxAttempts ?? "1");
  const base = policy.retryBackOff?.baseInterval;
  return {
    // num_retries is a UInt32Value: unset means Envoy's 1.
    numRetries: policy.numRetries ?? 1,
    hostSelectionRetryMaxAttempts: Number.isFinite(attempts) ? attempts : 1,
    previousHostsPredicate: (policy.retryHostPredicate ?? []).some(
      (p) => p.name === PREVIOUS_HOSTS_PREDICATE,
    ),
    retryOn,
    retriableStatusCodes: policy.retriableStatusCodes ?? [],
    backoffBaseMs: base === undefined ? 25 : durationMs(base, `${where}.retryBackOff.baseInterval`),
  };
}

/** The route timeout in ms, or undefined when disabled ("0s"); Envoy's 15 s when unset. */
export function routeTimeoutMs(timeout: string | undefined, where: string): number | undefined {
  if (timeout === undefined) return 15_000;
  const ms = durationMs(timeout, `${where}.timeout`);
  return ms === 0 ? undefined : ms;
}

/** The stateful session a route's per-filter config sets, if any (disabled or absent: none). */
export function routeSessionOf(
  perFilter: Readonly<Record<string, TypedAny>> | undefined,
  where: string,
): SessionStateConfig | undefined {
  const config = perFilter?.[STATEFUL_SESSION_FILTER] as
    | {
        disabled?: boolean;
        statefulSession?: { sessionState?: { typedConfig?: TypedAny } };
      }
    | undefined;
  if (!config || config.disabled) return undefined;
  const state = config.statefulSession?.sessionState?.typedConfig;
  if (!state) return undefined;
  if (state["@type"] === COOKIE_STATE) {
    const cookie = state.cookie as { name: string; path?: string; ttl?: string } | undefined;
    if (!cookie?.name)
      throw new SessionAffinityError("ERR_XDS", `${where}: cookie session state without a name`);
    return {
      kind: "cookie",
      name: cookie.name,
      ...(cookie.path ? { path: cookie.path } : {}),
      ...(cookie.ttl === undefined
        ? {}
        : { ttlSeconds: durationWholeSeconds(cookie.ttl, `${where}.cookie.ttl`) }),
    };
  }
  if (state["@type"] === HEADER_STATE) {
    const name = state.name as string | undefined;
    if (!name) throw new SessionAffinityError("ERR_XDS", `${where}: header session state without a name`);
    return { kind: "header", name: name.toLowerCase() };
  }
  throw new SessionAffinityError(
    "ERR_XDS",
    `${where}: session state ${String(state["@type"])} is not implemented`,
  );
}
