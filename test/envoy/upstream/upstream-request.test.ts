import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { ConnectionPool } from "../../../src/envoy/upstream/connection-pool.js";
import type { ResponseHead } from "../../../src/envoy/upstream/response-parser.js";
import {
  type UpstreamFailure,
  type UpstreamHandler,
  UpstreamRequest,
  type UpstreamRequestHead,
} from "../../../src/envoy/upstream/upstream-request.js";
import { closedPort, sleep, type TcpServer, tcpServer, waitFor, within } from "../../helpers/loopback.js";

// --- servers, all bounded ----------------------------------------------------------------------------

/** A raw server that answers every request head it receives with `answer` (requests without a body). */
function answering(t: TestContext, answer: string | Buffer): Promise<TcpServer> {
  return tcpServer(t, (socket) => {
    let buffered = "";
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      for (let end = buffered.indexOf("\r\n\r\n"); end >= 0; end = buffered.indexOf("\r\n\r\n")) {
        buffered = buffered.slice(end + 4);
        socket.write(answer);
      }
    });
  });
}

interface HttpServer {
  readonly address: string;
  /** Connections accepted so far. */
  connections: number;
}

/** A node:http server on a free loopback port, stopped in `t.after`. */
async function httpServer(
  t: TestContext,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HttpServer> {
  const server = createHttpServer(handler);
  const state = { address: "", connections: 0 };
  server.on("connection", () => state.connections++);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  state.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

function newPool(t: TestContext): ConnectionPool {
  const pool = new ConnectionPool();
  t.after(() => pool.close());
  return pool;
}

// --- one request, recorded ---------------------------------------------------------------------------

interface Outcome {
  head: ResponseHead | undefined;
  body: Buffer;
  ended: boolean;
  failure: UpstreamFailure | undefined;
  /** Handler calls in order ("head", "data", "end", "error"), each recorded. */
  calls: string[];
}

interface Sent {
  readonly request: UpstreamRequest;
  readonly outcome: Outcome;
  /** Settles at the handler's end or error (bounded). */
  readonly settled: Promise<Outcome>;
}

type Hooks = Partial<Record<keyof UpstreamHandler, (request: UpstreamRequest) => void>>;

function send(
  pool: ConnectionPool,
  address: string,
  head: Partial<UpstreamRequestHead> = {},
  hooks: Hooks = {},
): Sent {
  const chunks: Buffer[] = [];
  const outcome: Outcome = {
    head: undefined,
    get body() {
      return Buffer.concat(chunks);
    },
    ended: false,
    failure: undefined,
    calls: [],
  };
  let settle: (o: Outcome) => void = () => {};
  const settled = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const request: UpstreamRequest = new UpstreamRequest(
    pool,
    address,
    {
      method: head.method ?? "GET",
      path: head.path ?? "/",
      headers: head.headers ?? ["host", "upstream.test"],
      framing: head.framing ?? "none",
    },
    {
      head: (h) => {
        outcome.calls.push("head");
        outcome.head = h;
        hooks.head?.(request);
      },
      // The gateway test "forwards the response head at once" covers this end to end.
      readDone: () => {},
      data: (chunk) => {
        outcome.calls.push("data");
        chunks.push(Buffer.from(chunk));
        hooks.data?.(request);
      },
      end: () => {
        outcome.calls.push("end");
        outcome.ended = true;
        hooks.end?.(request);
        settle(outcome);
      },
      error: (failure) => {
        outcome.calls.push("error");
        outcome.failure = failure;
        hooks.error?.(request);
        settle(outcome);
      },
    },
  );
  return {
    request,
    outcome,
    // Lazy, so a request a test never waits for (aborted ones) leaves no timer behind.
    get settled() {
      return within(settled, 5000, "the upstream request to settle");
    },
  };
}

/** Writes the body in pieces, waiting for drain whenever write() says the buffer is full, then ends. */
async function writeBody(request: UpstreamRequest, body: Buffer, piece: number): Promise<void> {
  for (let at = 0; at < body.length; at += piece) {
    if (!request.write(body.subarray(at, at + piece))) {
      await within(new Promise<void>((resolve) => request.onDrain(resolve)), 5000, "drain");
    }
  }
  request.end();
}

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A node:http server that answers with what it received: method, url, headers and the body's digest. */
function echoServer(t: TestContext): Promise<HttpServer> {
  return httpServer(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          bytes: body.length,
          sha: sha(body),
        }),
      );
    });
  });
}

