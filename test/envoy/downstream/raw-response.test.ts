import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import type { DownstreamResponse } from "../../../src/envoy/downstream/downstream-response.js";
import { RawResponse } from "../../../src/envoy/downstream/raw-response.js";
import { nodeHttpServer } from "../../helpers/loopback.js";
import { rawExchange } from "../../helpers/raw-http.js";

type Script = (res: DownstreamResponse) => void;

/** Node's own server, answering each request with `script`. */
function nodeServer(t: TestContext, script: Script): Promise<number> {
  return nodeHttpServer(t, (req, res) => {
    req.resume();
    script(res);
  });
}

/** A server answering each request on a connection with `script` on a RawResponse, then closing. */
async function rawServer(t: TestContext, script: Script): Promise<number> {
  const server = createServer((socket: Socket) => {
    socket.once("data", () => {
      const res = new RawResponse(socket, { finished: (r) => r.closed() }, 60_000);
      script(res);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** The bytes of one response to `GET /`, `Date` values blanked. */
async function answer(port: number): Promise<string> {
  const reply = await rawExchange(port, "GET / HTTP/1.1\r\nhost: h\r\n\r\n", 500);
  return reply.text.replace(/\r\nDate: [^\r]*/, "\r\nDate: <now>");
}

const big = Buffer.alloc(40_000, "b");
const scripts: [string, Script][] = [
  [
    "a Content-Length response ended with its body",
    (res) => {
      res.writeHead(200, ["content-length", "2", "x-a", "b"]);
      res.end(Buffer.from("hi"));
    },
  ],
  [
    "a response without a length, written then ended (chunked)",
    (res) => {
      res.writeHead(200, ["x-a", "b"]);
      res.write(Buffer.from("abc"));
      res.end(Buffer.from("de"));
    },
  ],
  [
    "a response without a length ended empty",
    (res) => {
      res.writeHead(200, []);
      res.end();
    },
  ],
  [
    "a chunked response with its head flushed before the body",
    (res) => {
      res.writeHead(200, ["x-a", "b"]);
      res.flushHeaders();
      res.write(Buffer.from("x"));
      res.end();
    },
  ],
  [
    "a large Content-Length body",
    (res) => {
      res.writeHead(200, ["Content-Length", String(big.length)]);
      res.end(big);
    },
  ],
  [
    "a large chunked body",
    (res) => {
      res.writeHead(200, []);
      res.end(big);
    },
  ],
  [
    "a 204, whose body is dropped",
    (res) => {
      res.writeHead(204, ["x-a", "b"]);
      res.end(Buffer.from("ignored"));
    },
  ],
  [
    "a 304",
    (res) => {
      res.writeHead(304, ["etag", '"1"']);
      res.end();
    },
  ],
  [
    "an unknown status with its own Date",
    (res) => {
      res.writeHead(299, ["date", "then"]);
      res.end(Buffer.from("z"));
    },
  ],
  [
    "a local reply that closes the connection",
    (res) => {
      res.shouldKeepAlive = false;
      res.writeHead(400, ["content-length", "0", "server", "istio-envoy"]);
      res.end("");
    },
  ],
  [
    "a local reply with a string body",
    (res) => {
      res.writeHead(503, ["content-length", "19", "content-type", "text/plain"]);
      res.end("no healthy upstream");
    },
  ],
];

describe("a response written straight to the socket", { timeout: 30_000 }, () => {
  for (const [what, script] of scripts) {
    it(`writes the same bytes as Node's ServerResponse for ${what}`, async (t) => {
      const [node, raw] = await Promise.all([nodeServer(t, script), rawServer(t, script)]);
      const expected = await answer(node);
      assert.match(expected, /^HTTP\/1\.1 \d{3} /);
      assert.equal(await answer(raw), expected);
    });
  }
});
