/**
 * Request → 64-bit hash, as Envoy's route hash policies compute it (source/common/http/
 * hash_policy.cc) for the four kinds Istio's `consistentHash` produces:
 * - header: every value of the header, sorted bytewise, hashed as a seed-chained list; absent → none.
 * - cookie: Envoy's cookie parsing; empty counts as absent; absent with a ttl generates a cookie
 *   (router.h addDownstreamSetCookie: hex16(xxh64(remote.asString() + local.asString()))) and
 *   routes by it, adding a Set-Cookie; absent without ttl → none.
 * - source IP: xxh64 of the downstream remote IP text without port; no address → none.
 * - query parameter: first value of the raw query (no percent-decoding); `?name` hashes "".
 * Several policies combine as Envoy does: h = rotl64(h, 1) XOR next; a terminal policy with a hash
 * stops evaluation. No hash at all means the balancer draws a random point.
 */
import { formatSocketAddress, type SocketAddress } from "./address.js";
import { type CookieAttribute, type HeaderList, makeSetCookieValue, parseCookieValue } from "./cookie.js";
import { rotateLeft1, toHex16 } from "./uint64.js";
import { xxh64, xxh64Chain } from "./xxhash64.js";

export type HashPolicy =
  | { readonly kind: "header"; readonly name: string; readonly terminal?: boolean }
  | {
      readonly kind: "cookie";
      readonly name: string;
      readonly path?: string;
      /** Whole seconds; undefined means "no ttl" (never generate). 0 generates a session cookie. */
      readonly ttlSeconds?: number;
      readonly attributes?: readonly CookieAttribute[];
      readonly terminal?: boolean;
    }
  | { readonly kind: "source-ip"; readonly terminal?: boolean }
  | { readonly kind: "query"; readonly name: string; readonly terminal?: boolean };

/** What the hash policies read from a request. Header names are lower case; repeats allowed. */
export interface RequestDescription {
  readonly headers: HeaderList;
  /** The raw `:path`, including the query string. */
  readonly path: string;
  /** The downstream peer (after any XFF trust the caller applies). */
  readonly remoteAddress?: SocketAddress | undefined;
  /** The gateway's own socket address on this connection. */
  readonly localAddress?: SocketAddress | undefined;
}

export interface HashResult {
  readonly hash?: bigint;
  /** Set-Cookie values to add to the upstream response (cookie generation). */
  readonly setCookie?: string[];
}

/** Envoy's generated cookie value for a connection. */
export function generatedCookieValue(remote: SocketAddress, local: SocketAddress): string {
  return toHex16(xxh64(formatSocketAddress(remote) + formatSocketAddress(local)));
}

function headerHash(headers: HeaderList, name: string): bigint | undefined {
  const target = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of headers) if (key === target) values.push(value);
  if (values.length === 0) return undefined;
  if (values.length === 1) return xxh64(values[0] as string);
  values.sort(compareBytes);
  return xxh64Chain(values);
}

function compareBytes(a: string, b: string): number {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) if (ea[i] !== eb[i]) return (ea[i] as number) - (eb[i] as number);
  return ea.length - eb.length;
}

/** First value of a query parameter in a raw path, undecoded; undefined when absent. */
export function firstQueryValue(path: string, name: string): string | undefined {
  const start = path.indexOf("?");
  if (start < 0) return undefined;
  for (const param of path.slice(start + 1).split("&")) {
    if (param === "") continue;
    const equals = param.indexOf("=");
    const key = equals < 0 ? param : param.slice(0, equals);
    if (key === name) return equals < 0 ? "" : param.slice(equals + 1);
  }
  return undefined;
}

export function computeHash(policies: readonly HashPolicy[], request: RequestDescription): HashResult {
  let hash: bigint | undefined;
  const setCookie: string[] = [];
  for (const policy of policies) {
    let next: bigint | undefined;
    switch (policy.kind) {
      case "header":
        next = headerHash(request.headers, policy.name);
        break;
      case "cookie": {
        const value = parseCookieValue(request.headers, policy.name);
        if (value !== "") {
          next = xxh64(value);
        } else if (policy.ttlSeconds !== undefined && request.remoteAddress && request.localAddress) {
          const generated = generatedCookieValue(request.remoteAddress, request.localAddress);
          setCookie.push(
            makeSetCookieValue(
              policy.name,
              generated,
              policy.path ?? "",
              policy.ttlSeconds,
              true,
              policy.attributes,
            ),
          );
          next = xxh64(generated);
        }
        break;
      }
      case "source-ip":
        next = request.remoteAddress ? xxh64(formatSocketAddressIp(request.remoteAddress)) : undefined;
        break;
      case "query": {
        const value = firstQueryValue(request.path, policy.name);
        next = value === undefined ? undefined : xxh64(value);
        break;
      }
    }
    if (next !== undefined) hash = hash === undefined ? next : rotateLeft1(hash) ^ next;
    if (policy.terminal && hash !== undefined) break;
  }
  const result: { hash?: bigint; setCookie?: string[] } = {};
  if (hash !== undefined) result.hash = hash;
  if (setCookie.length > 0) result.setCookie = setCookie;
  return result;
}

function formatSocketAddressIp(address: SocketAddress): string {
  const text = formatSocketAddress(address);
  return text.startsWith("[") ? text.slice(1, text.lastIndexOf("]")) : text.slice(0, text.lastIndexOf(":"));
}
