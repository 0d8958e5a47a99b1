import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { RawConnection, type RawConnectionHost } from "../../../src/envoy/downstream/raw-connection.js";
import type { RawResponse } from "../../../src/envoy/downstream/raw-response.js";
import type { SimpleRequestHead } from "../../../src/envoy/downstream/request-head.js";
import { sleep, waitFor } from "../../helpers/loopback.js";

type Answer = (head: SimpleRequestHead, res: RawResponse) => void;

/** Answers `raw <target>` after `delayMs`, so that pipelined requests overlap if they can. */
function answerAfter(delayMs: number): Answer {
  return (head, res) => {
    setTimeout(() => {
      const body = `raw ${head.target}`;
      res.writeHead(200, ["content-length", String(body.length)]);
      res.end(body);
    }, delayMs);
  };
}

interface Harness {
  readonly port: number;
  readonly connections: Set<RawConnection>;
  /** Requests being answered right now, and the most there ever were. */
  readonly inFlight: { now: number; most: number };
  /** Requests answered so far. */
  readonly answered: { count: number };
}

/** Raw connections on a loopback port; what they hand over goes to a Node server echoing method, target and body. */
async function harness(t: TestContext, answer: Answer, keepAliveTimeoutMs = 60_000): Promise<Harness> {
  const node = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = `node ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`;
      res.writeHead(200, ["content-length", String(body.length)]);
      res.end(body);
    });
  });
  const connections = new Set<RawConnection>();
  const inFlight = { now: 0, most: 0 };
  const answered = { count: 0 };
  const host: RawConnectionHost = {
    maxHeadBytes: 1024,
    keepAliveTimeoutMs,
    request: (head, res) => {
      inFlight.most = Math.max(inFlight.most, ++inFlight.now);
      answered.count++;
      res.once("close", () => inFlight.now--);
      answer(head, res);
    },
    handOff: (socket, bytes) => {
      if (bytes !== undefined) socket.unshift(bytes);
      node.emit("connection", socket);
    },
    forget: (connection) => connections.delete(connection),
  };
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    connections.add(new RawConnection(socket, host));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, connections, inFlight, answered };
}

async function client(t: TestContext, port: number) {
  const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  await once(socket, "connect");
  t.after(() => socket.destroy());
  /** `closed`: the gateway's side has ended (FIN received) or the connection is gone. */
  const state = { received: "", closed: false };
  socket.on("data", (chunk: Buffer) => {
    state.received += chunk.toString("latin1");
  });
  const closed = () => {
    state.closed = true;
  };
  socket.on("end", closed);
  socket.on("close", closed);
  socket.on("error", () => {});
  return {
    socket,
    state,
    bodies: () => [...state.received.matchAll(/\r\n\r\n((?:raw|node) [^H]*)/g)].map((m) => m[1]),
  };
}

const get = (target: string, extra = "") => `GET ${target} HTTP/1.1\r\nhost: h\r\n${extra}\r\n`;

