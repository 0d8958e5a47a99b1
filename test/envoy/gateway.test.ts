import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  Agent,
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { Cluster } from "../../src/envoy/cluster.js";
import type { ClusterConfig } from "../../src/envoy/cluster-config.js";
import { type GatewaySnapshot, IngressGateway } from "../../src/envoy/gateway.js";
import { type ResponseHead, ResponseParser } from "../../src/envoy/upstream/response-parser.js";
import { seededRandom } from "../../src/lb/random-source.js";
import {
  GATEWAY_AND_SERVICE_YAML,
  gatewayConfigFromYaml,
  hostEntries,
  virtualServiceYaml,
} from "../helpers/gateway-config.js";
import { closedPort, sleep, tcpServer, unansweredAddress, waitFor, within } from "../helpers/loopback.js";
import { rawExchange } from "../helpers/raw-http.js";

// --- configuration: what istiod would push for a one-route, one-service setup ---------------------------

const CLUSTER = "outbound|80||session-svc.default.svc.cluster.local";

interface RouteOptions {
  /** The VirtualService route's `retries:` (flow mapping), e.g. `{attempts: 2, retryOn: "503"}`. */
  readonly retries?: string;
  /** The VirtualService route's `timeout:`, e.g. `300ms`. */
  readonly timeout?: string;
  /** The DestinationRule's `connectionPool.tcp.connectTimeout`, e.g. `300ms`. */
  readonly connectTimeout?: string;
  /** The DestinationRule's `connectionPool.http:` (flow mapping), e.g. `{maxRequestsPerConnection: 1}`. */
  readonly httpPool?: string;
  /** The DestinationRule's `connectionPool.tcp:` (flow mapping), e.g. `{maxConnections: 1}`; replaces connectTimeout. */
  readonly tcpPool?: string;
  /** The DestinationRule's `outlierDetection:` (flow mapping), e.g. `{consecutive5xxErrors: 2}`. */
  readonly outlierDetection?: string;
}

function connectionPool(route: RouteOptions): string {
  const parts = [
    ...(route.tcpPool !== undefined
      ? [`tcp: ${route.tcpPool}`]
      : route.connectTimeout === undefined
        ? []
        : [`tcp: {connectTimeout: ${route.connectTimeout}}`]),
    ...(route.httpPool === undefined ? [] : [`http: ${route.httpPool}`]),
  ];
  return parts.length === 0 ? "" : `, connectionPool: {${parts.join(", ")}}`;
}

function manifests(route: RouteOptions): string {
  return `${GATEWAY_AND_SERVICE_YAML}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: session}
spec:
  host: session-svc
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}${connectionPool(route)}${route.outlierDetection === undefined ? "" : `, outlierDetection: ${route.outlierDetection}`}}${virtualServiceYaml("[{destination: {host: session-svc}}]")}${route.retries === undefined ? "" : `      retries: ${route.retries}\n`}${route.timeout === undefined ? "" : `      timeout: ${route.timeout}\n`}`;
}

function snapshot(addresses: readonly string[], route: RouteOptions = {}): GatewaySnapshot {
  const config = gatewayConfigFromYaml(manifests(route), "gateway.test.yaml");
  const clusterConfig = config.clusters.get(CLUSTER) as ClusterConfig;
  assert.ok(clusterConfig, "the route's cluster is configured");
  const cluster = new Cluster(clusterConfig, hostEntries(addresses), seededRandom(11));
  return { routes: config.routes, clusters: new Map([[CLUSTER, cluster]]) };
}

interface TestGateway {
  readonly port: number;
  readonly gateway: IngressGateway;
  readonly cluster: Cluster;
}

async function startGateway(
  t: TestContext,
  addresses: readonly string[],
  route: RouteOptions = {},
  options: { retryBufferBytes?: number; requestTimeoutMs?: number; headersTimeoutMs?: number } = {},
): Promise<TestGateway> {
  const snap = snapshot(addresses, route);
  const gateway = new IngressGateway({
    port: 0,
    snapshot: () => snap,
    random: seededRandom(5),
    ...options,
  });
  await gateway.listen();
  t.after(() => gateway.close());
  return { port: gateway.port, gateway, cluster: snap.clusters.get(CLUSTER) as Cluster };
}

/** Advances the round-robin balancer so that the next request's first pick is `address`. */
function nextPickIs(cluster: Cluster, address: string): void {
  for (let i = 0; i < cluster.endpoints.length; i++) {
    const peek = cluster.lb.choose({ hash: undefined, attempt: 0 });
    const at = cluster.endpoints.findIndex((e) => e.address === peek?.address);
    const following = cluster.endpoints[(at + 1) % cluster.endpoints.length];
    if (following?.address === address) return;
  }
  assert.fail(`${address} is not among the endpoints`);
}

// --- fake upstreams -------------------------------------------------------------------------------------

interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
}

interface Upstream {
  readonly address: string;
  readonly requests: SeenRequest[];
  /** TCP connections accepted so far. */
  readonly sockets: Socket[];
}

/** A node:http upstream that records each request (with its body) before `respond` answers it. */
async function httpUpstream(
  t: TestContext,
  respond: (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void,
): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const sockets: Socket[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const seen: SeenRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      };
      requests.push(seen);
      respond(req, res, seen);
    });
  });
  server.on("connection", (socket: Socket) => sockets.push(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests, sockets };
}

/** An upstream answering every request with `status` and `body`. */
function fixedUpstream(t: TestContext, status: number, body: string): Promise<Upstream> {
  return httpUpstream(t, (_req, res) => {
    res.writeHead(status, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
}

/** An upstream that answers with what it received, as JSON. */
function echoUpstream(t: TestContext): Promise<Upstream> {
  return httpUpstream(t, (_req, res, seen) => {
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        method: seen.method,
        url: seen.url,
        rawHeaders: seen.rawHeaders,
        bytes: seen.body.length,
        sha: sha(seen.body),
      }),
    );
  });
}

/** A raw node:net upstream for misbehaviour; each accepted socket goes to `onSocket`. */
async function tcpUpstream(t: TestContext, onSocket: (socket: Socket) => void): Promise<Upstream> {
  return { ...(await tcpServer(t, onSocket)), requests: [] };
}

// --- clients --------------------------------------------------------------------------------------------

interface Reply {
  /** 0 when the request failed before a response head. */
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
  /** Whether the whole response arrived (false when it was cut short). */
  readonly complete: boolean;
}

interface CallOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  /** Sends the body in pieces of this size without a Content-Length, so Node frames it chunked. */
  readonly chunkedPieces?: number;
  readonly timeoutMs?: number;
}

/** One request through the gateway on its own connection (node:http, no agent), bounded in time. */
function call(port: number, options: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no complete reply within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    const headers: Record<string, string> = { ...options.headers };
    const body = options.body;
    if (body && !options.chunkedPieces) headers["content-length"] = String(body.length);
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", () => {});
        res.on("close", () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks),
            complete: res.complete,
          });
        });
      },
    );
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    if (body && options.chunkedPieces) {
      for (let at = 0; at < body.length; at += options.chunkedPieces) {
        req.write(body.subarray(at, at + options.chunkedPieces));
      }
      req.end();
    } else req.end(body);
  });
}

interface RawReply {
  readonly heads: ResponseHead[];
  readonly body: Buffer;
  readonly raw: string;
}

/**
 * Sends bytes as given on a fresh connection and parses what comes back until the gateway closes
 * (requests carry `connection: close`), with the project's own response parser; bounded in time.
 */