// --- tests -------------------------------------------------------------------------------------------

describe("upstream request: exchange and connection reuse", { timeout: 30_000 }, () => {
  it("sends method, path and headers as given and reuses the connection for the next requests", async (t) => {
    const server = await echoServer(t);
    const pool = newPool(t);
    const reused: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const sent = send(pool, server.address, {
        path: `/path/${i}?q=1`,
        headers: ["host", "upstream.test", "X-Test", `value ${i}`],
      });
      reused.push(sent.request.reused);
      const outcome = await sent.settled;
      assert.equal(outcome.head?.status, 200);
      assert.deepEqual(outcome.calls.at(-1), "end");
      const echo = JSON.parse(outcome.body.toString());
      assert.equal(echo.method, "GET");
      assert.equal(echo.url, `/path/${i}?q=1`);
      assert.equal(echo.headers["x-test"], `value ${i}`);
      assert.equal(echo.headers.host, "upstream.test");
      assert.equal(echo.headers["transfer-encoding"], undefined);
      assert.equal(echo.bytes, 0);
      assert.equal(pool.idleCount(server.address), 1, "back in the pool after the response ended");
    }
    assert.deepEqual(reused, [false, true, true]);
    assert.equal(server.connections, 1);
  });

  it("writes a request without a body as one complete head in a single write", async (t) => {
    const firstChunks: string[] = [];
    const server = await tcpServer(t, (socket) => {
      socket.once("data", (chunk: Buffer) => {
        firstChunks.push(chunk.toString("latin1"));
        socket.write("HTTP/1.1 204 No Content\r\n\r\n");
      });
    });
    const pool = newPool(t);
    await send(pool, server.address, { method: "DELETE", path: "/x", headers: ["host", "h", "a", "b"] })
      .settled;
    assert.deepEqual(firstChunks, ["DELETE /x HTTP/1.1\r\nhost: h\r\na: b\r\n\r\n"]);
  });

  it("does not reuse a connection whose upstream advertised Keep-Alive: timeout=1", async (t) => {
    const server = await answering(
      t,
      "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1, max=100\r\ncontent-length: 2\r\n\r\nok",
    );
    const pool = newPool(t);
    const first = send(pool, server.address);
    assert.equal((await first.settled).head?.keepAliveTimeoutMs, 1000);
    const second = send(pool, server.address);
    assert.equal(second.request.reused, false);
    await second.settled;
    assert.equal(server.sockets.length, 2);
  });

  it("does not reuse a connection after a response that says connection: close, or an HTTP/1.0 one", async (t) => {
    for (const answer of [
      "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
      "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
    ]) {
      const server = await answering(t, answer);
      const pool = newPool(t);
      const outcome = await send(pool, server.address).settled;
      assert.equal(outcome.body.toString(), "ok");
      assert.equal(pool.idleCount(server.address), 0);
      await waitFor(() => server.sockets[0]?.readableEnded === true, "the server to see the close");
    }
  });

  it("reuses a connection after an HTTP/1.0 response that says keep-alive", async (t) => {
    const server = await answering(
      t,
      "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok",
    );
    const pool = newPool(t);
    await send(pool, server.address).settled;
    const second = send(pool, server.address);
    assert.equal(second.request.reused, true);
    assert.equal((await second.settled).body.toString(), "ok");
  });

  it("ends a response to HEAD at its head whatever its Content-Length, and reuses the connection", async (t) => {
    const server = await httpServer(t, (req, res) => {
      res.setHeader("content-length", "1234");
      res.end(req.method === "HEAD" ? undefined : "x".repeat(1234));
    });
    const pool = newPool(t);
    const head = await send(pool, server.address, { method: "HEAD" }).settled;
    assert.deepEqual(head.calls, ["head", "end"]);
    assert.equal(head.head?.headers.includes("1234"), true);
    const next = send(pool, server.address, { method: "GET" });
    assert.equal(next.request.reused, true);
    assert.equal((await next.settled).head?.status, 200);
    assert.equal(server.connections, 1);
  });

  it("skips an interim 100 Continue and hands over the final response", async (t) => {
    const server = await answering(
      t,
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\ndone",
    );
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.equal(outcome.head?.status, 201);
    assert.equal(outcome.body.toString(), "done");
  });

  it("hands over a close-delimited body and ends it when the upstream closes, without pooling", async (t) => {
    const server = await tcpServer(t, (socket) => {
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil ");
        setTimeout(() => socket.end("the close"), 20);
      });
    });
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.equal(outcome.failure, undefined);
    assert.equal(outcome.body.toString(), "until the close");
    assert.equal(outcome.calls.at(-1), "end");
    assert.equal(pool.idleCount(server.address), 0);
  });

  it("streams a large chunked response body intact", async (t) => {
    const payload = randomBytes(3 * 1024 * 1024);
    const server = await httpServer(t, async (_req, res) => {
      for (let at = 0; at < payload.length; at += 100_000) {
        if (!res.write(payload.subarray(at, at + 100_000))) await once(res, "drain");
      }
      res.end();
    });
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.equal(outcome.failure, undefined);
    assert.equal(outcome.head?.headers.join(",").toLowerCase().includes("transfer-encoding,chunked"), true);
    assert.equal(outcome.body.length, payload.length);
    assert.equal(sha(outcome.body), sha(payload));
  });
});

