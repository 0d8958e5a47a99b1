/**
 * Istio persistent sessions: Envoy's stateful_session filter with cookie or header state
 * (source/extensions/http/stateful_session/{cookie,header}), enabled by istiod's
 * PILOT_ENABLE_PERSISTENT_SESSION_FILTER and the Service labels `istio.io/persistent-session`
 * (`cookieName[:path]`, path default "/", no ttl) or `istio.io/persistent-session-header`.
 *
 * Cookie value: base64 of the proto {address, expires}; a value that does not parse as that proto is
 * taken as the legacy base64("ip:port"). Empty address, expired `expires` (seconds of the injected
 * monotonic clock) or undecodable base64 mean "no session". Header value: base64("ip:port").
 * Routing: the encoded endpoint is used while it is among the usable endpoints (Istio's
 * override_host_status: healthy, draining, unknown, degraded) — never on a retry; otherwise the load
 * balancer picks and a new value is issued. A value is issued only when the chosen host differs.
 */
import { SessionAffinityError } from "../errors.js";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { type HeaderList, makeSetCookieValue, parseCookieValue } from "./cookie.js";
import type { Endpoint } from "./endpoint.js";
import { decodeSessionCookie, encodeSessionCookie } from "./session-cookie-proto.js";

export type SessionStateConfig =
  | { readonly kind: "cookie"; readonly name: string; readonly path?: string; readonly ttlSeconds?: number }
  | { readonly kind: "header"; readonly name: string };

export const PERSISTENT_SESSION_LABEL = "istio.io/persistent-session";
export const PERSISTENT_SESSION_HEADER_LABEL = "istio.io/persistent-session-header";

/** The session config Istio derives from a Service's labels, if any (cookie label wins). */
export function sessionConfigFromLabels(
  labels: Readonly<Record<string, string>>,
): SessionStateConfig | undefined {
  const cookie = labels[PERSISTENT_SESSION_LABEL];
  if (cookie !== undefined) {
    const [name = "", path] = cookie.split(":");
    if (name === "")
      throw new SessionAffinityError("ERR_LB_CONFIG", `${PERSISTENT_SESSION_LABEL}: cookie name is empty`);
    return { kind: "cookie", name, path: path || "/" };
  }
  const header = labels[PERSISTENT_SESSION_HEADER_LABEL];
  if (header !== undefined) {
    if (header === "")
      throw new SessionAffinityError(
        "ERR_LB_CONFIG",
        `${PERSISTENT_SESSION_HEADER_LABEL}: header name is empty`,
      );
    return { kind: "header", name: header };
  }
  return undefined;
}

export function encodeCookieValue(address: string, expiresSeconds = 0n): string {
  return encodeBase64(encodeSessionCookie({ address, expires: expiresSeconds }));
}

/** The address in a cookie value, or undefined when absent, malformed or expired. */
export function decodeCookieValue(value: string, nowSeconds = 0n): string | undefined {
  if (value === "") return undefined;
  const decoded = decodeBase64(value);
  const proto = decodeSessionCookie(decoded);
  if (!proto) return decoded === "" ? undefined : decoded;
  if (proto.address === "") return undefined;
  if (proto.expires !== 0n && nowSeconds > proto.expires) return undefined;
  return proto.address;
}

export function encodeHeaderValue(address: string): string {
  return encodeBase64(address);
}

export function decodeHeaderValue(value: string): string | undefined {
  const decoded = decodeBase64(value);
  return decoded === "" ? undefined : decoded;
}

/** Envoy's cookie path matching: "" or "/" match all; "/a/" is a prefix; "/a" needs /, ? or # next. */
export function cookiePathMatches(cookiePath: string, requestPath: string): boolean {
  if (cookiePath === "" || cookiePath === "/") return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  if (cookiePath.endsWith("/") || requestPath.length === cookiePath.length) return true;
  return "/?#".includes(requestPath[cookiePath.length] as string);
}

export interface SessionRequest {
  readonly headers: HeaderList;
  readonly path: string;
}

/**
 * The session's encoded address for a request; undefined when there is none. `active` is false when
 * the cookie path does not match, in which case the filter does nothing for this request.
 */
export function readSession(
  config: SessionStateConfig,
  request: SessionRequest,
  nowSeconds = 0n,
): { active: boolean; address?: string } {
  if (config.kind === "cookie") {
    if (!cookiePathMatches(config.path ?? "", request.path)) return { active: false };
    const address = decodeCookieValue(parseCookieValue(request.headers, config.name), nowSeconds);
    return address === undefined ? { active: true } : { active: true, address };
  }
  const name = config.name.toLowerCase();
  const first = request.headers.find(([key]) => key === name);
  const address = first ? decodeHeaderValue(first[1]) : undefined;
  return address === undefined ? { active: true } : { active: true, address };
}

/** The override endpoint: the session's address if usable and this is not a retry. */
export function overrideHost(
  address: string | undefined,
  usable: readonly Endpoint[],
  isRetry = false,
): Endpoint | undefined {
  if (address === undefined || isRetry) return undefined;
  return usable.find((e) => e.address === address);
}

/** Response headers to add after routing to `chosen` (none when the session already pointed there). */
export function sessionResponseHeaders(
  config: SessionStateConfig,
  sessionAddress: string | undefined,
  chosen: string,
  nowSeconds = 0n,
): [string, string][] {
  if (sessionAddress === chosen) return [];
  if (config.kind === "header") return [[config.name.toLowerCase(), encodeHeaderValue(chosen)]];
  const ttl = config.ttlSeconds ?? 0;
  const value = encodeCookieValue(chosen, ttl > 0 ? nowSeconds + BigInt(ttl) : 0n);
  return [["set-cookie", makeSetCookieValue(config.name, value, config.path ?? "", ttl, true)]];
}