function rawCall(port: number, payload: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("the gateway did not close within 5 s"));
    }, 5000);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      const raw = Buffer.concat(received);
      const heads: ResponseHead[] = [];
      const body: Buffer[] = [];
      const parser = new ResponseParser({
        head: (h) => heads.push(h),
        body: (c) => body.push(Buffer.from(c)),
        end: () => {},
      });
      parser.reset(payload.startsWith("HEAD "));
      try {
        parser.feed(raw);
        parser.finish();
      } catch (error) {
        reject(error);
        return;
      }
      resolve({ heads, body: Buffer.concat(body), raw: raw.toString("latin1") });
    });
    socket.write(payload, "latin1");
  });
}

/** Every value of a header (case-insensitive) in a flattened name/value list. */
function values(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === name) out.push(raw[i + 1] as string);
  }
  return out;
}

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// --- tests ----------------------------------------------------------------------------------------------

describe("ingress gateway: headers", { timeout: 30_000 }, () => {
  it("sets x-forwarded-for to the peer, x-forwarded-proto to http and a new UUID x-request-id", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const reply = await call(gw.port, { path: "/user?x=1" });
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.body.toString());
    assert.equal(echo.url, "/user?x=1");
    assert.deepEqual(values(echo.rawHeaders, "x-forwarded-for"), ["127.0.0.1"]);
    assert.deepEqual(values(echo.rawHeaders, "x-forwarded-proto"), ["http"]);
    const ids = values(echo.rawHeaders, "x-request-id");
    assert.equal(ids.length, 1);
    assert.match(ids[0] as string, UUID);
    const second = JSON.parse((await call(gw.port)).body.toString());
    assert.notEqual(values(second.rawHeaders, "x-request-id")[0], ids[0], "a new id per request");
  });

  it("appends the peer to every incoming x-forwarded-for, overrides x-forwarded-proto and keeps the first x-request-id", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawCall(
      gw.port,
      "GET /h HTTP/1.1\r\nhost: example.test\r\nx-forwarded-for: 203.0.113.7\r\n" +
        "X-Forwarded-For: 198.51.100.1, 198.51.100.2\r\nx-forwarded-proto: https\r\n" +
        "x-request-id: abc-123\r\nx-request-id: other\r\nconnection: close\r\n\r\n",
    );
    assert.equal(reply.heads[0]?.status, 200);
    const echo = JSON.parse(reply.body.toString());
    assert.deepEqual(values(echo.rawHeaders, "x-forwarded-for"), [
      "203.0.113.7,198.51.100.1, 198.51.100.2,127.0.0.1",
    ]);
    assert.deepEqual(values(echo.rawHeaders, "x-forwarded-proto"), ["http"]);
    assert.deepEqual(values(echo.rawHeaders, "x-request-id"), ["abc-123"]);
    assert.deepEqual(values(echo.rawHeaders, "host"), ["example.test"]);
  });

  it("drops hop-by-hop request headers and keeps end-to-end ones", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawCall(
      gw.port,
      "POST /hop HTTP/1.1\r\nhost: h\r\nconnection: close, keep-alive\r\nkeep-alive: timeout=9\r\n" +
        "proxy-connection: keep-alive\r\nte: trailers\r\nupgrade: h2c\r\nexpect: 100-continue\r\n" +
        "x-end-to-end: kept\r\ncookie: a=b\r\ncontent-length: 2\r\n\r\nhi",
    );
    assert.equal(reply.heads.at(-1)?.status, 200);
    const echo = JSON.parse(reply.body.toString());
    const names = new Set<string>();
    for (let i = 0; i < echo.rawHeaders.length; i += 2) names.add(echo.rawHeaders[i].toLowerCase());
    for (const hop of ["keep-alive", "proxy-connection", "te", "upgrade", "expect", "transfer-encoding"]) {
      assert.equal(names.has(hop), false, `${hop} is not forwarded`);
    }
    // The gateway's own connection to the upstream is keep-alive: no client `connection` value leaks.
    assert.deepEqual(values(echo.rawHeaders, "connection"), []);
    assert.deepEqual(values(echo.rawHeaders, "x-end-to-end"), ["kept"]);
    assert.deepEqual(values(echo.rawHeaders, "cookie"), ["a=b"]);
    assert.deepEqual(values(echo.rawHeaders, "content-length"), ["2"]);
    assert.equal(echo.bytes, 2);
  });

  it("drops hop-by-hop response headers, replaces server with istio-envoy and adds the upstream service time", async (t) => {
    const upstream = await httpUpstream(t, (_req, res) => {
      res.setHeader("server", "upstream/1.0");
      res.setHeader("keep-alive", "timeout=5, max=7");
      res.setHeader("proxy-connection", "keep-alive");
      res.setHeader("upgrade", "h2c");
      res.setHeader("x-app", "yes");
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.write("chunk one, ");
      res.end("chunk two");
    });
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawCall(gw.port, "GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n");
    const head = reply.heads[0] as ResponseHead;
    assert.equal(head.status, 200);
    assert.equal(reply.body.toString(), "chunk one, chunk two");
    assert.deepEqual(values(head.headers, "server"), ["istio-envoy"]);
    assert.deepEqual(values(head.headers, "proxy-connection"), []);
    assert.deepEqual(values(head.headers, "upgrade"), []);
    assert.ok(
      values(head.headers, "keep-alive").every((v) => !v.includes("max=7")),
      "the upstream's keep-alive is not forwarded",
    );
    assert.deepEqual(
      values(head.headers, "connection"),
      ["close"],
      "only the gateway's own connection header",
    );
    assert.ok(values(head.headers, "transfer-encoding").length <= 1);
    assert.deepEqual(values(head.headers, "x-app"), ["yes"]);
    assert.deepEqual(values(head.headers, "set-cookie"), ["a=1", "b=2"]);
    const time = values(head.headers, "x-envoy-upstream-service-time");
    assert.equal(time.length, 1);
    assert.match(time[0] as string, /^\d+$/);
  });
});

describe("ingress gateway: bodies", { timeout: 60_000 }, () => {
  it("streams a Content-Length request body to the upstream intact", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const reply = await call(gw.port, { method: "POST", path: "/upload", body });
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.body.toString());
    assert.deepEqual(values(echo.rawHeaders, "content-length"), [String(body.length)]);
    assert.deepEqual(values(echo.rawHeaders, "transfer-encoding"), []);
    assert.equal(echo.bytes, body.length);
    assert.equal(echo.sha, sha(body));
  });

  it("streams a chunked request body to the upstream intact, chunked", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const body = randomBytes(2 * 1024 * 1024 + 5);
    const reply = await call(gw.port, { method: "PUT", body, chunkedPieces: 50_001 });
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.body.toString());
    assert.deepEqual(values(echo.rawHeaders, "transfer-encoding"), ["chunked"]);
    assert.deepEqual(values(echo.rawHeaders, "content-length"), []);
    assert.equal(echo.method, "PUT");
    assert.equal(echo.bytes, body.length);
    assert.equal(echo.sha, sha(body));
  });

  it("streams a large chunked response body to the client intact", async (t) => {
    const payload = randomBytes(6 * 1024 * 1024);
    const upstream = await httpUpstream(t, async (_req, res) => {
      for (let at = 0; at < payload.length; at += 64 * 1024) {
        if (!res.write(payload.subarray(at, at + 64 * 1024))) await once(res, "drain");
      }
      res.end();
    });
    const gw = await startGateway(t, [upstream.address]);
    const reply = await call(gw.port, { path: "/download" });
    assert.equal(reply.status, 200);
    assert.equal(reply.complete, true);
    assert.equal(reply.body.length, payload.length);
    assert.equal(sha(reply.body), sha(payload));
  });

  it("streams a large Content-Length response body to the client intact, keeping its length", async (t) => {
    const payload = randomBytes(5 * 1024 * 1024 + 3);
    const upstream = await httpUpstream(t, (_req, res) => {
      res.setHeader("content-length", String(payload.length));
      res.end(payload);
    });
    const gw = await startGateway(t, [upstream.address]);
    const reply = await call(gw.port);
    assert.equal(reply.headers["content-length"], String(payload.length));
    assert.equal(reply.complete, true);
    assert.equal(sha(reply.body), sha(payload));
  });

  it("answers HEAD with the upstream's headers and no body, and keeps the upstream connection", async (t) => {
    const upstream = await httpUpstream(t, (req, res) => {
      res.setHeader("content-length", "1234");
      res.end(req.method === "HEAD" ? undefined : "x".repeat(1234));
    });
    const gw = await startGateway(t, [upstream.address]);
    const head = await rawCall(gw.port, "HEAD /file HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n");
    assert.equal(head.heads[0]?.status, 200);
    assert.deepEqual(values(head.heads[0]?.headers ?? [], "content-length"), ["1234"]);
    assert.ok(head.raw.endsWith("\r\n\r\n"), "nothing after the head");
    const get = await call(gw.port, { path: "/file" });
    assert.equal(get.body.length, 1234);
    assert.equal(upstream.sockets.length, 1, "the upstream connection was reused after HEAD");
  });

  it("answers 204 without a body", async (t) => {
    const upstream = await httpUpstream(t, (_req, res) => {
      res.writeHead(204, { "x-reason": "empty" });
      res.end();
    });
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawCall(gw.port, "DELETE /x HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n");
    assert.equal(reply.heads[0]?.status, 204);
    assert.deepEqual(values(reply.heads[0]?.headers ?? [], "x-reason"), ["empty"]);
    assert.ok(reply.raw.endsWith("\r\n\r\n"), "nothing after the head");
    assert.equal(reply.body.length, 0);
  });
});

