import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import fc from "fast-check";
import { parseSimpleRequestHead } from "../../../src/envoy/downstream/request-head.js";
import { nodeHttpServer } from "../../helpers/loopback.js";
import { rawRequest } from "../../helpers/raw-http.js";

describe("the gateway's own request-head reader", () => {
  it("reads a plain GET: target as sent, names lower-cased, values trimmed, order kept", () => {
    const head = parseSimpleRequestHead(
      "GET /user?x=1 HTTP/1.1\r\nHost: example.com\r\nCookie:  a=b; c=d \r\nX-Tab:\tv\t\r\nConnection: Keep-Alive",
    );
    assert.deepEqual(head, {
      method: "GET",
      target: "/user?x=1",
      authority: "example.com",
      headers: [
        ["host", "example.com"],
        ["cookie", "a=b; c=d"],
        ["x-tab", "v"],
        ["connection", "Keep-Alive"],
      ],
    });
  });

  it("takes exactly 100 header fields and leaves a 101st to Node's parser (and the 431)", () => {
    const fields = (n: number) => Array.from({ length: n - 1 }, (_, i) => `x-${i}: v`).join("\r\n");
    assert.ok(parseSimpleRequestHead(`GET / HTTP/1.1\r\nhost: h\r\n${fields(100)}`));
    assert.equal(parseSimpleRequestHead(`GET / HTTP/1.1\r\nhost: h\r\n${fields(101)}`), undefined);
  });

  const declined: [string, string][] = [
    ["another method", "POST / HTTP/1.1\r\nhost: h"],
    ["a lower-case method", "get / HTTP/1.1\r\nhost: h"],
    ["HTTP/1.0", "GET / HTTP/1.0\r\nhost: h"],
    ["an absolute-form target", "GET http://h/ HTTP/1.1\r\nhost: h"],
    ["an asterisk target", "GET * HTTP/1.1\r\nhost: h"],
    ["two spaces in the request line", "GET  / HTTP/1.1\r\nhost: h"],
    ["a byte ≥ 0x80 in the target", "GET /\xe4 HTTP/1.1\r\nhost: h"],
    ["a body by Content-Length", "GET / HTTP/1.1\r\nhost: h\r\ncontent-length: 0"],
    ["a chunked body", "GET / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked"],
    ["an upgrade", "GET / HTTP/1.1\r\nhost: h\r\nupgrade: websocket"],
    ["Expect", "GET / HTTP/1.1\r\nhost: h\r\nexpect: 100-continue"],
    ["Connection: close", "GET / HTTP/1.1\r\nhost: h\r\nconnection: close"],
    ["Connection: upgrade", "GET / HTTP/1.1\r\nhost: h\r\nconnection: keep-alive, upgrade"],
    [
      "Proxy-Connection: close, which Node's parser reads as Connection",
      "GET / HTTP/1.1\r\nhost: h\r\nproxy-connection: close",
    ],
    ["no Host", "GET / HTTP/1.1\r\nx: y"],
    ["two Hosts", "GET / HTTP/1.1\r\nhost: a\r\nhost: b"],
    ["obs-text in a value", "GET / HTTP/1.1\r\nhost: h\r\nx: \xe4"],
    ["a control character in a value", "GET / HTTP/1.1\r\nhost: h\r\nx: a\x01b"],
    ["a bare LF", "GET / HTTP/1.1\r\nhost: h\nx: y"],
    ["a bare CR", "GET / HTTP/1.1\r\nhost: h\rx: y"],
    ["a folded line", "GET / HTTP/1.1\r\nhost: h\r\nx: a\r\n b"],
    ["whitespace before the colon", "GET / HTTP/1.1\r\nhost : h"],
    ["an empty name", "GET / HTTP/1.1\r\nhost: h\r\n: v"],
    ["a line without a colon", "GET / HTTP/1.1\r\nhost: h\r\nnocolon"],
  ];
  for (const [what, head] of declined) {
    it(`leaves a head with ${what} to Node's parser`, () => {
      assert.equal(parseSimpleRequestHead(head), undefined);
    });
  }
});

/** A Node HTTP server that answers every request with what its parser made of it. */
function nodeParser(t: TestContext): Promise<number> {
  return nodeHttpServer(t, (req, res) => {
    req.resume();
    res.end(JSON.stringify({ url: req.url, rawHeaders: req.rawHeaders }));
  });
}

const NAMES = [
  "host",
  "Host",
  "x-a",
  "Cookie",
  "connection",
  "proxy-connection",
  "content-length",
  "te",
  "x y",
  "",
  "é",
];
const VALUES = ["h", " v ", "keep-alive", "close", "0", "a\tb", "\x7f", "\xe9", "a\rb", "", "  "];

describe("the gateway's own request-head reader against Node's parser", { timeout: 60_000 }, () => {
  it("never takes a head Node's parser refuses, and reads every head it takes as Node does", async (t) => {
    const port = await nodeParser(t);
    const line = fc.record({
      name: fc.constantFrom(...NAMES),
      value: fc.constantFrom(...VALUES),
      separator: fc.constantFrom(":", ": ", " :"),
    });
    const head = fc.record({
      method: fc.constantFrom("GET", "GET", "POST", "get"),
      target: fc.constantFrom("/", "/user?a=b", "/%zz/../x", "/a#f", "/\xe4", "*", "http://h/p"),
      version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
      lines: fc.array(line, { maxLength: 5 }),
      host: fc.constantFrom(true, true, false),
    });
    await fc.assert(
      fc.asyncProperty(head, async (h) => {
        const lines = [
          ...(h.host ? ["Host: h"] : []),
          ...h.lines.map((l) => `${l.name}${l.separator}${l.value}`),
        ];
        const text = [`${h.method} ${h.target} ${h.version}`, ...lines].join("\r\n");
        const ours = parseSimpleRequestHead(text);
        if (ours === undefined) return;
        const reply = await rawRequest(port, Buffer.from(`${text}\r\n\r\n`, "latin1"));
        assert.equal(reply.status, 200, `Node's parser refused a head taken here: ${JSON.stringify(text)}`);
        const node = JSON.parse(reply.text.slice(reply.text.indexOf("\r\n\r\n") + 4)) as {
          url: string;
          rawHeaders: string[];
        };
        assert.equal(ours.target, node.url);
        const pairs: [string, string][] = [];
        for (let i = 0; i < node.rawHeaders.length; i += 2)
          pairs.push([(node.rawHeaders[i] as string).toLowerCase(), node.rawHeaders[i + 1] as string]);
        assert.deepEqual(ours.headers, pairs);
      }),
      { numRuns: 300, seed: 20261201 },
    );
  });
});
