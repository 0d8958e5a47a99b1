/**
 * The gateway's HTTP/1.1 protocol edges, byte for byte over raw sockets, against what Envoy does:
 * heads Node's parser would answer itself, bytes after a request that closes its connection, transfer
 * codings, request targets that are not origin-form, upgrades that carry a body and response heads
 * that cannot be written. Each case names the Envoy source it reproduces.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { Cluster } from "../../src/envoy/cluster.js";
import type { ClusterConfig } from "../../src/envoy/cluster-config.js";
import { type GatewaySnapshot, IngressGateway } from "../../src/envoy/gateway.js";
import { seededRandom } from "../../src/lb/random-source.js";
import {
  GATEWAY_AND_SERVICE_YAML,
  gatewayConfigFromYaml,
  hostEntries,
  type TestGatewayConfig,
  virtualServiceYaml,
} from "../helpers/gateway-config.js";
import { waitFor } from "../helpers/loopback.js";
import { rawExchange, rawRequest } from "../helpers/raw-http.js";

const CLUSTER = "outbound|80||session-svc.default.svc.cluster.local";

/** The walkthrough's rule: a ring hash on the `session-route` cookie, generated with a ttl. */
const COOKIE_RULE = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: session}
spec:
  host: session-svc
  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: session-route, path: /, ttl: 1800s}}}}