describe("ingress gateway: retries and failures", { timeout: 60_000 }, () => {
  it("retries an empty 503 on the other host when the route's retryOn names 503, replaying the body", async (t) => {
    const failing = await httpUpstream(t, (_req, res) => {
      res.writeHead(503, { "content-length": "0" });
      res.end();
    });
    const healthy = await echoUpstream(t);
    const gw = await startGateway(t, [failing.address, healthy.address], {
      retries: '{attempts: 2, retryOn: "503"}',
    });
    for (let i = 0; i < 3; i++) {
      nextPickIs(gw.cluster, failing.address);
      const body = Buffer.from(`payload ${i}`);
      const reply = await call(gw.port, {
        method: "POST",
        body,
        headers: { "x-request-id": `rid-${i}`, "x-envoy-attempt-count": "7" },
      });
      assert.equal(reply.status, 200, `request ${i}`);
      const echo = JSON.parse(reply.body.toString());
      assert.equal(echo.sha, sha(body), "the body is replayed on the retry");
      assert.deepEqual(values(echo.rawHeaders, "x-request-id"), [`rid-${i}`]);
      // Istio turns include_request_attempt_count on: the router's count replaces the client's.
      assert.deepEqual(values(echo.rawHeaders, "x-envoy-attempt-count"), ["2"]);
      assert.deepEqual(values(failing.requests[i]?.rawHeaders ?? [], "x-envoy-attempt-count"), ["1"]);
    }
    assert.equal(failing.requests.length, 3);
    assert.deepEqual(
      failing.requests.map((r) => r.body.toString()),
      ["payload 0", "payload 1", "payload 2"],
    );
    assert.equal(gw.cluster.stats.rqRetry, 3);
    assert.equal(gw.cluster.host(failing.address).rqError, 3);
  });

  it("retries a 503 that has a body without letting that body reach the client", async (t) => {
    const failing = await fixedUpstream(t, 503, "upstream busy");
    const healthy = await fixedUpstream(t, 200, "served");
    const gw = await startGateway(t, [failing.address, healthy.address], {
      retries: '{attempts: 2, retryOn: "503"}',
    });
    nextPickIs(gw.cluster, failing.address);
    const reply = await call(gw.port);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), "served");
  });

  it("passes a 503 through without a retry under Istio's default retry policy (503 excluded since 1.24)", async (t) => {
    const failing = await fixedUpstream(t, 503, "upstream busy");
    const healthy = await fixedUpstream(t, 200, "served");
    const gw = await startGateway(t, [failing.address, healthy.address]);
    nextPickIs(gw.cluster, failing.address);
    const reply = await call(gw.port);
    assert.equal(reply.status, 503);
    assert.equal(reply.body.toString(), "upstream busy");
    assert.equal(reply.headers.server, "istio-envoy");
    assert.equal(healthy.requests.length, 0);
    assert.equal(gw.cluster.stats.rqRetry, 0);
  });

  it("retries a connect failure to a dead endpoint on the other host", async (t) => {
    const dead = await closedPort();
    const healthy = await fixedUpstream(t, 200, "served");
    const gw = await startGateway(t, [dead, healthy.address]);
    for (let i = 0; i < 2; i++) {
      nextPickIs(gw.cluster, dead);
      const reply = await call(gw.port);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), "served");
    }
    assert.equal(gw.cluster.stats.cxConnectFail, 2);
    assert.equal(gw.cluster.host(dead).cxConnectFail, 2);
    assert.equal(gw.cluster.stats.rqRetry, 2);
  });

  it("answers 503 with Envoy's connect error body when every attempt fails to connect", async (t) => {
    const gw = await startGateway(t, [await closedPort(), await closedPort()]);
    const reply = await call(gw.port);
    assert.equal(reply.status, 503);
    assert.equal(reply.headers.server, "istio-envoy");
    assert.equal(reply.headers["content-type"], "text/plain");
    assert.match(
      reply.body.toString(),
      /^upstream connect error or disconnect\/reset before headers\. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: ECONNREFUSED$/,
    );
    assert.equal(gw.cluster.stats.rqRetry, 2, "Istio's default: two retries");
    assert.equal(gw.cluster.stats.cxConnectFail, 3);
    assert.equal(gw.gateway.stats.responseFlags.UF, 1);
  });

  it("gives up on a connect after the rule's connectTimeout and answers 503 UF 'connection timeout' after the retries", async (t) => {
    const address = await unansweredAddress(t);
    const gw = await startGateway(t, [address], { connectTimeout: "300ms" });
    const started = performance.now();
    const reply = await call(gw.port, { timeoutMs: 10_000 });
    const elapsed = performance.now() - started;
    assert.equal(reply.status, 503);
    assert.equal(
      reply.body.toString(),
      "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection timeout",
    );
    // Three attempts (Istio's default retries connect failures twice), each cut at 300 ms, not at 10 s.
    assert.ok(elapsed >= 900 && elapsed < 5000, `answered after ${elapsed.toFixed(0)} ms`);
    assert.equal(gw.cluster.stats.cxConnectFail, 3);
    assert.equal(gw.gateway.stats.responseFlags.UF, 1);
  });

  it("says 'reset reason' without 'retried' when the route allows no retry", async (t) => {
    const gw = await startGateway(t, [await closedPort()], { retries: "{attempts: 0}" });
    const reply = await call(gw.port);
    assert.equal(reply.status, 503);
    assert.match(
      reply.body.toString(),
      /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure/,
    );
  });

  it("answers 502 UPE to a malformed upstream response without retrying it", async (t) => {
    const broken = await tcpUpstream(t, (socket) =>
      socket.once("data", () => socket.write("HTTP/1.1 200 OK\r\nbad header\r\n\r\n")),
    );
    const gw = await startGateway(t, [broken.address]);
    const reply = await call(gw.port);
    assert.equal(reply.status, 502);
    assert.equal(
      reply.body.toString(),
      "upstream connect error or disconnect/reset before headers. reset reason: protocol error",
    );
    assert.equal(gw.gateway.stats.responseFlags.UPE, 1);
    assert.equal(broken.sockets.length, 1, "not retried");
  });

  it("ends the downstream response abnormally when the upstream resets mid-body", async (t) => {
    for (const framing of ["content-length: 100000", "transfer-encoding: chunked"]) {
      const resetting = await tcpUpstream(t, (socket) => {
        socket.once("data", () => {
          const start = framing.startsWith("content") ? "x".repeat(1000) : `3e8\r\n${"x".repeat(1000)}\r\n`;
          socket.write(`HTTP/1.1 200 OK\r\n${framing}\r\n\r\n${start}`);
          setTimeout(() => socket.resetAndDestroy(), 50);
        });
      });
      const gw = await startGateway(t, [resetting.address]);
      const reply = await call(gw.port);
      assert.equal(reply.status, 200, framing);
      assert.equal(reply.complete, false, `${framing}: the client sees the response cut short`);
      assert.equal(reply.body.length, 1000);
      assert.equal(gw.cluster.stats.rqReset, 1);
    }
  });

  it("answers 504 'upstream request timeout' at the route timeout and closes the upstream request", async (t) => {
    const stalled = await tcpUpstream(t, (socket) => socket.resume());
    const gw = await startGateway(t, [stalled.address], { timeout: "200ms" });
    const reply = await call(gw.port);
    assert.equal(reply.status, 504);
    assert.equal(reply.body.toString(), "upstream request timeout");
    assert.equal(reply.headers.server, "istio-envoy");
    assert.equal(gw.cluster.stats.rqTimeout, 1);
    assert.equal(gw.gateway.stats.responseFlags.UT, 1);
    await waitFor(() => stalled.sockets[0]?.readableEnded === true, "the upstream connection to close", 3000);
  });

  it("cuts the downstream response at the route timeout when the upstream stalls mid-body", async (t) => {
    const stalled = await tcpUpstream(t, (socket) => {
      socket.once("data", () => socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf"));
      socket.resume();
    });
    const gw = await startGateway(t, [stalled.address], { timeout: "200ms" });
    const reply = await call(gw.port);
    assert.equal(reply.status, 200);
    assert.equal(reply.complete, false);
    assert.equal(reply.body.toString(), "half");
  });

  it("aborts the upstream request when the client disconnects mid-request", async (t) => {
    const seenHead: Socket[] = [];
    const upstream = await tcpUpstream(t, (socket) => {
      socket.once("data", () => seenHead.push(socket));
      socket.resume();
    });
    const gw = await startGateway(t, [upstream.address]);
    for (const request of [
      "POST /slow HTTP/1.1\r\nhost: h\r\ncontent-length: 1000\r\n\r\nfirst ten.",
      "GET /slow HTTP/1.1\r\nhost: h\r\n\r\n",
    ]) {
      const before = seenHead.length;
      const client = connect({ host: "127.0.0.1", port: gw.port });
      client.on("error", () => {});
      client.write(request);
      await waitFor(() => seenHead.length > before, "the request to reach the upstream", 3000);
      client.destroy();
      const upstreamSide = seenHead[before] as Socket;
      await waitFor(
        () => upstreamSide.readableEnded || upstreamSide.destroyed,
        "the upstream connection to close",
        3000,
      );
    }
    await waitFor(() => gw.gateway.stats.rqActive === 0, "no active request", 3000);
  });

  it("retries a large upload paused for backpressure and delivers the whole body to the next host", async (t) => {
    // Reads the head, then nothing: the upload fills the socket buffers and the gateway pauses the
    // client; 300 ms later it answers 503, which the route retries on the healthy host.
    const stuck = await tcpUpstream(t, (socket) => {
      socket.once("data", () => {
        socket.pause();
        setTimeout(() => socket.write("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"), 300);
      });
    });
    const healthy = await echoUpstream(t);
    const gw = await startGateway(
      t,
      [stuck.address, healthy.address],
      { retries: '{attempts: 2, retryOn: "503"}', timeout: "3s" },
      { retryBufferBytes: 64 * 1024 * 1024 },
    );
    nextPickIs(gw.cluster, stuck.address);
    const body = randomBytes(12 * 1024 * 1024);
    const reply = await call(gw.port, { method: "POST", body, timeoutMs: 8000 });
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body.toString()).sha, sha(body));
  });

  it("does not retry a request whose body outgrew the retry buffer: the upstream's 503 reaches the client", async (t) => {
    // The first host answers 503 only after 256 KiB of body, four times the buffer the gateway keeps.
    const busy = await tcpUpstream(t, (socket) => {
      let received = 0;
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received >= 256 * 1024 && received - chunk.length < 256 * 1024)
          socket.end(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy",
          );
      });
    });
    const healthy = await echoUpstream(t);
    const gw = await startGateway(
      t,
      [busy.address, healthy.address],
      { retries: '{attempts: 2, retryOn: "503"}', timeout: "3s" },
      { retryBufferBytes: 64 * 1024 },
    );
    nextPickIs(gw.cluster, busy.address);
    const reply = await call(gw.port, { method: "POST", body: randomBytes(1024 * 1024), timeoutMs: 8000 });
    assert.equal(reply.status, 503);
    assert.equal(reply.body.toString(), "busy");
    assert.equal(healthy.requests.length, 0, "nothing was replayed to the other host");
  });
});