describe("upstream request: request bodies", { timeout: 30_000 }, () => {
  it("sends a Content-Length body intact, written in pieces with backpressure", async (t) => {
    const server = await echoServer(t);
    const pool = newPool(t);
    const body = randomBytes(700_000);
    const sent = send(pool, server.address, {
      method: "POST",
      headers: ["host", "h", "content-length", String(body.length)],
      framing: "content-length",
    });
    await writeBody(sent.request, body, 64 * 1024);
    const echo = JSON.parse((await sent.settled).body.toString());
    assert.equal(echo.headers["content-length"], String(body.length));
    assert.equal(echo.headers["transfer-encoding"], undefined);
    assert.equal(echo.bytes, body.length);
    assert.equal(echo.sha, sha(body));
    assert.equal(pool.idleCount(server.address), 1);
  });

  it("re-encodes a chunked body intact, ignoring empty writes", async (t) => {
    const server = await echoServer(t);
    const pool = newPool(t);
    const body = randomBytes(300_001);
    const sent = send(pool, server.address, { method: "PUT", headers: ["host", "h"], framing: "chunked" });
    assert.equal(sent.request.write(Buffer.alloc(0)), true, "an empty write is a no-op");
    await writeBody(sent.request, body, 10_007);
    const echo = JSON.parse((await sent.settled).body.toString());
    assert.equal(echo.method, "PUT");
    assert.equal(echo.headers["transfer-encoding"], "chunked");
    assert.equal(echo.headers["content-length"], undefined);
    assert.equal(echo.bytes, body.length);
    assert.equal(echo.sha, sha(body));
  });

  it("frames chunked writes on the wire as size CRLF data CRLF, ended by 0 CRLF CRLF", async (t) => {
    let wire = "";
    const server = await tcpServer(t, (socket) => {
      socket.on("data", (chunk: Buffer) => {
        wire += chunk.toString("latin1");
        if (wire.endsWith("0\r\n\r\n")) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
      });
    });
    const pool = newPool(t);
    const sent = send(pool, server.address, {
      method: "POST",
      path: "/c",
      headers: ["host", "h"],
      framing: "chunked",
    });
    sent.request.write(Buffer.from("hello"));
    sent.request.write(Buffer.alloc(0));
    sent.request.write(Buffer.from("x".repeat(26)));
    sent.request.end();
    sent.request.end(); // a second end is a no-op
    await sent.settled;
    assert.equal(
      wire,
      `POST /c HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1a\r\n${"x".repeat(26)}\r\n0\r\n\r\n`,
    );
  });

  it("sends the head of a request whose body is empty when the body ends", async (t) => {
    const server = await echoServer(t);
    const pool = newPool(t);
    const length = send(pool, server.address, {
      method: "POST",
      headers: ["host", "h", "content-length", "0"],
      framing: "content-length",
    });
    length.request.end();
    assert.equal(JSON.parse((await length.settled).body.toString()).bytes, 0);
    const chunked = send(pool, server.address, { method: "POST", framing: "chunked" });
    chunked.request.end();
    assert.equal(JSON.parse((await chunked.settled).body.toString()).headers["transfer-encoding"], "chunked");
  });

  it("does not return the connection to the pool when the response ends before the request body", async (t) => {
    const server = await tcpServer(t, (socket) => {
      socket.once("data", () =>
        socket.write("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\nno"),
      );
    });
    const pool = newPool(t);
    const sent = send(pool, server.address, {
      method: "POST",
      headers: ["host", "h", "content-length", "10"],
      framing: "content-length",
    });
    sent.request.write(Buffer.from("12345"));
    const outcome = await sent.settled;
    assert.equal(outcome.head?.status, 413);
    assert.equal(outcome.body.toString(), "no");
    assert.equal(pool.idleCount(server.address), 0);
    await waitFor(
      () => server.sockets[0]?.readableEnded === true || server.sockets[0]?.destroyed === true,
      "close",
    );
    // The rest of the body after the end goes nowhere and throws nothing.
    assert.equal(sent.request.write(Buffer.from("67890")), true);
    sent.request.end();
    assert.deepEqual(outcome.calls, ["head", "data", "end"]);
  });

  it("returns the connection to the pool when the response ends after the whole request body", async (t) => {
    const server = await echoServer(t);
    const pool = newPool(t);
    const sent = send(pool, server.address, {
      method: "POST",
      headers: ["host", "h", "content-length", "3"],
      framing: "content-length",
    });
    sent.request.write(Buffer.from("abc"));
    sent.request.end();
    await sent.settled;
    assert.equal(pool.idleCount(server.address), 1);
  });
});