describe("a client connection read by the gateway itself", { timeout: 30_000 }, () => {
  it("answers pipelined requests in order, one at a time", async (t) => {
    const h = await harness(t, answerAfter(20));
    const c = await client(t, h.port);
    c.socket.write(get("/1") + get("/2") + get("/3"));
    await waitFor(() => c.bodies().length === 3, "three responses", 5000);
    assert.deepEqual(c.bodies(), ["raw /1", "raw /2", "raw /3"]);
    assert.equal(h.inFlight.most, 1);
  });

  it("reads a head that arrives a byte at a time once it is complete", async (t) => {
    const h = await harness(t, answerAfter(0));
    const c = await client(t, h.port);
    for (const byte of get("/slow")) {
      c.socket.write(byte);
      await sleep(1);
    }
    await waitFor(() => c.bodies().length === 1, "the response", 5000);
    assert.deepEqual(c.bodies(), ["raw /slow"]);
  });

  it("hands the connection to Node's server at the first head it does not take, with every byte not yet read", async (t) => {
    const h = await harness(t, answerAfter(20));
    const c = await client(t, h.port);
    c.socket.write(
      `${get("/a")}POST /b HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\n\r\nabc${get("/c")}${get("/d", "content-length: 0\r\n")}`,
    );
    await waitFor(() => c.bodies().length === 4, "four responses", 5000);
    // Node serves the rest of the connection, simple requests included.
    assert.deepEqual(c.bodies(), ["raw /a", "node POST /b abc", "node GET /c ", "node GET /d "]);
    assert.equal(h.connections.size, 0, "a connection handed over is no longer swept here");
  });

  it("cuts a head not complete within the headers timeout with Node's 408, timed from the connection's start or the head's first byte", async (t) => {
    const h = await harness(t, answerAfter(0));
    const silent = await client(t, h.port);
    const blank = await client(t, h.port);
    blank.socket.write("\r\n\r\n");
    const idle = await client(t, h.port);
    idle.socket.write(get("/once"));
    await waitFor(() => idle.bodies().length === 1, "the idle client's answer");
    const sweep = (ms: number) => {
      for (const connection of h.connections) connection.sweep(performance.now() + ms, 10_000);
    };
    const late = await client(t, h.port);
    late.socket.write("GET /never HTTP/1.1\r\nhost:");
    await sleep(50);
    sweep(9_000);
    await sleep(50);
    assert.equal(silent.state.closed || blank.state.closed || late.state.closed, false, "not yet");
    sweep(10_500);
    await waitFor(
      () => silent.state.closed && blank.state.closed && late.state.closed,
      "the three to be cut off",
    );
    for (const c of [silent, blank, late])
      assert.equal(c.state.received, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
    assert.equal(idle.state.closed, false, "between requests only the keep-alive timeout applies");
  });

  it("restarts a new connection's head clock at its first byte, not at an empty line", async (t) => {
    const h = await harness(t, answerAfter(0));
    const c = await client(t, h.port);
    await sleep(300);
    c.socket.write("GET /late HTTP/1.1\r\nhost:");
    await sleep(50);
    for (const connection of h.connections) connection.sweep(performance.now() + 9_800, 10_000);
    await sleep(50);
    assert.equal(c.state.closed, false, "timed from the head's first byte, 300 ms after the connection");
  });

  it("lets a client read a large response slowly: no keep-alive or headers timeout while it is sent", async (t) => {
    const big = Buffer.alloc(8 * 1024 * 1024, "y");
    const h = await harness(
      t,
      (_head, res) => {
        res.writeHead(200, ["content-length", String(big.length)]);
        res.end(big);
      },
      300,
    );
    const c = await client(t, h.port);
    let received = 0;
    c.socket.removeAllListeners("data");
    c.socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    c.socket.pause();
    c.socket.write(get("/big") + get("/next"));
    await sleep(400);
    for (const connection of h.connections) connection.sweep(performance.now() + 11_000, 10_000);
    await sleep(600);
    assert.equal(c.state.closed, false, "a paused reader is not cut off");
    c.socket.resume();
    await waitFor(() => received >= 2 * big.length, "both responses in full", 10_000);
  });

  it("closes a connection idle between requests after the keep-alive timeout, and only then", async (t) => {
    const h = await harness(t, answerAfter(0), 300);
    const idle = await client(t, h.port);
    const busy = await client(t, h.port);
    idle.socket.write(get("/once"));
    for (let i = 0; i < 4; i++) {
      busy.socket.write(get(`/${i}`));
      await sleep(150);
    }
    assert.equal(busy.state.closed, false, "a connection with a request every 150 ms stays");
    await waitFor(() => idle.state.closed, "the idle connection to be closed", 3000);
    assert.equal(idle.bodies().length, 1);
  });

  it("hands a head that can no longer be a simple request to Node at once, not at the headers timeout", async (t) => {
    const h = await harness(t, answerAfter(0));
    const tls = await client(t, h.port);
    tls.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
    const bad = await client(t, h.port);
    bad.socket.write("GET / HTTP/1.1\r\nBad Header\r\n");
    await waitFor(() => tls.state.received !== "" && bad.state.received !== "", "Node's answers", 3000);
    assert.match(tls.state.received, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(bad.state.received, /^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it("serves nothing more to a client that does not read its responses until it reads them", async (t) => {
    const big = Buffer.alloc(4 * 1024 * 1024, "x");
    const h = await harness(t, (_head, res) => {
      res.writeHead(200, ["content-length", String(big.length)]);
      res.end(big);
    });
    const c = await client(t, h.port);
    c.socket.pause();
    c.socket.write(Array.from({ length: 8 }, (_, i) => get(`/${i}`)).join(""));
    await sleep(300);
    assert.ok(
      h.answered.count < 8,
      `answered ${h.answered.count} of 8 requests of a client that read nothing`,
    );
    let received = 0;
    c.socket.removeAllListeners("data");
    c.socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    c.socket.resume();
    await waitFor(() => h.answered.count === 8 && received >= 8 * big.length, "all eight responses", 10_000);
  });

  it("closes after a response that says close and serves nothing pipelined behind it", async (t) => {
    const h = await harness(t, (head, res) => {
      res.shouldKeepAlive = head.target !== "/close";
      res.writeHead(200, ["content-length", "2"]);
      res.end("ok");
    });
    const c = await client(t, h.port);
    c.socket.write(get("/close") + get("/after"));
    await waitFor(() => c.state.closed, "the connection to close");
    assert.equal((c.state.received.match(/HTTP\/1\.1 200/g) ?? []).length, 1);
    assert.match(c.state.received, /\r\nConnection: close\r\n/);
  });

  it("ends at once when the client ends its side, as Node's server does: the response under way is told, a cut head gets 400", async (t) => {
    let told: boolean | undefined;
    const h = await harness(t, (_head, res) => {
      res.once("close", () => {
        told = res.writableFinished;
      });
    });
    const busy = await client(t, h.port);
    busy.socket.end(get("/a"));
    await waitFor(() => busy.state.closed, "the connection to end");
    assert.equal(told, false, "the response learnt it will not be sent");
    assert.equal(busy.state.received, "");
    const cut = await client(t, h.port);
    cut.socket.end("GET /a HTTP/1.1\r\nho");
    await waitFor(() => cut.state.closed, "the connection to end");
    assert.equal(cut.state.received, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    const cutBehind = await client(t, h.port);
    cutBehind.socket.end(`${get("/a")}GET /b HTTP/1.1\r\nho`);
    await waitFor(() => cutBehind.state.closed, "the connection to end");
    assert.equal(cutBehind.state.received, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    const late = await client(t, h.port);
    late.socket.end("\r\n\r\nGET /a HTTP/1.1\r\nho");
    await waitFor(() => late.state.closed, "the connection to end");
    assert.equal(late.state.received, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    const blank = await client(t, h.port);
    blank.socket.end("\r\n");
    await waitFor(() => blank.state.closed, "the connection to end");
    assert.equal(blank.state.received, "", "an empty line is no request: closed without a word");
  });

  it("tells the response under way when the client goes away", async (t) => {
    let told = false;
    const h = await harness(t, (_head, res) => {
      res.once("close", () => {
        told = true;
      });
    });
    const c = await client(t, h.port);
    c.socket.write(get("/a"));
    await waitFor(() => h.inFlight.most === 1, "the request to arrive");
    c.socket.destroy();
    await waitFor(() => told, "the response's close");
    assert.equal(h.connections.size, 0);
  });
});