describe("ingress gateway: upstream connection settings", { timeout: 30_000 }, () => {
  it("opens a connection per request with maxRequestsPerConnection: 1, and reuses one without it", async (t) => {
    for (const [httpPool, connections] of [
      ["{maxRequestsPerConnection: 1}", 4],
      [undefined, 1],
    ] as const) {
      const upstream = await fixedUpstream(t, 200, "served");
      const gw = await startGateway(t, [upstream.address], httpPool === undefined ? {} : { httpPool });
      for (let i = 0; i < 4; i++) assert.equal((await call(gw.port)).status, 200);
      assert.equal(upstream.sockets.length, connections, `${httpPool ?? "no setting"}`);
    }
  });

  it("closes an upstream connection left idle for connectionPool.http.idleTimeout", async (t) => {
    const upstream = await fixedUpstream(t, 200, "served");
    const gw = await startGateway(t, [upstream.address], { httpPool: "{idleTimeout: 200ms}" });
    assert.equal((await call(gw.port)).status, 200);
    await sleep(300);
    assert.equal((await call(gw.port)).status, 200);
    assert.equal(upstream.sockets.length, 2, "the idle connection was not reused after 200 ms");
  });
});

describe("ingress gateway: outlier detection", { timeout: 30_000 }, () => {
  it("ejects a host after its run of 5xx, sends everything to the others, and lets the 5xx through (not retried by default)", async (t) => {
    const failing = await fixedUpstream(t, 500, "broken");
    const healthy = await fixedUpstream(t, 200, "served");
    const gw = await startGateway(t, [failing.address, healthy.address], {
      outlierDetection:
        "{consecutive5xxErrors: 2, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100}",
    });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await call(gw.port)).status);
    assert.equal(statuses.filter((s) => s === 500).length, 2, `statuses: ${statuses.join(" ")}`);
    assert.deepEqual(statuses.slice(-6), [200, 200, 200, 200, 200, 200]);
    assert.equal(failing.requests.length, 2);
    assert.deepEqual(
      gw.cluster.hosts().map((h) => h.ejected),
      [true, false],
    );
    assert.deepEqual(
      gw.cluster.endpoints.map((e) => e.address),
      [healthy.address],
    );
    assert.equal(gw.cluster.outlierStats?.ejectionsEnforcedConsecutive5xx, 1);
  });

  it("counts a 5xx that is retried towards the host's ejection, as Envoy reports it before retrying", async (t) => {
    const failing = await fixedUpstream(t, 500, "broken");
    const healthy = await fixedUpstream(t, 200, "served");
    const gw = await startGateway(t, [failing.address, healthy.address], {
      retries: '{attempts: 2, retryOn: "5xx"}',
      outlierDetection: "{consecutive5xxErrors: 2, maxEjectionPercent: 100}",
    });
    for (let i = 0; i < 10; i++) assert.equal((await call(gw.port)).status, 200, `request ${i}`);
    assert.equal(failing.requests.length, 2);
    assert.equal(gw.cluster.hosts()[0]?.ejected, true);
  });

  it("books a route timeout against the host (as a 504) only while its response head is awaited", async (t) => {
    const silent = await tcpUpstream(t, () => {});
    const headOnly = await tcpUpstream(t, (socket) => {
      socket.once("data", () => socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"));
    });
    const detection = "{consecutiveGatewayErrors: 1, maxEjectionPercent: 100}";
    const waiting = await startGateway(t, [silent.address], {
      timeout: "100ms",
      outlierDetection: detection,
    });
    assert.equal((await call(waiting.port)).status, 504);
    assert.equal(waiting.cluster.hosts()[0]?.ejected, true);
    const streaming = await startGateway(t, [headOnly.address], {
      timeout: "100ms",
      outlierDetection: detection,
    });
    await call(streaming.port).catch(() => undefined); // the response is cut at the timeout
    assert.equal(streaming.cluster.stats.rqTimeout, 1);
    assert.equal(streaming.cluster.hosts()[0]?.ejected, false);
  });

  it("answers 503 no healthy upstream once every host is ejected (Istio's panic threshold is 0)", async (t) => {
    const failing = await fixedUpstream(t, 503, "down");
    const gw = await startGateway(t, [failing.address], {
      outlierDetection: "{consecutive5xxErrors: 1, maxEjectionPercent: 100}",
    });
    assert.equal((await call(gw.port)).status, 503);
    const reply = await call(gw.port);
    assert.equal(reply.status, 503);
    assert.equal(reply.body.toString(), "no healthy upstream");
    assert.equal(failing.requests.length, 1);
  });

  it("never ejects one host of two at Envoy's default maxEjectionPercent of 10", async (t) => {
    const failing = await fixedUpstream(t, 500, "broken");
    const healthy = await fixedUpstream(t, 200, "served");
    const gw = await startGateway(t, [failing.address, healthy.address], {
      outlierDetection: "{consecutive5xxErrors: 1}",
    });
    for (let i = 0; i < 6; i++) await call(gw.port);
    assert.equal(failing.requests.length, 3);
    assert.equal(gw.cluster.outlierStats?.ejectionsOverflow, 3);
  });
});

