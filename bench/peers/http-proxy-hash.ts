/**
 * Peer for the mesh benchmark: a reverse proxy built on the npm `http-proxy` package that pins
 * clients with Envoy's ring and the `session-route` cookie, as the gateway does (envoy-ring.ts).
 * Run: PORT=8081 UPSTREAMS=127.0.0.1:9001,127.0.0.1:9002 node --import tsx bench/peers/http-proxy-hash.ts
 */
import { randomUUID } from "node:crypto";
import { Agent, createServer, type IncomingMessage } from "node:http";
import httpProxy from "http-proxy";
import { buildRing, generatedRoute, routeCookie } from "./envoy-ring.js";

const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST ?? "127.0.0.1";
const upstreams = (process.env.UPSTREAMS ?? "").split(",").filter((u) => u !== "");
if (upstreams.length === 0) throw new Error("UPSTREAMS must list host:port upstreams, comma separated");
const ring = buildRing(upstreams);

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
    const generated = generatedRoute(req.socket);
    value = generated.value;
    setCookieFor.set(req, generated.setCookie);
  }
  proxy.web(req, res, { target: `http://${ring.pick(value)}` });
}).listen(port, host);
