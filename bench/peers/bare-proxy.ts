/**
 * Peer for the mesh benchmark: the least a Node reverse proxy built on node:http does per request, as
 * a yardstick for what such a proxy reaches on the same machine. node:http downstream; upstream,
 * raw keep-alive sockets with the request written in one go and the response read with a minimal
 * parser (status line, Content-Length, body). It pins clients like the others (envoy-ring.ts) and
 * adds X-Forwarded-For and X-Request-Id, and nothing else: no routing, no validation, no retries, no
 * stats. Requests with a body and responses without a Content-Length get 501/502: not a real proxy.
 * Run: PORT=8081 UPSTREAMS=127.0.0.1:9001,127.0.0.1:9002 node --import tsx bench/peers/bare-proxy.ts
 */
import { randomUUID } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { buildRing, generatedRoute, routeCookie } from "./envoy-ring.js";

const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST ?? "127.0.0.1";
const upstreams = (process.env.UPSTREAMS ?? "").split(",").filter((u) => u !== "");
if (upstreams.length === 0) throw new Error("UPSTREAMS must list host:port upstreams, comma separated");
const ring = buildRing(upstreams);
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "te",
  "proxy-connection",
]);

/** One keep-alive upstream connection; `answer` is the response it is waiting for, if any. */
interface Upstream {
  socket: Socket;
  answer: ((status: number, headers: string[], body: Buffer) => void) | undefined;
  fail: (() => void) | undefined;
}
const idle = new Map<string, Upstream[]>(upstreams.map((u) => [u, []]));

function open(address: string): Upstream {
  const colon = address.lastIndexOf(":");
  const socket = connect({
    host: address.slice(0, colon),
    port: Number(address.slice(colon + 1)),
    noDelay: true,
  });
  const upstream: Upstream = { socket, answer: undefined, fail: undefined };
  let pending: Buffer | undefined;
  const gone = () => {
    const list = idle.get(address) ?? [];
    const at = list.indexOf(upstream);
    if (at >= 0) list.splice(at, 1);
    const fail = upstream.fail;
    upstream.answer = undefined;
    upstream.fail = undefined;
    fail?.();
  };
  socket.on("error", gone);
  socket.on("close", gone);
  socket.on("data", (chunk: Buffer) => {
    const data = pending ? Buffer.concat([pending, chunk]) : chunk;
    const end = data.indexOf("\r\n\r\n");
    if (end < 0) {
      pending = data;
      return;
    }
    const lines = data.toString("latin1", 0, end).split("\r\n");
    const headers: string[] = [];
    let length = -1;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon);
      const lower = name.toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (lower === "content-length") length = Number(value);
      else if (!HOP_BY_HOP.has(lower)) headers.push(name, value);
    }
    if (length < 0) {
      socket.destroy();
      return;
    }
    if (data.length < end + 4 + length) {
      pending = data;
      return;
    }
    pending = undefined;
    const answer = upstream.answer;
    upstream.answer = undefined;
    upstream.fail = undefined;
    idle.get(address)?.push(upstream);
    answer?.(Number((lines[0] as string).slice(9, 12)), headers, data.subarray(end + 4, end + 4 + length));
  });
  return upstream;
}

function reply(res: ServerResponse, status: number, body: string): void {
  if (!res.headersSent)
    res.writeHead(status, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
}

createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined) {
    reply(res, 501, "request bodies are not proxied\n");
    return;
  }
  let value = routeCookie(req.headers.cookie);
  let setCookie: string | undefined;
  if (value === "") {
    const generated = generatedRoute(req.socket);
    value = generated.value;
    setCookie = generated.setCookie;
  }
  const address = ring.pick(value);
  const upstream = idle.get(address)?.pop() ?? open(address);
  upstream.answer = (status, headers, body) => {
    if (setCookie !== undefined) headers.push("set-cookie", setCookie);
    headers.push("content-length", String(body.length));
    res.writeHead(status, headers);
    res.end(body);
  };
  upstream.fail = () => reply(res, 502, "upstream failed\n");
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has((raw[i] as string).toLowerCase())) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  head += `x-forwarded-for: ${req.socket.remoteAddress}\r\nx-request-id: ${randomUUID()}\r\n\r\n`;
  upstream.socket.write(head, "latin1");
}).listen(port, host);