describe("ingress gateway: circuit breakers", { timeout: 30_000 }, () => {
  /** An upstream that answers nothing until `answer()` lets every request so far through. */
  async function heldUpstream(t: TestContext) {
    const held: (() => void)[] = [];
    const upstream = await httpUpstream(t, (_req, res) => {
      held.push(() => res.end("ok"));
    });
    const answer = () => {
      for (const release of held.splice(0)) release();
    };
    return { ...upstream, answer };
  }

  const OVERFLOW = "upstream connect error or disconnect/reset before headers. reset reason: overflow";

  it("lets a request wait for the one connection max_connections allows, and refuses one beyond http1MaxPendingRequests with 503 UO", async (t) => {
    const upstream = await heldUpstream(t);
    const gw = await startGateway(t, [upstream.address], {
      tcpPool: "{maxConnections: 1}",
      httpPool: "{http1MaxPendingRequests: 1}",
    });
    const first = call(gw.port);
    await waitFor(() => upstream.requests.length === 1, "the first request upstream");
    const second = call(gw.port);
    await waitFor(() => gw.gateway.pool.waitingCount(upstream.address, CLUSTER) === 1, "the second to wait");
    const third = await call(gw.port);
    assert.equal(third.status, 503);
    assert.equal(third.body.toString(), OVERFLOW);
    assert.equal(third.headers["x-envoy-overloaded"], "true");
    upstream.answer();
    await waitFor(
      () => upstream.requests.length === 2,
      "the waiting request upstream, on the freed connection",
    );
    upstream.answer();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.equal(upstream.sockets.length, 1, "never a second connection");
    const breakers = gw.cluster.breakers;
    assert.equal(breakers.rqPendingOverflow, 1);
    assert.ok(breakers.cxOverflow >= 1, "the wish for a second connection is booked");
    assert.equal(gw.gateway.stats.responseFlags.UO, 1);
    assert.deepEqual([breakers.connections, breakers.pendingRequests, breakers.requests], [1, 0, 0]);
  });

  it("gives a host without any connection one even at the cluster's max_connections, as Envoy does", async (t) => {
    const a = await heldUpstream(t);
    const b = await heldUpstream(t);
    const gw = await startGateway(t, [a.address, b.address], { tcpPool: "{maxConnections: 1}" });
    nextPickIs(gw.cluster, a.address);
    const first = call(gw.port);
    await waitFor(() => a.requests.length === 1, "the first request on host a");
    const second = call(gw.port);
    await waitFor(() => b.requests.length === 1, "the second request on host b, over its own connection");
    assert.equal(gw.cluster.breakers.connections, 2);
    assert.ok(gw.cluster.breakers.cxOverflow >= 1);
    a.answer();
    b.answer();
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
  });

  it("lets a waiting request go at its route timeout (504), leaving nothing behind in the pool", async (t) => {
    const upstream = await heldUpstream(t);
    const gw = await startGateway(t, [upstream.address], {
      tcpPool: "{maxConnections: 1}",
      timeout: "300ms",
    });
    const first = call(gw.port);
    await waitFor(() => upstream.requests.length === 1, "the first request upstream");
    const waiting = await call(gw.port);
    assert.equal(waiting.status, 504);
    assert.equal(gw.gateway.pool.waitingCount(upstream.address, CLUSTER), 0);
    assert.equal(gw.cluster.breakers.pendingRequests, 0);
    assert.equal((await first).status, 504);
  });

  it("refuses a request beyond http2MaxRequests once its connection is ready, without a retry", async (t) => {
    const upstream = await heldUpstream(t);
    const gw = await startGateway(t, [upstream.address], {
      httpPool: "{http2MaxRequests: 1}",
      retries: "{attempts: 3, retryOn: 'reset,connect-failure,5xx'}",
    });
    const first = call(gw.port);
    await waitFor(() => upstream.requests.length === 1, "the first request upstream");
    const second = await call(gw.port);
    assert.equal(second.status, 503);
    assert.equal(second.body.toString(), OVERFLOW);
    assert.equal(gw.cluster.stats.rqRetry, 0, "an overflow is never retried");
    upstream.answer();
    assert.equal((await first).status, 200);
    assert.equal(upstream.requests.length, 1);
    assert.equal(gw.cluster.breakers.rqPendingOverflow, 1);
    assert.equal(gw.cluster.hosts()[0]?.ejected, false);
  });

  it("does not retry a 5xx while maxRetries retries are under way: the upstream's answer goes down", async (t) => {
    const upstream = await httpUpstream(t, (_req, res) => {
      setTimeout(() => {
        res.statusCode = 503;
        res.end("busy");
      }, 200);
    });
    const gw = await startGateway(t, [upstream.address], {
      httpPool: "{maxRetries: 1}",
      retries: "{attempts: 1, retryOn: 5xx}",
    });
    const retried = call(gw.port);
    await sleep(50);
    const refused = await call(gw.port);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.toString(), "busy", "the upstream's own 503, not retried");
    assert.equal((await retried).status, 503);
    assert.equal(gw.cluster.breakers.rqRetryOverflow, 1);
    assert.equal(gw.cluster.stats.rqRetry, 1, "only the first request was retried");
    assert.equal(upstream.requests.length, 3);
    assert.equal(gw.cluster.breakers.retries, 0, "every retry slot given back");
  });
});

