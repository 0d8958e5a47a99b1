/**
 * What the Node peers of the mesh benchmark share to pin clients as the gateway does with
 * `consistentHash.httpCookie {name: session-route, ttl}`: Envoy's ring (xxh64 points per upstream,
 * 1024 entries at least, `address_i` keys), the `session-route` cookie read from a Cookie header,
 * and, when it is missing, a value generated from the connection's addresses with its Set-Cookie.
 */
import { xxh64 } from "@node-rs/xxhash";

export const ROUTE_COOKIE = "session-route";
const TTL_SECONDS = 1800;
const MIN_RING_SIZE = 1024;

export interface Ring {
  /** The upstream owning the first point at or after the hash of `value`, wrapping around. */
  pick(value: string): string;
}

export function buildRing(hosts: readonly string[]): Ring {
  const perHost = Math.ceil(MIN_RING_SIZE / hosts.length);
  const points: { hash: bigint; owner: string }[] = [];
  for (const h of hosts)
    for (let i = 0; i < perHost; i++) points.push({ hash: xxh64(`${h}_${i}`), owner: h });
  points.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const hashes = BigUint64Array.from(points.map((p) => p.hash));
  const owners = points.map((p) => p.owner);
  return {
    pick(value) {
      const hash = xxh64(value);
      let lo = 0;
      let hi = hashes.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((hashes[mid] as bigint) < hash) lo = mid + 1;
        else hi = mid;
      }
      return owners[lo === hashes.length ? 0 : lo] as string;
    },
  };
}

/** The `session-route` value of a Cookie header, unquoted; "" when absent. */
export function routeCookie(header: string | undefined): string {
  if (header === undefined) return "";
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === ROUTE_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
  }
  return "";
}

interface Connection {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

/** A route value for a request without one, from its connection, and the Set-Cookie that pins it. */
export function generatedRoute(socket: Connection): { value: string; setCookie: string } {
  const s = socket;
  const value = xxh64(`${s.remoteAddress}:${s.remotePort}${s.localAddress}:${s.localPort}`)
    .toString(16)
    .padStart(16, "0");
  return { value, setCookie: `${ROUTE_COOKIE}="${value}"; Max-Age=${TTL_SECONDS}; Path=/; HttpOnly` };
}
