import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { HeadBuffer, type HeadScan } from "../../../src/envoy/downstream/head-buffer.js";

const bytes = (text: string) => Buffer.from(text, "latin1");
const GET = (target: string, extra = "") => `GET ${target} HTTP/1.1\r\nHost: h\r\n${extra}\r\n`;

/** Feeds `pieces` in turn and scans after each, as a connection does; every verdict but "incomplete". */
function feed(buffer: HeadBuffer, pieces: readonly Buffer[]): HeadScan[] {
  const verdicts: HeadScan[] = [];
  for (const piece of pieces) {
    buffer.append(piece);
    for (let scan = buffer.scan(); scan.kind !== "incomplete"; scan = buffer.scan()) {
      verdicts.push(scan);
      if (scan.kind === "other") return verdicts;
    }
  }
  return verdicts;
}

const targets = (verdicts: HeadScan[]) => verdicts.map((v) => (v.kind === "simple" ? v.head.target : v.kind));

describe("the pending bytes of a client connection", () => {
  it("takes a head that came whole and keeps the bytes after it for the next scan", () => {
    const buffer = new HeadBuffer(1024);
    buffer.append(bytes(`${GET("/a")}${GET("/b")}GET /c HTTP/1.1\r\nHo`));
    assert.deepEqual(targets([buffer.scan(), buffer.scan(), buffer.scan()]), ["/a", "/b", "incomplete"]);
    assert.equal(buffer.started, true, "the third head has begun");
    assert.equal(buffer.endsInPartialHead(), true);
    assert.equal(buffer.take()?.toString("latin1"), "GET /c HTTP/1.1\r\nHo");
    assert.equal(buffer.length, 0);
  });

  it("reads the same heads however the bytes are split", () => {
    const stream = bytes(
      `\r\n${GET("/one?x=1", "Cookie: a=b\r\n")}${GET("/two")}\r\n${GET("/three", "X:  y \r\n")}`,
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const pieces = [0, ...points].map((from, i) => stream.subarray(from, points[i] ?? stream.length));
        assert.deepEqual(targets(feed(new HeadBuffer(1024), pieces)), ["/one?x=1", "/two", "/three"]);
      }),
      { numRuns: 200, seed: 1201 },
    );
  });

  it("skips empty lines before a request line, as Node's parser does", () => {
    assert.deepEqual(targets(feed(new HeadBuffer(1024), [bytes(`\r\n\r\n${GET("/a")}`)])), ["/a"]);
    const buffer = new HeadBuffer(1024);
    buffer.append(bytes("\r\n"));
    assert.equal(buffer.started, false, "a lone CRLF does not begin a request");
  });

  it("drops empty lines before a request line as they come, so that a stream of them piles up nothing", () => {
    const buffer = new HeadBuffer(1024);
    for (let i = 0; i < 2000; i++) {
      buffer.append(bytes(i % 2 === 0 ? "\r" : "\n"));
      assert.equal(buffer.scan().kind, "incomplete");
    }
    assert.equal(buffer.length, 0);
    assert.equal(buffer.started, false);
  });

  it("tells a head cut short from bytes that end cleanly", () => {
    const cases: [string, boolean][] = [
      ["", false],
      ["\r\n", false],
      ["\r\n\r\nGET / HTTP/1.1\r\nHost: x", true],
      [`${GET("/a")}\r\n`, false],
      [`${GET("/a")}GET /b HTTP/1.1\r\n`, true],
    ];
    for (const [text, cut] of cases) {
      const buffer = new HeadBuffer(1024);
      buffer.append(bytes(text));
      assert.equal(buffer.endsInPartialHead(), cut, JSON.stringify(text));
    }
  });

  const early: [string, string][] = [
    ["a TLS hello", "\x16\x03\x01\x02\x00\x01"],
    ["another method, at its first byte", "P"],
    ["a bare LF", "GET / HTTP/1.1\nHo"],
    ["a bare CR", "GET / HTTP/1.1\rHo"],
    ["a header line that is not simple", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX"],
    ["a malformed header line", "GET / HTTP/1.1\r\nBad Header\r\n"],
    ["a second Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n"],
    ["HTTP/1.0", "GET / HTTP/1.0\r\n"],
    ["obs-text", "GET / HTTP/1.1\r\nX: caf\xe9"],
  ];
  for (const [what, text] of early) {
    it(`knows a head is not simple as soon as its bytes show it: ${what}`, () => {
      const pieces = [...text].map((c) => bytes(c));
      assert.deepEqual(targets(feed(new HeadBuffer(1024), pieces)), ["other"]);
    });
  }

  it("gives up on a head in pieces once it outgrows the limit, and on a 101st header line", () => {
    const long = `GET /${"a".repeat(200)}`;
    assert.deepEqual(targets(feed(new HeadBuffer(100), [bytes(long.slice(0, 50)), bytes(long.slice(50))])), [
      "other",
    ]);
    const fields = Array.from({ length: 100 }, (_, i) => `x-${i}: v\r\n`).join("");
    const pieces = [...`GET / HTTP/1.1\r\nHost: h\r\n${fields}`].map((c) => bytes(c));
    assert.deepEqual(targets(feed(new HeadBuffer(64 * 1024), pieces)), ["other"]);
  });
});