describe("ingress gateway: the retry buffer", { timeout: 30_000 }, () => {
  it("answers Envoy's 507 when the body outgrows the retry buffer while its retry waits", async (t) => {
    // The first host refuses as soon as the head arrives; the retry then waits out a long back-off
    // while the client sends more body than the buffer holds.
    const refusing = await tcpUpstream(t, (socket) => {
      socket.once("data", () =>
        socket.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
      );
    });
    const healthy = await echoUpstream(t);
    const gw = await startGateway(
      t,
      [refusing.address, healthy.address],
      { retries: '{attempts: 2, retryOn: "503"}' },
      { retryBufferBytes: 1024 },
    );
    gw.gateway.backoffMs = () => 2000;
    nextPickIs(gw.cluster, refusing.address);
    const client = await rawClient(t, gw.port);
    client.socket.write("POST /user HTTP/1.1\r\nhost: x\r\ncontent-length: 4096\r\n\r\nfirst");
    await waitFor(() => gw.cluster.stats.rqRetry === 1, "the retry to be scheduled", 5000);
    client.socket.write("x".repeat(4091));
    await client.until("exceeded request buffer limit while retrying upstream");
    assert.match(client.received, /^HTTP\/1\.1 507 /);
    assert.equal(healthy.requests.length, 0, "the retry never left");
  });
});

describe("ingress gateway: request lifetime", { timeout: 30_000 }, () => {
  it("gives back the active-request count (least request reads it) when the client leaves or the route times out", async (t) => {
    const stalled = await tcpUpstream(t, (socket) => socket.resume());
    const gw = await startGateway(t, [stalled.address], { timeout: "200ms" });
    const reply = await call(gw.port);
    assert.equal(reply.status, 504);
    assert.equal(gw.cluster.activeRequests.get(stalled.address), 0, "after the route timeout");

    const open = await startGateway(t, [stalled.address]);
    const client = connect({ host: "127.0.0.1", port: open.port });
    client.on("error", () => {});
    client.write("GET /user HTTP/1.1\r\nhost: h\r\n\r\n");
    await waitFor(() => open.cluster.activeRequests.get(stalled.address) === 1, "the request upstream", 3000);
    client.destroy();
    await waitFor(
      () => open.cluster.activeRequests.get(stalled.address) === 0,
      "the count to drop after the client left",
      3000,
    );
  });

  it("answers an upload the upstream refuses early and closes the connection instead of leaving it hanging", async (t) => {
    // Reads the head and a little, then answers 413 and stops reading: the upload backs up.
    const refusing = await tcpUpstream(t, (socket) => {
      socket.once("data", () => {
        socket.pause();
        socket.write("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 9\r\n\r\ntoo large");
      });
    });
    const gw = await startGateway(t, [refusing.address]);
    // A keep-alive client: without the gateway's `connection: close` its connection would wedge.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const answer = new Promise<{ status: number; connection: string | undefined; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(
          { host: "127.0.0.1", port: gw.port, method: "POST", path: "/upload", agent },
          (res) => {
            let text = "";
            res.setEncoding("latin1");
            res.on("data", (d: string) => {
              text += d;
            });
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }),
            );
          },
        );
        req.on("error", reject);
        req.setHeader("content-length", String(16 * 1024 * 1024));
        req.end(randomBytes(16 * 1024 * 1024));
      },
    );
    const { status, connection, body } = await within(answer, 8000, "the early answer");
    assert.equal(status, 413);
    assert.equal(body, "too large");
    assert.equal(connection, "close", "the rest of the body cannot be told from a next request");
  });

  /** A gateway in front of an upstream that sends a chunked response's `start` at once and its end 1.5 s later. */
  async function lateEndingGateway(t: TestContext, start: string): Promise<{ port: number }> {
    const slow = await tcpUpstream(t, (socket) => {
      socket.once("data", () => {
        socket.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${start}`);
        setTimeout(() => socket.end("4\r\nlate\r\n0\r\n\r\n"), 1500);
      });
    });
    return startGateway(t, [slow.address]);
  }

  it("forwards the response head at once, before a slow first body byte", async (t) => {
    const gw = await lateEndingGateway(t, "");
    const sent = performance.now();
    const headAfter = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: gw.port, path: "/events", agent: false }, (res) => {
        resolve(performance.now() - sent);
        res.resume();
      });
      req.on("error", reject);
      req.end();
    });
    assert.ok(headAfter < 1000, `the head arrived after ${headAfter.toFixed(0)} ms, with the body`);
  });

  it("forwards the body bytes of a read at once, not when the response ends", async (t) => {
    const gw = await lateEndingGateway(t, "5\r\nearly\r\n");
    const sent = performance.now();
    const first = await new Promise<{ ms: number; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: gw.port, path: "/events", agent: false }, (res) => {
        res.once("data", (chunk: Buffer) => {
          resolve({ ms: performance.now() - sent, text: chunk.toString() });
          res.resume();
        });
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(first.text, "early");
    assert.ok(first.ms < 1000, `the first bytes arrived after ${first.ms.toFixed(0)} ms, with the end`);
  });

  it("starts the route timeout when the request is complete, so a slow upload is not cut by it", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address], { timeout: "300ms" });
    const client = connect({ host: "127.0.0.1", port: gw.port });
    client.on("error", () => {});
    t.after(() => client.destroy());
    let answer = "";
    client.on("data", (d: Buffer) => {
      answer += d.toString("latin1");
    });
    client.write("POST /upload HTTP/1.1\r\nhost: h\r\ncontent-length: 10\r\nconnection: close\r\n\r\nfive.");
    await new Promise((r) => setTimeout(r, 700));
    client.write("more.");
    await within(once(client, "end"), 3000, "the answer");
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });

  it("retries a connect failure under retryOn reset and a dropped connection under gateway-error, as Envoy does", async (t) => {
    const healthy = await echoUpstream(t);
    const dead = await closedPort();
    const byReset = await startGateway(t, [dead, healthy.address], {
      retries: '{attempts: 2, retryOn: "reset"}',
    });
    nextPickIs(byReset.cluster, dead);
    assert.equal((await call(byReset.port)).status, 200);

    const dropping = await tcpUpstream(t, (socket) => socket.once("data", () => socket.destroy()));
    const byGatewayError = await startGateway(t, [dropping.address, healthy.address], {
      retries: '{attempts: 2, retryOn: "gateway-error"}',
    });
    nextPickIs(byGatewayError.cluster, dropping.address);
    assert.equal((await call(byGatewayError.port)).status, 200);
  });
});

describe("ingress gateway: request header limits (Envoy's defaults)", { timeout: 30_000 }, () => {
  it("forwards up to 100 header fields and 60 KiB of headers, and answers 431 to a 101st field", async (t) => {
    // A raw upstream: node:http's own 16 KiB limit would refuse what the gateway lets through.
    const seen: number[] = [];
    const upstream = await tcpUpstream(t, (socket) => {
      let head = "";
      socket.on("data", (chunk: Buffer) => {
        head += chunk.toString("latin1");
        if (!head.includes("\r\n\r\n")) return;
        seen.push(head.length);
        head = "";
        socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
      });
    });
    const gw = await startGateway(t, [upstream.address]);
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `x-f${i}: v\r\n`).join("");
    const send = (headers: string) =>
      rawCall(gw.port, `GET /user HTTP/1.1\r\n${headers}connection: close\r\n\r\n`);
    // host + connection + 98 = 100 fields.
    assert.equal((await send(`host: x\r\n${fields(98)}`)).heads[0]?.status, 200);
    const tooMany = await send(`host: x\r\n${fields(99)}`);
    assert.equal(tooMany.heads[0]?.status, 431);
    assert.equal(tooMany.body.toString(), "Request Header Fields Too Large");
    const big = await send(`host: x\r\ncookie: sid=${"a".repeat(40 * 1024)}\r\n`);
    assert.equal(big.heads[0]?.status, 200, "a 40 KiB Cookie passes, as through Envoy");
    assert.ok((seen.at(-1) ?? 0) > 40 * 1024);
    const huge = await send(`host: x\r\ncookie: sid=${"a".repeat(61 * 1024)}\r\n`);
    assert.equal(huge.heads[0]?.status, 431);
    assert.equal(seen.length, 2, "refused requests never reach the upstream");
    assert.equal(gw.gateway.stats.responseFlags.DPE, 1);
  });
});

describe("ingress gateway: path normalization (Istio's default)", { timeout: 30_000 }, () => {
  it("routes and forwards the normalized path, keeping the query as sent", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawCall(
      gw.port,
      "GET /a/./b/../%2E%2E/%75ser%2fx?next=/a/../b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert.equal(reply.heads[0]?.status, 200);
    assert.equal(JSON.parse(reply.body.toString()).url, "/user%2fx?next=/a/../b");
  });

  it("takes an absolute-form target's authority as Host and normalizes its path", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawCall(
      gw.port,
      "GET http://example.com/a/../user?x=1 HTTP/1.1\r\nhost: other\r\nconnection: close\r\n\r\n",
    );
    assert.equal(reply.heads[0]?.status, 200);
    const echo = JSON.parse(reply.body.toString());
    assert.equal(echo.url, "/user?x=1");
    assert.deepEqual(values(echo.rawHeaders, "host"), ["example.com"]);
  });

  it("answers 400 without reaching the upstream when the path holds a NUL or a fragment", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    for (const target of ["/user%00", "/a/.%00./user", "/user#top"]) {
      const reply = await rawCall(gw.port, `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      assert.equal(reply.heads[0]?.status, 400, target);
    }
    assert.equal(upstream.requests.length, 0);
  });
});

