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
  /**
   * Kept by the caller for the downstream connection across its requests: a generated cookie depends
   * on the connection's addresses alone, and a client repeats its Cookie field, so both are worked out
   * once per connection (or per change of the field) instead of per request.
   */
  readonly memo?: ConnectionMemo | undefined;
}

/** What a policy reads, in words: `cookie NAME`, `header NAME`, `source IP`, `query parameter NAME`. */
export function hashInputName(p: HashPolicy): string {
  switch (p.kind) {
    case "cookie":
      return `cookie ${p.name}`;
    case "header":
      return `header ${p.name}`;
    case "source-ip":
      return "source IP";
    case "query":
      return `query parameter ${p.name}`;
  }
}

/** What `computeHash` keeps for one downstream connection. */
export interface ConnectionMemo {
  generated?: { readonly value: string; readonly hash: bigint };
  /** The last single Cookie field read, the cookie looked up in it and that cookie's hash. */
  cookie?: { readonly field: string; readonly name: string; readonly value: string; readonly hash?: bigint };
  /** The Set-Cookie of the last cookie policy that generated one, and that policy. */
  setCookie?: { readonly policy: HashPolicy; readonly text: string };
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

/** The only Cookie field of a request; undefined when there is none or more than one. */
function onlyCookieField(headers: HeaderList): string | undefined {
  let field: string | undefined;
  for (const [name, value] of headers) {
    if (name !== "cookie") continue;
    if (field !== undefined) return undefined;
    field = value;
  }
  return field;
}

/**
 * A cookie's value and, unless it is empty, its hash. A client sends the same Cookie field on request
 * after request of a connection, so the memo keeps the last one's answer.
 */
function cookieOf(request: RequestDescription, name: string): { value: string; hash?: bigint } {
  const memo = request.memo;
  const field = memo === undefined ? undefined : onlyCookieField(request.headers);
  const last = memo?.cookie;
  if (last !== undefined && field !== undefined && last.field === field && last.name === name) return last;
  const value = parseCookieValue(request.headers, name);
  const found = value === "" ? { value } : { value, hash: xxh64(value) };
  if (memo !== undefined && field !== undefined) memo.cookie = { field, name, ...found };
  return found;
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
        const valueHash = cookieOf(request, policy.name).hash;
        if (valueHash !== undefined) {
          next = valueHash;
        } else if (policy.ttlSeconds !== undefined && request.remoteAddress && request.localAddress) {
          const memo = request.memo;
          let generated = memo?.generated;
          if (generated === undefined) {
            const value = generatedCookieValue(request.remoteAddress, request.localAddress);
            generated = { value, hash: xxh64(value) };
            if (memo) memo.generated = generated;
          }
          let text = memo?.setCookie?.policy === policy ? memo.setCookie.text : undefined;
          if (text === undefined) {
            text = makeSetCookieValue(
              policy.name,
              generated.value,
              policy.path ?? "",
              policy.ttlSeconds,
              true,
              policy.attributes,
            );
            if (memo) memo.setCookie = { policy, text };
          }
          setCookie.push(text);
          next = generated.hash;
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