describe("upstream request: failures", { timeout: 30_000 }, () => {
  it("classifies a refused connect as a connect failure with the socket's error code", async (t) => {
    const address = await closedPort();
    const pool = newPool(t);
    const sent = send(pool, address);
    const outcome = await sent.settled;
    assert.deepEqual(outcome.calls, ["error"]);
    assert.deepEqual(outcome.failure, { kind: "connect-failure", detail: "ECONNREFUSED" });
    assert.equal(sent.request.responseStarted, false);
  });

  it("classifies a reset after the connection was accepted as a reset", async (t) => {
    const server = await tcpServer(t, (socket) => socket.once("data", () => socket.resetAndDestroy()));
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.deepEqual(outcome.failure, { kind: "reset", detail: "ECONNRESET" });
    assert.deepEqual(outcome.calls, ["error"]);
    assert.equal(pool.idleCount(server.address), 0);
  });

  it("classifies a close without an answer as a reset by connection termination", async (t) => {
    const server = await tcpServer(t, (socket) => socket.once("data", () => socket.end()));
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.deepEqual(outcome.failure, { kind: "reset", detail: "connection termination" });
  });

  it("reports a response cut short after its head as an error after head, with the response started", async (t) => {
    const server = await tcpServer(t, (socket) => {
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b");
        setTimeout(() => socket.resetAndDestroy(), 20);
      });
    });
    const pool = newPool(t);
    const sent = send(pool, server.address);
    const outcome = await sent.settled;
    assert.deepEqual(outcome.calls, ["head", "data", "error"]);
    assert.equal(outcome.failure?.kind, "reset");
    assert.equal(outcome.body.toString(), "only ten b");
    assert.equal(sent.request.responseStarted, true);
  });

  it("reports a reset during a close-delimited body as an error, not as the body's end", async (t) => {
    const server = await tcpServer(t, (socket) => {
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\ntruncated");
        setTimeout(() => socket.resetAndDestroy(), 20);
      });
    });
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.deepEqual(outcome.calls, ["head", "data", "error"]);
    assert.deepEqual(outcome.failure, { kind: "reset", detail: "ECONNRESET" });
  });

  it("classifies a malformed response as a protocol error and closes its connection", async (t) => {
    const server = await answering(t, "HTTP/1.1 200 OK\r\nbad header line\r\n\r\n");
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.deepEqual(outcome.failure, { kind: "protocol-error", detail: "malformed header line" });
    assert.deepEqual(outcome.calls, ["error"]);
    assert.equal(pool.idleCount(server.address), 0);
    await waitFor(() => server.sockets[0]?.readableEnded === true, "the server to see the close");
  });

  it("delivers a response followed by stray bytes but never pools its connection", async (t) => {
    const server = await answering(
      t,
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n",
    );
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.deepEqual(outcome.calls, ["head", "data", "end"]);
    assert.equal(outcome.failure, undefined);
    assert.equal(pool.idleCount(server.address), 0);
    const next = send(pool, server.address);
    assert.equal(next.request.reused, false);
    await next.settled;
  });

  it("refuses a 101 Switching Protocols answer as a protocol error", async (t) => {
    const server = await answering(t, "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n");
    const pool = newPool(t);
    const outcome = await send(pool, server.address).settled;
    assert.equal(outcome.failure?.kind, "protocol-error");
  });
});