// --- WebSocket and other upgrades -----------------------------------------------------------------------

const HANDSHAKE =
  "GET /chat HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n" +
  "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n";

/** An upstream that answers WebSocket handshakes with 101 and then echoes every byte back. */
async function echoTunnelUpstream(t: TestContext): Promise<Upstream & { readonly closed: () => number }> {
  const requests: SeenRequest[] = [];
  const sockets: Socket[] = [];
  let closed = 0;
  const server = createHttpServer((_req, res) => res.end("not an upgrade"));
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
    });
    sockets.push(socket);
    socket.once("close", () => closed++);
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nServer: pod\r\n\r\n",
    );
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    sockets,
    closed: () => closed,
  };
}

/** A raw client connection that collects what it receives. */
async function rawClient(t: TestContext, port: number) {
  const socket = connect({ host: "127.0.0.1", port });
  await once(socket, "connect");
  t.after(() => socket.destroy());
  let received = "";
  let ended = false;
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
  });
  socket.on("end", () => {
    ended = true;
  });
  socket.on("error", () => {});
  return {
    socket,
    get received() {
      return received;
    },
    get ended() {
      return ended;
    },
    /** Resolves once `text` has arrived (bounded). */
    until: (text: string) => waitFor(() => received.includes(text), `"${text}" from the gateway`, 5000),
  };
}