`;

function configOf(withCookieRule: boolean): TestGatewayConfig {
  const yaml = `${GATEWAY_AND_SERVICE_YAML}${withCookieRule ? COOKIE_RULE : ""}${virtualServiceYaml("[{destination: {host: session-svc}}]")}`;
  return gatewayConfigFromYaml(yaml, "gateway-protocol.test.yaml");
}

/**
 * The same configuration with the cookie name of every route's hash policy replaced, as a push could
 * carry it if nothing had checked the name on the way.
 */
function withCookieName(config: TestGatewayConfig, name: string): TestGatewayConfig {
  return {
    ...config,
    routes: {
      ...config.routes,
      virtualHosts: config.routes.virtualHosts.map((host) => ({
        ...host,
        routes: host.routes.map((route) => ({
          ...route,
          hashPolicies: route.hashPolicies.map((policy) =>
            policy.kind === "cookie" ? { ...policy, name } : policy,
          ),
        })),
      })),
    },
  };
}

async function startGateway(t: TestContext, address: string, config = configOf(false)) {
  const clusterConfig = config.clusters.get(CLUSTER) as ClusterConfig;
  const endpoints = hostEntries([address]);
  const snapshot: GatewaySnapshot = {
    routes: config.routes,
    clusters: new Map([[CLUSTER, new Cluster(clusterConfig, endpoints, seededRandom(11))]]),
  };
  const gateway = new IngressGateway({ port: 0, snapshot: () => snapshot, random: seededRandom(5) });
  await gateway.listen();
  t.after(() => gateway.close());
  return gateway;
}

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/** A node:http upstream answering every request with its method and URL (`<method> <url>`). */
async function echoUpstream(t: TestContext): Promise<{ address: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    let body = "";
    req.setEncoding("latin1");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      res.setHeader("content-type", "text/plain");
      res.end(`${req.method} ${req.url}`);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Every response head (status and raw head text) in what a connection received. */
function responses(text: string): { status: number; head: string }[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n((?:[^\r]+\r\n)*)\r\n/g)].map((m) => ({
    status: Number(m[1]),
    head: m[2] as string,
  }));
}

/** Sends `payload` on a fresh connection and keeps what comes back until the gateway closes it. */
async function exchange(port: number, payload: string): Promise<{ text: string; closed: boolean }> {
  const reply = await rawExchange(port, Buffer.from(payload, "latin1"), 2000);
  return { text: reply.text, closed: reply.ms < 2000 };
}

describe("ingress gateway: heads Node's parser would answer itself", { timeout: 30_000 }, () => {
  // Envoy's connection manager answers an HTTP/1.1 request without Host 400 (missing_host_header,
  // conn_manager_impl.cc decodeHeaders), and any 400 closes an HTTP/1 connection (onLocalReply):
  // nothing pipelined after it is read.
  it("answers a head without Host 400 with Connection: close and runs nothing pipelined behind it", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "GET /user HTTP/1.1\r\n\r\nDELETE /smuggled HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n",
    );
    const heads = responses(reply.text);
    assert.deepEqual(
      heads.map((r) => r.status),
      [400],
    );
    assert.match(heads[0]?.head ?? "", /^server: istio-envoy\r$/im);
    assert.match(heads[0]?.head ?? "", /^connection: close\r$/im);
    assert.ok(reply.closed, "the connection closes after the 400");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(upstream.seen, []);
  });

  it("closes after the 400 for a path it cannot normalize, whichever parser read the head", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    for (const head of [
      "GET /user%00 HTTP/1.1\r\nhost: x",
      "GET /user%00 HTTP/1.1\r\nhost: x\r\nx-note: caf\xe9",
    ]) {
      const reply = await exchange(gw.port, `${head}\r\n\r\nGET /user HTTP/1.1\r\nhost: x\r\n\r\n`);
      const heads = responses(reply.text);
      assert.deepEqual(
        heads.map((r) => r.status),
        [400],
        head,
      );
      assert.match(heads[0]?.head ?? "", /^connection: close\r$/im);
      assert.ok(reply.closed);
    }
    assert.deepEqual(upstream.seen, []);
  });

  it("answers a WebSocket handshake without Host 400 instead of routing it", async (t) => {
    const upstream = await tunnelUpstream(t, 0);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "GET /chat HTTP/1.1\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n" +
        "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert.deepEqual(
      responses(reply.text).map((r) => r.status),
      [400],
    );
    assert.deepEqual(upstream.received, []);
  });
});

describe("ingress gateway: bytes after a request that closes its connection", { timeout: 30_000 }, () => {
  // Envoy's codec pauses after each request (codec_impl.cc onMessageCompleteBase) and the connection
  // manager closes once the answer to a `Connection: close` request is out (saw_connection_close_):
  // the request is answered and whatever follows it is never read.
  it("answers a request read by Node's parser, then closes without reading what follows", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "POST /user HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello" +
        "DELETE /smuggled HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n",
    );
    const heads = responses(reply.text);
    assert.deepEqual(
      heads.map((r) => r.status),
      [200],
    );
    assert.match(reply.text, /\r\n\r\nPOST \/user$/);
    assert.match(heads[0]?.head ?? "", /^connection: close\r$/im);
    assert.ok(reply.closed);
    assert.deepEqual(
      upstream.seen.map((s) => `${s.method} ${s.url} ${s.body}`),
      ["POST /user hello"],
    );
  });

  it("answers both when a connection the gateway reads itself sends a close request with bytes behind it", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "GET /user?n=1 HTTP/1.1\r\nhost: x\r\n\r\n" +
        "GET /user?n=2 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n" +
        "NOT HTTP AT ALL\r\n\r\n",
    );
    assert.deepEqual(
      responses(reply.text).map((r) => r.status),
      [200, 200],
    );
    assert.match(reply.text, /GET \/user\?n=1HTTP\/1\.1 200 OK\r\n/);
    assert.match(reply.text, /\r\n\r\nGET \/user\?n=2$/);
    assert.ok(reply.closed);
    assert.equal(upstream.seen.length, 2);
  });

  it("answers an HTTP/1.0 request without keep-alive, then closes without reading what follows", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "GET /user HTTP/1.0\r\nhost: x\r\n\r\nGET /smuggled HTTP/1.0\r\nhost: x\r\n\r\n",
    );
    assert.deepEqual(
      responses(reply.text).map((r) => r.status),
      [200],
    );
    assert.match(reply.text, /\r\n\r\nGET \/user$/);
    assert.deepEqual(
      upstream.seen.map((s) => s.url),
      ["/user"],
    );
  });

  it("answers a keep-alive request read by Node's parser before the 400 for the garbage after it", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "POST /user HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nokNOT HTTP AT ALL\r\n\r\n",
    );
    assert.deepEqual(
      responses(reply.text).map((r) => r.status),
      [200, 400],
    );
    assert.match(reply.text, /\r\n\r\nPOST \/userHTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(reply.closed);
  });
});

describe("ingress gateway: transfer codings other than chunked", { timeout: 30_000 }, () => {
  // codec_impl.cc onHeadersCompleteImpl: a Transfer-Encoding that is not exactly `chunked` gets 501
  // (http1.invalid_transfer_encoding) and the connection closes; see IdentityAndChunkedBody in
  // codec_impl_test.cc.
  for (const coding of ["gzip, chunked", "chunked, gzip", "identity", "gzip"]) {
    it(`answers Transfer-Encoding: ${coding} 501 Not Implemented and never calls the upstream`, async (t) => {
      const upstream = await echoUpstream(t);
      const gw = await startGateway(t, upstream.address);
      const reply = await exchange(
        gw.port,
        `POST /user HTTP/1.1\r\nhost: x\r\ntransfer-encoding: ${coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n` +
          "GET /user HTTP/1.1\r\nhost: x\r\n\r\n",
      );
      const heads = responses(reply.text);
      assert.deepEqual(
        heads.map((r) => r.status),
        [501],
      );
      assert.match(reply.text, /^HTTP\/1\.1 501 Not Implemented\r\n/);
      assert.match(heads[0]?.head ?? "", /^connection: close\r$/im);
      assert.match(reply.text, /\r\n\r\nNot Implemented$/);
      assert.ok(reply.closed);
      assert.deepEqual(upstream.seen, []);
    });
  }

  it("still forwards a chunked body, whatever the case of `chunked`", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "POST /user HTTP/1.1\r\nhost: x\r\ntransfer-encoding: Chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert.match(reply.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(upstream.seen[0]?.body, "hello");
  });
});

describe("ingress gateway: request targets that are not origin-form", { timeout: 30_000 }, () => {
  // codec_impl.cc handlePath: `*` is kept as the path for OPTIONS only, and the connection manager
  // answers a path that does not start with `/` 404 (absolute_path_rejected); any other target must
  // parse as an absolute URL (else 400 http1.invalid_url) with an http or https scheme (else 400
  // http1.invalid_scheme), and then gives Host and path.
  it("answers OPTIONS * 404 and keeps the connection", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\nGET /user HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    const heads = responses(reply.text);
    assert.deepEqual(
      heads.map((r) => r.status),
      [404, 200],
    );
    assert.match(heads[0]?.head ?? "", /^content-length: 0\r$/im);
    assert.deepEqual(
      upstream.seen.map((s) => `${s.method} ${s.url}`),
      ["GET /user"],
    );
  });

  for (const [target, why] of [
    ["*", "asterisk-form outside OPTIONS"],
    ["ftp://example.com/user", "a scheme other than http(s)"],
    ["http://a@b@example.com/user", "a second @ in the authority"],
    ["http://example.com:/user", "an empty port"],
    ["http://example.com:99999/user", "a port out of range"],
  ] as const) {
    it(`answers GET ${target} 400 Bad Request and closes (${why})`, async (t) => {
      const upstream = await echoUpstream(t);
      const gw = await startGateway(t, upstream.address);
      const reply = await exchange(
        gw.port,
        `GET ${target} HTTP/1.1\r\nhost: x\r\n\r\nGET /user HTTP/1.1\r\nhost: x\r\n\r\n`,
      );
      const heads = responses(reply.text);
      assert.deepEqual(
        heads.map((r) => r.status),
        [400],
      );
      assert.match(reply.text, /\r\n\r\nBad Request$/);
      assert.match(heads[0]?.head ?? "", /^connection: close\r$/im);
      assert.ok(reply.closed);
      assert.deepEqual(upstream.seen, []);
    });
  }

  it("takes the host of an absolute URL with userinfo as Host, without the userinfo", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "GET http://user:secret@example.com/a/../user HTTP/1.1\r\nhost: other\r\nconnection: close\r\n\r\n",
    );
    assert.match(reply.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(upstream.seen[0]?.url, "/user");
    assert.equal(upstream.seen[0]?.headers.host, "example.com");
  });

  it("answers an absolute URL whose path starts with a query 404, as the path is not relative", async (t) => {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address);
    const reply = await exchange(
      gw.port,
      "GET http://example.com?user HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert.match(reply.text, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.deepEqual(upstream.seen, []);
  });
});

// --- upgrades ---------------------------------------------------------------------------------------------

const HANDSHAKE =
  "GET /chat HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n" +
  "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n";

/** An upstream answering WebSocket handshakes 101 after `delayMs`, recording every byte it got. */
async function tunnelUpstream(t: TestContext, delayMs: number) {
  const received: string[] = [];
  const sockets: Socket[] = [];
  const server = createHttpServer((_req, res) => res.end("not an upgrade"));
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    sockets.push(socket);
    socket.on("error", () => {});
    let got = `${req.method} ${req.url}\r\n${req.rawHeaders.join("|")}\r\n\r\n${head.toString("latin1")}`;
    received.push(got);
    socket.on("data", (chunk: Buffer) => {
      got += chunk.toString("latin1");
      received[received.length - 1] = got;
    });
    setTimeout(
      () =>
        socket.write(
          "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
            "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        ),
      delayMs,
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

describe("ingress gateway: upgrade requests that carry a body", { timeout: 30_000 }, () => {
  // Envoy does not refuse these: its codec enters upgrade mode at the head and treats everything after
  // it as tunnel payload (codec_impl.cc onHeadersCompleteImpl, NoBodyData), keeps Content-Length and
  // drops Transfer-Encoding on the way up (websocket_integration_test.cc
  // BidirectionalUpgradeWithContentLength / BidirectionalUpgradeWithTransferEncoding), and holds the
  // payload until the 101 (check_switch_protocol_websocket_handshake).
  it("forwards the head with its Content-Length and sends the body bytes only after the 101", async (t) => {
    const upstream = await tunnelUpstream(t, 150);
    const gw = await startGateway(t, upstream.address);
    const client = connect({ host: "127.0.0.1", port: gw.port });
    t.after(() => client.destroy());
    let received = "";
    client.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    client.write(`${HANDSHAKE}content-length: 5\r\n\r\nhello`);
    await waitFor(() => upstream.received.length === 1, "the handshake upstream", 3000);
    assert.match(upstream.received[0] as string, /\|content-length\|5(\||\r\n)/i);
    assert.match(upstream.received[0] as string, /\r\n\r\n$/, "no body before the 101");
    await waitFor(() => received.includes("101 Switching Protocols"), "the 101", 3000);
    await waitFor(() => (upstream.received[0] as string).endsWith("hello"), "the body in the tunnel", 3000);
  });

  it("drops Transfer-Encoding from the head and passes the chunked bytes on untouched after the 101", async (t) => {
    const upstream = await tunnelUpstream(t, 0);
    const gw = await startGateway(t, upstream.address);
    const client = connect({ host: "127.0.0.1", port: gw.port });
    t.after(() => client.destroy());
    client.on("data", () => {});
    client.write(`${HANDSHAKE}transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    await waitFor(
      () => upstream.received[0]?.endsWith("5\r\nhello\r\n0\r\n\r\n") ?? false,
      "the chunked bytes in the tunnel",
      3000,
    );
    assert.doesNotMatch(upstream.received[0] as string, /transfer-encoding/i);
  });
});