describe("upstream request: abort, pause and resume", { timeout: 30_000 }, () => {
  it("abort() before the response closes the connection and no handler method runs afterwards", async (t) => {
    let serverSocket: Socket | undefined;
    const server = await tcpServer(t, (socket) => {
      serverSocket = socket;
      socket.resume(); // read (and drop) the request, so the client's close is seen
    });
    const pool = newPool(t);
    const sent = send(pool, server.address);
    await waitFor(() => serverSocket !== undefined && serverSocket.bytesRead > 0, "the request to arrive");
    sent.request.abort();
    sent.request.abort(); // idempotent
    await within(once(serverSocket as Socket, "close"), 2000, "the server to see the close");
    await sleep(30);
    assert.deepEqual(sent.outcome.calls, []);
    assert.equal(pool.idleCount(server.address), 0);
  });

  it("abort() inside data() stops the response: no later data, end or error", async (t) => {
    const server = await tcpServer(t, (socket) => {
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nfirst");
        setTimeout(() => socket.write("later"), 50);
      });
    });
    const pool = newPool(t);
    const sent = send(pool, server.address, {}, { data: (request) => request.abort() });
    await waitFor(() => sent.outcome.calls.includes("data"), "the first data");
    await waitFor(
      () => server.sockets[0]?.destroyed === true || server.sockets[0]?.readableEnded === true,
      "close",
    );
    await sleep(80);
    assert.deepEqual(sent.outcome.calls, ["head", "data"]);
    assert.equal(sent.outcome.body.toString(), "first");
  });

  it("abort() inside head() stops the response even when its body arrived in the same read", async (t) => {
    const server = await answering(t, "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\n\r\nbusy!");
    const pool = newPool(t);
    const sent = send(pool, server.address, {}, { head: (request) => request.abort() });
    await waitFor(() => sent.outcome.calls.includes("head"), "the head");
    await sleep(30);
    assert.deepEqual(sent.outcome.calls, ["head"]);
  });

  it("abort() after the end leaves the pooled connection alone", async (t) => {
    const server = await answering(t, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    const pool = newPool(t);
    const first = send(pool, server.address);
    await first.settled;
    first.request.abort();
    assert.equal(pool.idleCount(server.address), 1);
    const second = send(pool, server.address);
    assert.equal(second.request.reused, true);
    assert.equal((await second.settled).body.toString(), "ok");
  });

  it("abort() on a connection still connecting closes it silently", async (t) => {
    const server = await answering(t, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    const pool = newPool(t);
    const sent = send(pool, server.address);
    sent.request.abort();
    await sleep(50);
    assert.deepEqual(sent.outcome.calls, []);
  });

  it("pause() stops the response's data events until resume()", async (t) => {
    const payload = randomBytes(2 * 1024 * 1024);
    const server = await httpServer(t, (_req, res) => {
      res.setHeader("content-length", String(payload.length));
      res.end(payload);
    });
    const pool = newPool(t);
    let paused = false;
    const sent = send(
      pool,
      server.address,
      {},
      {
        data: (request) => {
          if (paused) return;
          paused = true;
          request.pause();
        },
      },
    );
    await waitFor(() => paused, "the first data");
    // What the paused request holds back is at most what was in flight: the parser finishes the
    // chunk it was fed, then no data event comes until resume().
    await sleep(20);
    const held = sent.outcome.calls.length;
    await sleep(100);
    assert.equal(sent.outcome.calls.length, held, "no data while paused");
    assert.equal(sent.outcome.ended, false);
    sent.request.resume();
    const outcome = await sent.settled;
    assert.equal(outcome.ended, true);
    assert.equal(sha(outcome.body), sha(payload));
  });

  it("resumes a connection released while paused, so the next request on it gets its response", async (t) => {
    const server = await answering(t, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    const pool = newPool(t);
    const first = send(pool, server.address, {}, { data: (request) => request.pause() });
    assert.equal((await first.settled).ended, true);
    const second = send(pool, server.address);
    assert.equal(second.request.reused, true);
    const outcome = await within(second.settled, 1000, "the second response");
    assert.equal(outcome.body.toString(), "ok");
  });
});