describe("ingress gateway: WebSocket and other upgrades", { timeout: 30_000 }, () => {
  it("tunnels a WebSocket: handshake forwarded with its upgrade headers, 101 back, bytes both ways, early data held until 101", async (t) => {
    const upstream = await echoTunnelUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const client = await rawClient(t, gw.port);
    client.socket.write(`${HANDSHAKE}early`);
    await client.until("early");
    const [head] = client.received.split("\r\n\r\n");
    assert.match(head as string, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head as string, /\r\nUpgrade: websocket\r\n/);
    assert.match(head as string, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    assert.match(head as string, /\r\nserver: istio-envoy(\r\n|$)/);
    assert.doesNotMatch(head as string, /Server: pod|x-envoy-upstream-service-time/);
    const seen = upstream.requests[0];
    assert.equal(seen?.url, "/chat");
    assert.equal(seen?.headers.connection, "Upgrade");
    assert.equal(seen?.headers.upgrade, "websocket");
    assert.equal(seen?.headers["sec-websocket-key"], "dGhlIHNhbXBsZSBub25jZQ==");
    assert.equal(seen?.headers["x-forwarded-for"], "127.0.0.1");
    assert.match(String(seen?.headers["x-request-id"]), UUID);
    client.socket.write("ping");
    await client.until("earlyping");
    assert.equal(gw.cluster.stats.byClass["1xx"], 1);
  });

  it("closes the upstream when the client closes, and the client when the upstream closes", async (t) => {
    const upstream = await echoTunnelUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const first = await rawClient(t, gw.port);
    first.socket.write(HANDSHAKE);
    await first.until("101");
    first.socket.end();
    await waitFor(() => upstream.closed() === 1, "the upstream side to close", 5000);
    const second = await rawClient(t, gw.port);
    second.socket.write(HANDSHAKE);
    await second.until("101");
    upstream.sockets[1]?.end("bye");
    await second.until("bye");
    await waitFor(() => second.ended, "the client side to close", 5000);
  });

  it("keeps a tunnel open past the gateway's request timeout", async (t) => {
    const upstream = await echoTunnelUpstream(t);
    const gw = await startGateway(
      t,
      [upstream.address],
      {},
      { requestTimeoutMs: 1000, headersTimeoutMs: 1000 },
    );
    const client = await rawClient(t, gw.port);
    client.socket.write(HANDSHAKE);
    await client.until("101");
    await sleep(2200);
    client.socket.write("still here");
    await client.until("still here");
    assert.equal(client.ended, false);
  });

  it("retries a refused connect on the other host before the handshake, as for any request", async (t) => {
    const upstream = await echoTunnelUpstream(t);
    const dead = await closedPort();
    const gw = await startGateway(t, [dead, upstream.address]);
    nextPickIs(gw.cluster, dead);
    const client = await rawClient(t, gw.port);
    client.socket.write(HANDSHAKE);
    await client.until("101");
    assert.equal(gw.cluster.stats.rqRetry, 1);
  });

  it("passes a refused handshake down and closes: a 4xx with its body, a 2xx with headers only", async (t) => {
    const refusing = await httpUpstream(t, (_req, res) => {
      res.writeHead(426, { "content-type": "text/plain" });
      res.end("upgrade required");
    });
    const gw = await startGateway(t, [refusing.address]);
    const refused = await rawCall(gw.port, HANDSHAKE);
    assert.equal(refused.heads[0]?.status, 426);
    assert.equal(refused.body.toString(), "upgrade required");
    assert.match(refused.raw, /\r\nconnection: close\r\n/);
    const plain = await fixedUpstream(t, 200, "hello");
    const gw2 = await startGateway(t, [plain.address]);
    const ok = await rawCall(gw2.port, HANDSHAKE);
    assert.equal(ok.heads[0]?.status, 200);
    assert.equal(ok.body.length, 0);
  });

  it("lets go of everything when the client leaves before the 101: upstream connection, active counts", async (t) => {
    let upstreamClosed = false;
    const silent = await tcpUpstream(t, (socket) => {
      socket.resume(); // reads the handshake, never answers
      socket.once("close", () => {
        upstreamClosed = true;
      });
    });
    const gw = await startGateway(t, [silent.address]);
    const client = await rawClient(t, gw.port);
    client.socket.write(HANDSHAKE);
    await waitFor(() => silent.sockets.length === 1, "the handshake to reach the upstream", 5000);
    assert.equal(gw.cluster.activeRequests.get(silent.address), 1);
    client.socket.end();
    await waitFor(() => upstreamClosed, "the upstream connection to close", 5000);
    await waitFor(() => gw.gateway.stats.rqActive === 0, "the downstream request to end", 5000);
    assert.equal(gw.cluster.activeRequests.get(silent.address), 0);
  });

  it("answers an upgrade pipelined behind a request only after that request's response", async (t) => {
    const upstream = await echoTunnelUpstream(t);
    const slow = await httpUpstream(t, (_req, res) => {
      setTimeout(() => res.end("slow-body"), 300);
    });
    // Plain requests go to `slow`, the upgrade to the tunnel upstream (round robin from `slow`).
    const gw = await startGateway(t, [slow.address, upstream.address]);
    nextPickIs(gw.cluster, slow.address);
    const client = await rawClient(t, gw.port);
    client.socket.write(`GET /slow HTTP/1.1\r\nhost: x\r\n\r\n${HANDSHAKE}`);
    await client.until("101 Switching Protocols");
    assert.ok(
      client.received.indexOf("slow-body") < client.received.indexOf("101 Switching"),
      client.received,
    );
  });

  it("sends a refused handshake's 2xx down at once with an empty body, without waiting for the upstream's", async (t) => {
    const streaming = await tcpUpstream(t, (socket) => {
      socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n"); // and never ends
    });
    const gw = await startGateway(t, [streaming.address]);
    const client = await rawClient(t, gw.port);
    client.socket.write(HANDSHAKE);
    await waitFor(() => client.ended, "the gateway to close the connection", 5000);
    assert.match(client.received, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(client.received, /\r\ncontent-length: 0\r\n/);
    assert.doesNotMatch(client.received, /hello/);
  });

  it("refuses an upgrade to a protocol other than websocket with 403 and never calls the upstream", async (t) => {
    const upstream = await echoTunnelUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawCall(
      gw.port,
      "GET /chat HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: foo/2\r\n\r\n",
    );
    assert.equal(reply.heads[0]?.status, 403);
    assert.equal(upstream.requests.length, 0);
  });

  it("refuses CONNECT with 403 and closes, as Envoy without CONNECT in its upgrade configs", async (t) => {
    const upstream = await echoTunnelUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawCall(gw.port, "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n");
    assert.equal(reply.heads[0]?.status, 403);
    assert.match(reply.raw, /\r\nserver: istio-envoy\r\n/);
    assert.equal(upstream.requests.length, 0);
    assert.equal(gw.gateway.stats.byClass["4xx"], 1);
  });

  it("serves an h2c upgrade request as a plain request without its upgrade headers, keeping the connection", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const client = await rawClient(t, gw.port);
    client.socket.write(
      "GET /a HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
    );
    await client.until("}");
    const body = client.received.slice(client.received.indexOf("\r\n\r\n") + 4);
    const echo = JSON.parse(body);
    assert.equal(echo.url, "/a");
    assert.deepEqual(values(echo.rawHeaders, "upgrade"), []);
    assert.deepEqual(values(echo.rawHeaders, "http2-settings"), []);
    assert.match(client.received, /^HTTP\/1\.1 200 /);
    client.socket.write("GET /b HTTP/1.1\r\nhost: x\r\n\r\n");
    await client.until('"url":"/b"');
  });
});

describe("ingress gateway: client timeouts", { timeout: 30_000 }, () => {
  it("cuts a client that never finishes its head, but not an upload slower than that (Istio sets no request timeout)", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address], {}, { headersTimeoutMs: 600 });
    const stalled = await rawClient(t, gw.port);
    stalled.socket.write("GET /user HTTP/1.1\r\nhost: x\r\n");
    const slow = await rawClient(t, gw.port);
    slow.socket.write("POST /user HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\na");
    await sleep(900);
    slow.socket.write("b");
    await sleep(900);
    slow.socket.write("c");
    await slow.until("}");
    assert.match(slow.received, /^HTTP\/1\.1 200 /);
    assert.equal(JSON.parse(slow.received.slice(slow.received.indexOf("\r\n\r\n") + 4)).bytes, 3);
    await waitFor(() => stalled.ended, "the stalled client to be cut off", 5000);
    assert.match(stalled.received, /^HTTP\/1\.1 408 /);
  });
});

describe("ingress gateway: its own request reader and Node's", { timeout: 30_000 }, () => {
  /** The bytes the gateway sends back for `head`, with the values that change from call to call blanked. */
  async function answer(port: number, head: string): Promise<string> {
    const reply = await rawExchange(port, Buffer.from(`${head}\r\n\r\n`, "latin1"), 300);
    return reply.text
      .replace(/\r\n(Date|x-envoy-upstream-service-time): [^\r]*/gi, "\r\n$1: <varies>")
      .replace(/\r\nset-cookie: [^\r]*/gi, "\r\nset-cookie: <varies>");
  }

  const simple = "GET /user HTTP/1.1\r\nhost: x";
  // obs-text in a header value is valid HTTP, and a head the gateway's own reader leaves to Node's.
  const forNode = `${simple}\r\nx-note: caf\xe9`;

  const cases: [string, (t: TestContext) => Promise<string[]>][] = [
    ["a response with a Content-Length", async (t) => [(await fixedUpstream(t, 200, "hello")).address]],
    [
      "a response without a length, re-chunked",
      async (t) => [
        (
          await httpUpstream(t, (_req, res) => {
            res.write("part one, ");
            setTimeout(() => res.end("part two"), 10);
          })
        ).address,
      ],
    ],
    ["a 204", async (t) => [(await fixedUpstream(t, 204, "")).address]],
    ["the gateway's own 503 when no endpoint is there", async () => []],
  ];
  for (const [what, upstreams] of cases) {
    it(`answers a plain GET with the same bytes whichever reads its head: ${what}`, async (t) => {
      const gw = await startGateway(t, await upstreams(t));
      const node = await answer(gw.port, forNode);
      assert.match(node, /^HTTP\/1\.1 \d{3} /);
      assert.equal(await answer(gw.port, simple), node);
    });
  }

  it("answers a response that announces trailers beside its Content-Length (trailers are not forwarded), whichever reads the head", async (t) => {
    const upstream = await tcpUpstream(t, (socket) =>
      socket.on("data", () =>
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntrailer: x-checksum\r\n\r\nok"),
      ),
    );
    const gw = await startGateway(t, [upstream.address]);
    const node = await answer(gw.port, forNode);
    assert.match(node, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(node, /trailer/i);
    assert.equal(await answer(gw.port, simple), node);
  });

  it("serves requests pipelined on one connection in order when Node's parser takes over halfway", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, [upstream.address]);
    const reply = await rawExchange(
      gw.port,
      "GET /user?n=1 HTTP/1.1\r\nhost: x\r\n\r\n" +
        "POST /user?n=2 HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello" +
        "GET /user?n=3 HTTP/1.1\r\nhost: x\r\n\r\n",
      500,
    );
    const seen = [...reply.text.matchAll(/"method":"(\w+)","url":"([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(seen, ["GET /user?n=1", "POST /user?n=2", "GET /user?n=3"]);
    assert.equal(upstream.requests[1]?.body.toString(), "hello");
  });
});