describe("ingress gateway: a response head that cannot be written", { timeout: 30_000 }, () => {
  // A header value with CR or LF would split the response. Envoy answers a response whose headers it
  // cannot send 502 (filter_manager.cc: headers failing the check after the filter chain; router.cc:
  // an upstream protocol error, upstream_reset_before_response_started{protocol_error}).
  const INJECTION = "session-route\r\nX-Injected: 1";

  async function injectingGateway(t: TestContext) {
    const upstream = await echoUpstream(t);
    const gw = await startGateway(t, upstream.address, withCookieName(configOf(true), INJECTION));
    return { upstream, gw };
  }

  function assertRefused(text: string): void {
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.doesNotMatch(text, /X-Injected/i);
    assert.match(text, /reset reason: protocol error$/);
  }

  it("answers 502 to a plain GET the gateway reads itself, and goes on serving", async (t) => {
    const { gw } = await injectingGateway(t);
    for (let i = 0; i < 2; i++)
      assertRefused((await rawRequest(gw.port, "GET /user HTTP/1.1\r\nhost: x\r\n\r\n")).text);
    assert.equal(gw.stats.byClass["5xx"], 2);
    assert.equal(gw.stats.byClass["2xx"], 0);
  });

  it("answers 502 to a request Node's parser reads, and goes on serving", async (t) => {
    const { gw } = await injectingGateway(t);
    for (let i = 0; i < 2; i++) {
      const reply = await rawRequest(
        gw.port,
        "POST /user HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nok",
      );
      assertRefused(reply.text);
    }
  });

  it("answers 502 to a WebSocket handshake instead of writing its 101, and closes", async (t) => {
    const upstream = await tunnelUpstream(t, 0);
    const gw = await startGateway(t, upstream.address, withCookieName(configOf(true), INJECTION));
    const reply = await exchange(gw.port, `${HANDSHAKE}\r\n`);
    assertRefused(reply.text);
    assert.ok(reply.closed);
  });
});
