/**
 * Peer for the mesh benchmark: a reverse proxy built on the npm `http-proxy` package that pins
 * clients the way the gateway does with `consistentHash.httpCookie {name: session-route, ttl}`: a
 * ring of xxh64 points per upstream (Envoy's ring hash: 1024 entries at least, `address_i` keys),
 * the request's `session-route` cookie hashed onto it, and, when the cookie is missing, one
 * generated from the connection's addresses and set on the upstream response.
 * Run: PORT=8081 UPSTREAMS=127.0.0.1:9001,127.0.0.1:9002 node --import tsx bench/peers/http-proxy-hash.ts
 */
import { randomUUID } from "node:crypto";
import { Agent, createServer, type IncomingMessage } from "node:http";
import { xxh64 } from "@node-rs/xxhash";
import httpProxy from "http-proxy";

const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST ?? "127.0.0.1";
const upstreams = (process.env.UPSTREAMS ?? "").split(",").filter((u) => u !== "");
if (upstreams.length === 0) throw new Error("UPSTREAMS must list host:port upstreams, comma separated");
const COOKIE = "session-route";
const TTL_SECONDS = 1800;
const MIN_RING_SIZE = 1024;

/** Ring points sorted by hash, each owned by one upstream (Envoy's ring hash, equal weights). */
function buildRing(hosts: readonly string[]): { hashes: BigUint64Array; owners: string[] } {
  const perHost = Math.ceil(MIN_RING_SIZE / hosts.length);
  const points: { hash: bigint; owner: string }[] = [];
  for (const h of hosts)
    for (let i = 0; i < perHost; i++) points.push({ hash: xxh64(`${h}_${i}`), owner: h });
  points.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return { hashes: BigUint64Array.from(points.map((p) => p.hash)), owners: points.map((p) => p.owner) };
}

const ring = buildRing(upstreams);

/** The first ring point at or after `hash`, wrapping around: binary search as Envoy does. */
function pick(hash: bigint): string {
  const { hashes, owners } = ring;
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((hashes[mid] as bigint) < hash) lo = mid + 1;
    else hi = mid;
  }
  return owners[lo === hashes.length ? 0 : lo] as string;
}

function routeCookie(header: string | undefined): string {
  if (header === undefined) return "";
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
  }
  return "";
}

const setCookieFor = new WeakMap<IncomingMessage, string>();
const proxy = httpProxy.createProxyServer({
  agent: new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, maxFreeSockets: 1024 }),
  xfwd: true,
});
proxy.on("proxyReq", (proxyReq) => {
  proxyReq.setHeader("x-request-id", randomUUID());
});
// Only responses that came from an upstream carry the generated cookie, as with Envoy.
proxy.on("proxyRes", (proxyRes, req) => {
  const cookie = setCookieFor.get(req);
  if (cookie === undefined) return;
  const existing = proxyRes.headers["set-cookie"] ?? [];
  proxyRes.headers["set-cookie"] = [...existing, cookie];
});
proxy.on("error", (_err, _req, res) => {
  if ("writeHead" in res && !res.headersSent) res.writeHead(503, { "content-type": "text/plain" });
  res.end("upstream connect error");
});

createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  let value = routeCookie(req.headers.cookie);
  if (value === "") {
    const s = req.socket;
    value = xxh64(`${s.remoteAddress}:${s.remotePort}${s.localAddress}:${s.localPort}`)
      .toString(16)
      .padStart(16, "0");
    setCookieFor.set(req, `${COOKIE}="${value}"; Max-Age=${TTL_SECONDS}; Path=/; HttpOnly`);
  }
  proxy.web(req, res, { target: `http://${pick(xxh64(value))}` });
}).listen(port, host);
