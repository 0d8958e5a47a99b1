import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type ResponseHead,
  ResponseParseError,
  ResponseParser,
} from "../../../src/envoy/upstream/response-parser.js";

interface Parsed {
  readonly heads: ResponseHead[];
  readonly body: string;
  readonly ends: number;
  /** Event kinds in order, bodies collapsed: "head", "body", "end". */
  readonly order: string[];
  readonly parser: ResponseParser;
}

interface ParseOptions {
  readonly head?: boolean;
  readonly finish?: boolean;
  readonly maxHeadBytes?: number;
}

/** Feeds the parts (latin1 strings or bytes) to a fresh parser and records what it announces. */
function parse(parts: string | readonly (string | Buffer)[], options: ParseOptions = {}): Parsed {
  const heads: ResponseHead[] = [];
  const chunks: Buffer[] = [];
  const order: string[] = [];
  let ends = 0;
  const parser = new ResponseParser(
    {
      head: (h) => {
        heads.push(h);
        order.push("head");
      },
      body: (chunk) => {
        chunks.push(Buffer.from(chunk));
        if (order.at(-1) !== "body") order.push("body");
      },
      end: () => {
        ends++;
        order.push("end");
      },
    },
    options.maxHeadBytes,
  );
  parser.reset(options.head ?? false);
  for (const part of typeof parts === "string" ? [parts] : parts) {
    parser.feed(typeof part === "string" ? Buffer.from(part, "latin1") : part);
  }
  if (options.finish) parser.finish();
  // Live views: a test may feed the parser more after this returns.
  return {
    heads,
    get body() {
      return Buffer.concat(chunks).toString("latin1");
    },
    get ends() {
      return ends;
    },
    order,
    parser,
  };
}

/** Asserts that the input is refused with a ResponseParseError whose message matches. */
function refuses(input: string | readonly string[], message: RegExp, options: ParseOptions = {}): void {
  assert.throws(
    () => parse(input, options),
    (error: unknown) => error instanceof ResponseParseError && message.test(error.message),
    `expected ${message} for ${JSON.stringify(input)}`,
  );
}

describe("response parser: framing", () => {
  it("reads a Content-Length body and announces head, body, end in that order, once each", () => {
    const r = parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
    assert.equal(r.heads.length, 1);
    assert.equal(r.heads[0]?.status, 200);
    assert.deepEqual(r.heads[0]?.headers, ["Content-Type", "text/plain", "Content-Length", "5"]);
    assert.equal(r.heads[0]?.keepAlive, true);
    assert.equal(r.heads[0]?.keepAliveTimeoutMs, undefined);
    assert.equal(r.body, "hello");
    assert.deepEqual(r.order, ["head", "body", "end"]);
    assert.equal(r.parser.done, true);
    assert.equal(r.parser.keepAlive, true);
  });

  it("keeps header names as received, trims only SP and HTAB around values, and keeps empty values", () => {
    const r = parse(
      "HTTP/1.1 200 OK\r\nX-MiXeD: \t a b \t\r\nx-empty:\r\nx-nbsp: \xa0v\xa0\r\ncontent-length: 0\r\n\r\n",
    );
    assert.deepEqual(r.heads[0]?.headers, [
      "X-MiXeD",
      "a b",
      "x-empty",
      "",
      "x-nbsp",
      "\xa0v\xa0",
      "content-length",
      "0",
    ]);
  });

  it("accepts a status line without a reason phrase and with an empty one", () => {
    assert.equal(parse("HTTP/1.1 204\r\n\r\n").heads[0]?.status, 204);
    assert.equal(parse("HTTP/1.1 204 \r\n\r\n").heads[0]?.status, 204);
    assert.equal(parse("HTTP/1.1 599 Whatever It Is\r\ncontent-length: 0\r\n\r\n").heads[0]?.status, 599);
  });

  it("ends a Content-Length: 0 response with its head and no body event", () => {
    const r = parse("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert.deepEqual(r.order, ["head", "end"]);
    assert.equal(r.parser.done, true);
  });

  it("accepts a repeated Content-Length with the same value", () => {
    const r = parse("HTTP/1.1 200 OK\r\ncontent-length: 3\r\nContent-Length: 3\r\n\r\nabc");
    assert.equal(r.body, "abc");
    assert.equal(r.ends, 1);
  });

  it("does not end a Content-Length body before all its bytes have arrived", () => {
    const r = parse(["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n01234", "567"]);
    assert.equal(r.body, "01234567");
    assert.equal(r.ends, 0);
    assert.equal(r.parser.done, false);
  });

  it("decodes a chunked body with hex sizes in either case, chunk extensions and trailers", () => {
    const r = parse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "4;name=value\r\nWiki\r\n" +
        "5 ; a=b ;c\r\npedia\r\n" +
        "A\r\n in\r\n\r\nchu\r\n" +
        'b;quoted="x;y"\r\nnks and mor\r\n' +
        "0;last\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n",
    );
    assert.equal(r.body, "Wikipedia in\r\n\r\nchunks and mor");
    assert.deepEqual(r.order, ["head", "body", "end"]);
    assert.deepEqual(r.heads[0]?.headers, ["Transfer-Encoding", "chunked"], "trailers are not headers");
    assert.equal(r.parser.keepAlive, true);
  });

  it("accepts Transfer-Encoding chunked in any letter case", () => {
    assert.equal(parse("HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n1\r\nx\r\n0\r\n\r\n").body, "x");
  });

  it("ends a chunked body only after the empty line that closes the trailers", () => {
    const r = parse(["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nA: b\r\n"]);
    assert.equal(r.ends, 0);
    r.parser.feed(Buffer.from("\r\n"));
    assert.equal(r.ends, 1);
  });

  it("reads a body without Content-Length or chunked framing until finish(), and never reuses the connection", () => {
    const r = parse(["HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nfirst ", "second"]);
    assert.equal(r.body, "first second");
    assert.equal(r.ends, 0, "no end before the connection closes");
    assert.equal(r.parser.keepAlive, false);
    r.parser.finish();
    assert.equal(r.ends, 1);
    assert.equal(r.parser.done, true);
  });

  it("ends a close-delimited response with an empty body at finish()", () => {
    const r = parse("HTTP/1.1 200 OK\r\n\r\n", { finish: true });
    assert.deepEqual(r.order, ["head", "end"]);
  });

  it("says in the head that a close-delimited response cannot be followed by another request", () => {
    const r = parse("HTTP/1.1 200 OK\r\n\r\nabc");
    assert.equal(r.parser.keepAlive, false);
    assert.equal(r.heads[0]?.keepAlive, false);
  });

  it("finish() on an unfinished Content-Length or chunked body says the response was cut short", () => {
    refuses(["HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel"], /closed before the response ended/, {
      finish: true,
    });
    refuses(
      ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n"],
      /closed before the response ended/,
      { finish: true },
    );
    refuses(["HTTP/1.1 200 OK\r\ncontent-"], /closed before the response ended/, { finish: true });
    refuses([], /closed before the response ended/, { finish: true });
  });

  it("finish() after a complete response announces nothing more", () => {
    const r = parse("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", { finish: true });
    assert.equal(r.ends, 1);
  });

  it("reads the next response on the same parser after reset()", () => {
    const r = parse("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na");
    r.parser.reset(false);
    assert.equal(r.parser.done, false);
    r.parser.feed(
      Buffer.from("HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"),
    );
    assert.deepEqual(
      r.heads.map((h) => h.status),
      [200, 201],
    );
    assert.equal(r.body, "ab");
    assert.equal(r.ends, 2);
  });

  it("announces the end once even when an empty chunk is fed after it", () => {
    const r = parse("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    r.parser.feed(Buffer.alloc(0));
    assert.equal(r.ends, 1);
  });
});

describe("response parser: responses without a body", () => {
  it("gives a response to HEAD no body whatever its Content-Length or Transfer-Encoding says", () => {
    const cl = parse("HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n", { head: true });
    assert.deepEqual(cl.order, ["head", "end"]);
    assert.equal(cl.parser.keepAlive, true);
    const chunked = parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", { head: true });
    assert.deepEqual(chunked.order, ["head", "end"]);
    const neither = parse("HTTP/1.1 200 OK\r\n\r\n", { head: true });
    assert.deepEqual(neither.order, ["head", "end"]);
    assert.equal(neither.parser.keepAlive, true, "a HEAD response is not close-delimited");
  });

  it("gives 204 and 304 no body even with a Content-Length", () => {
    for (const status of [204, 304]) {
      const r = parse(`HTTP/1.1 ${status} X\r\ncontent-length: 7\r\n\r\n`);
      assert.deepEqual(r.order, ["head", "end"], String(status));
      assert.equal(r.parser.keepAlive, true);
    }
  });

  it("ends a bodiless response followed by stray bytes, and rules out reusing the connection", () => {
    for (const [input, options] of [
      ["HTTP/1.1 204 No Content\r\n\r\nX", {}],
      ["HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody", { head: true }],
    ] as const) {
      const r = parse(input, options);
      assert.deepEqual(r.order, ["head", "end"], input);
      assert.equal(r.body, "");
      assert.equal(r.parser.keepAlive, false, input);
    }
  });
});

describe("response parser: interim responses", () => {
  it("skips 100 and 103 responses and announces only the final one", () => {
    const r = parse(
      "HTTP/1.1 100 Continue\r\n\r\n" +
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    );
    assert.deepEqual(
      r.heads.map((h) => h.status),
      [200],
    );
    assert.deepEqual(r.heads[0]?.headers, ["content-length", "2"]);
    assert.equal(r.body, "ok");
    assert.equal(r.ends, 1);
  });

  it("skips an interim response that arrives in its own chunk, then reads the final one", () => {
    const r = parse(["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"]);
    assert.deepEqual(r.order, ["head", "end"]);
  });

  it("refuses 101 Switching Protocols to a request that asked for no upgrade", () => {
    refuses(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      /upgrade/,
    );
  });
});

describe("response parser: upgrade requests", () => {
  function upgrade(parts: readonly string[]) {
    const heads: ResponseHead[] = [];
    const rest: string[] = [];
    const body: string[] = [];
    let ends = 0;
    const parser = new ResponseParser({
      head: (h) => heads.push(h),
      body: (chunk) => body.push(chunk.toString("latin1")),
      end: () => ends++,
      upgraded: (bytes) => rest.push(bytes.toString("latin1")),
    });
    parser.reset(false, true);
    for (const part of parts) parser.feed(Buffer.from(part, "latin1"));
    return { heads, rest, body, ends, parser };
  }

  it("accepts a 101 and hands over the bytes after its head, once, as the new protocol's", () => {
    const r = upgrade([
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi",
    ]);
    assert.equal(r.heads[0]?.status, 101);
    assert.equal(r.heads[0]?.keepAlive, false);
    assert.deepEqual(r.rest, ["\x81\x02hi"]);
    assert.equal(r.ends, 0);
    assert.deepEqual(r.body, []);
    assert.equal(r.parser.upgraded, true);
    assert.throws(() => r.parser.feed(Buffer.from("more")), ResponseParseError);
  });

  it("hands over an empty rest when the head arrives alone, split anywhere", () => {
    const r = upgrade(["HTTP/1.1 101 Switch", "ing Protocols\r\nUpgrade: websocket\r\n\r", "\n"]);
    assert.equal(r.heads.length, 1);
    assert.deepEqual(r.rest, [""]);
  });

  it("parses any other answer to an upgrade request as an ordinary response", () => {
    const r = upgrade(["HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno"]);
    assert.equal(r.heads[0]?.status, 403);
    assert.deepEqual(r.rest, []);
    assert.deepEqual(r.body, ["no"]);
    assert.equal(r.ends, 1);
    assert.equal(r.parser.upgraded, false);
  });
});

describe("response parser: connection reuse", () => {
  it("does not reuse an HTTP/1.0 connection unless the response says keep-alive", () => {
    const plain = parse("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert.equal(plain.heads[0]?.keepAlive, false);
    assert.equal(plain.parser.keepAlive, false);
    const kept = parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n");
    assert.equal(kept.heads[0]?.keepAlive, true);
    assert.equal(kept.parser.keepAlive, true);
  });

  it("does not reuse a connection whose response says close, in any case or token position", () => {
    for (const value of ["close", "Close", "keep-alive, close", "foo ,CLOSE"]) {
      const r = parse(`HTTP/1.1 200 OK\r\nConnection: ${value}\r\ncontent-length: 0\r\n\r\n`);
      assert.equal(r.heads[0]?.keepAlive, false, value);
      assert.equal(r.parser.keepAlive, false, value);
    }
    const http10 = parse("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\ncontent-length: 0\r\n\r\n");
    assert.equal(http10.parser.keepAlive, false);
  });

  it("keeps an HTTP/1.1 connection by default", () => {
    const r = parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\ncontent-length: 0\r\n\r\n");
    assert.equal(r.parser.keepAlive, true);
  });

  it("reads the Keep-Alive timeout hint in ms wherever timeout= sits in the header", () => {
    const hint = (value: string) =>
      parse(`HTTP/1.1 200 OK\r\nKeep-Alive: ${value}\r\ncontent-length: 0\r\n\r\n`).heads[0]
        ?.keepAliveTimeoutMs;
    assert.equal(hint("timeout=5"), 5000);
    assert.equal(hint("timeout=5, max=1000"), 5000);
    assert.equal(hint("max=10, timeout=2"), 2000);
    assert.equal(hint("TIMEOUT=3"), 3000);
    assert.equal(hint("max=10"), undefined);
    assert.equal(hint("xtimeout=4"), undefined);
  });

  it("starts each response as keep-alive after reset()", () => {
    const r = parse("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    assert.equal(r.parser.keepAlive, false);
    r.parser.reset(false);
    assert.equal(r.parser.keepAlive, true);
  });
});

describe("response parser: strictness", () => {
  it("refuses a bare LF or bare CR in the status line or the headers", () => {
    refuses("HTTP/1.1 200 OK\ncontent-length: 0\r\n\r\n", /malformed status line/);
    refuses("HTTP/1.1 200 O\rK\r\ncontent-length: 0\r\n\r\n", /malformed status line/);
    refuses("HTTP/1.1 200 OK\r\nA: b\ncontent-length: 0\r\n\r\n", /invalid character/);
    refuses("HTTP/1.1 200 OK\r\nA: b\rc\r\ncontent-length: 0\r\n\r\n", /invalid character/);
  });

  it("refuses a folded (obs-fold) header line", () => {
    refuses("HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\ncontent-length: 0\r\n\r\n", /malformed header line/);
    refuses("HTTP/1.1 200 OK\r\nX-A: one\r\n\ttwo: x\r\ncontent-length: 0\r\n\r\n", /invalid header name/);
  });

  it("refuses header names that are not tokens, empty or followed by whitespace", () => {
    refuses("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", /invalid header name/);
    refuses("HTTP/1.1 200 OK\r\nName : x\r\n\r\n", /invalid header name/);
    refuses("HTTP/1.1 200 OK\r\nna(me): x\r\n\r\n", /invalid header name/);
    refuses("HTTP/1.1 200 OK\r\n\xe9t\xe9: x\r\n\r\n", /invalid header name/);
    refuses("HTTP/1.1 200 OK\r\n: x\r\n\r\n", /malformed header line/);
    refuses("HTTP/1.1 200 OK\r\nno-colon\r\n\r\n", /malformed header line/);
  });

  it("refuses control characters in header values but accepts HTAB and obs-text", () => {
    refuses("HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n", /invalid character in header X/);
    refuses("HTTP/1.1 200 OK\r\nX: a\x7fb\r\n\r\n", /invalid character/);
    refuses("HTTP/1.1 200 OK\r\nX: a\x1bb\r\n\r\n", /invalid character/);
    const ok = parse("HTTP/1.1 200 OK\r\nX: a\tb\xffc\r\ncontent-length: 0\r\n\r\n");
    assert.deepEqual(ok.heads[0]?.headers.slice(0, 2), ["X", "a\tb\xffc"]);
  });

  it("refuses a Transfer-Encoding that is not exactly chunked, once", () => {
    refuses("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", /unsupported transfer-encoding/);
    refuses("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", /unsupported transfer-encoding/);
    refuses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", /unsupported/);
    refuses(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      /unsupported transfer-encoding/,
    );
  });

  it("refuses Transfer-Encoding together with Content-Length, in either order", () => {
    refuses(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      /both transfer-encoding and content-length/,
    );
    refuses(
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      /both transfer-encoding and content-length/,
    );
  });

  it("refuses conflicting or malformed Content-Length values", () => {
    refuses("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", /conflicting/);
    for (const value of ["-1", "+1", "abc", "1,1", "3 3", "", "0x10", "1234567890123456"]) {
      refuses(`HTTP/1.1 200 OK\r\nContent-Length: ${value}\r\n\r\n`, /invalid content-length/);
    }
  });

  it("refuses malformed chunk sizes", () => {
    const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    for (const line of ["zz", "", "-1", "+5", "0x5", " 5", "1234567890abc", ";ext"]) {
      refuses(`${chunked}${line}\r\n`, /invalid chunk size/, {});
    }
  });

  it("refuses a chunk size line ended by a bare LF and a bare CR in a chunk extension", () => {
    const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    refuses(`${chunked}5\nhello\r\n0\r\n\r\n`, /bare LF in chunk size line/);
    refuses(`${chunked}5;a\rb\r\nhello\r\n0\r\n\r\n`, /bare CR in chunk extension/);
  });

  it("refuses a bare CR or other whitespace between the chunk size and the line end", () => {
    const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    refuses(`${chunked}5\r\r\nhello\r\n0\r\n\r\n`, /chunk/);
    refuses(`${chunked}5\xa0\r\nhello\r\n0\r\n\r\n`, /chunk/);
    refuses(`${chunked}5\x0b\r\nhello\r\n0\r\n\r\n`, /chunk/);
  });

  it("refuses chunk data that is not followed by CRLF", () => {
    const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    refuses(`${chunked}5\r\nhelloXX0\r\n\r\n`, /chunk not followed by CRLF/);
    refuses(`${chunked}5\r\nhello\n0\r\n\r\n`, /chunk not followed by CRLF/);
  });

  it("refuses a chunk size line longer than 1 KiB without its LF", () => {
    refuses(
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;${"e".repeat(1100)}`,
      /chunk size line too long/,
    );
  });

  it("refuses a bare LF in the trailers", () => {
    const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n";
    refuses(`${chunked}A: b\n\r\n`, /bare LF in trailers/);
    refuses(`${chunked}A: b\rc\r\n\r\n`, /bare LF in trailers/);
    refuses(`${chunked}\n`, /bare LF in trailers/);
  });

  it("delivers a response followed by stray bytes in the same read, once, and marks the connection spent", () => {
    for (const input of [
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokX",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n\r\n",
    ]) {
      const r = parse(input);
      assert.deepEqual(r.order, ["head", "body", "end"], input);
      assert.equal(r.body, "ok");
      assert.equal(r.ends, 1);
      assert.equal(r.parser.keepAlive, false, input);
    }
  });

  it("refuses bytes fed after the end was announced, without announcing it again", () => {
    refuses(["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", "HTTP/1.1 200 OK\r\n"], /data after the end/);
    const r = parse("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert.throws(() => r.parser.feed(Buffer.from("X")), /data after the end/);
    assert.equal(r.ends, 1);
  });

  it("refuses a head larger than the limit, complete or not, and accepts one at the limit", () => {
    const head = (bytes: number) => {
      const start = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx: ";
      return `${start}${"a".repeat(bytes - start.length)}`;
    };
    assert.equal(head(200).length, 200);
    refuses(`${head(201)}\r\n\r\n`, /response headers too large/, { maxHeadBytes: 200 });
    refuses(head(201), /response headers too large/, { maxHeadBytes: 200 });
    refuses([head(150), "a".repeat(51)], /response headers too large/, { maxHeadBytes: 200 });
    assert.equal(parse(`${head(200)}\r\n\r\n`, { maxHeadBytes: 200 }).ends, 1);
    assert.equal(parse(head(200), { maxHeadBytes: 200 }).heads.length, 0, "still waiting, no error");
  });

  it("refuses trailers larger than the head limit", () => {
    refuses(
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\nx: ${"a".repeat(300)}`,
      /response trailers too large/,
      { maxHeadBytes: 200 },
    );
  });

  it("refuses a status below 100 and malformed status lines", () => {
    refuses("HTTP/1.1 099 Low\r\n\r\n", /invalid status 99/);
    refuses("HTTP/1.1 000 Zero\r\n\r\n", /invalid status 0/);
    for (const line of [
      "HTTP/1.1 20 OK",
      "HTTP/1.1 2000 OK",
      "HTTP/1.1 200OK",
      "HTTP/2 200 OK",
      "HTTP/1.2 200 OK",
      "http/1.1 200 OK",
      "HTTP/1.1  200 OK",
      "ICY 200 OK",
      "",
    ]) {
      refuses(`${line}\r\ncontent-length: 0\r\n\r\n`, /malformed status line/);
    }
  });
});

// --- property: where the bytes are split does not change what is parsed ---------------------------

interface Generated {
  readonly bytes: Buffer;
  readonly head: boolean;
  readonly closeDelimited: boolean;
}

const tokenChar = fc.constantFrom(
  ..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
);
const headerName = fc
  .string({ unit: tokenChar, minLength: 1, maxLength: 12 })
  .filter((n) => !["content-length", "transfer-encoding", "connection"].includes(n.toLowerCase()));
// Visible ASCII, SP and HTAB inside, never at the ends (they would be trimmed).
const valueChar = fc.constantFrom(...' \tabcXYZ019:;,="/()<>@[]{}~!'.split(""));
const headerValue = fc
  .string({ unit: valueChar, maxLength: 20 })
  .map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ""));
const body = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));

const generatedResponse: fc.Arbitrary<Generated> = fc
  .record({
    interim: fc.constantFrom(
      "",
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n",
    ),
    version: fc.constantFrom("1.1", "1.0"),
    status: fc.constantFrom(200, 201, 204, 304, 404, 500, 503),
    headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 }),
    framing: fc.constantFrom("content-length", "chunked", "close", "head"),
    body,
    cuts: fc.array(fc.nat({ max: 600 }), { maxLength: 5 }),
    extension: fc.constantFrom("", ";a=b", ' ; name="v"'),
    trailers: fc.constantFrom("", "x-checksum: 1\r\n", "a: b\r\nc:\r\n"),
    keepAliveHint: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
  })
  .map((g) => {
    let head = `${g.interim}HTTP/${g.version} ${g.status} Reason\r\n`;
    for (const [name, value] of g.headers) head += `${name}: ${value}\r\n`;
    if (g.keepAliveHint !== undefined) head += `Keep-Alive: timeout=${g.keepAliveHint}\r\n`;
    const bodiless = g.status === 204 || g.status === 304 || g.framing === "head";
    let payload = Buffer.alloc(0);
    if (g.framing === "content-length" || g.framing === "head") {
      head += `Content-Length: ${g.body.length}\r\n`;
      if (!bodiless) payload = g.body;
    } else if (g.framing === "chunked") {
      head += "Transfer-Encoding: chunked\r\n";
      if (!bodiless) {
        const cuts = [...new Set(g.cuts.map((c) => c % (g.body.length + 1)))].sort((a, b) => a - b);
        const parts: Buffer[] = [];
        let from = 0;
        for (const cut of [...cuts, g.body.length]) {
          if (cut > from) {
            parts.push(Buffer.from(`${(cut - from).toString(16)}${g.extension}\r\n`, "latin1"));
            parts.push(g.body.subarray(from, cut), Buffer.from("\r\n"));
          }
          from = cut;
        }
        parts.push(Buffer.from(`0${g.extension}\r\n${g.trailers}\r\n`, "latin1"));
        payload = Buffer.concat(parts);
      }
    } else if (!bodiless) payload = g.body;
    return {
      bytes: Buffer.concat([Buffer.from(`${head}\r\n`, "latin1"), payload]),
      head: g.framing === "head",
      closeDelimited: g.framing === "close" && !bodiless,
    };
  });

function splitAt(bytes: Buffer, points: readonly number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    parts.push(bytes.subarray(from, cut)); // empty parts included on purpose
    from = cut;
  }
  return parts;
}

function summary(r: Parsed) {
  return { heads: r.heads, body: r.body, ends: r.ends, order: r.order, keepAlive: r.parser.keepAlive };
}

describe("response parser: split invariance", () => {
  it("parses a response split at arbitrary points exactly as the whole response", () => {
    fc.assert(
      fc.property(
        generatedResponse,
        fc.array(fc.nat({ max: 4000 }), { maxLength: 8 }),
        (generated, points) => {
          const options = { head: generated.head, finish: generated.closeDelimited };
          const whole = parse([generated.bytes], options);
          assert.equal(whole.heads.length, 1);
          assert.equal(whole.ends, 1);
          const pieces = splitAt(generated.bytes, points).filter((p) => p.length > 0);
          assert.deepEqual(summary(parse(pieces, options)), summary(whole));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("parses a response fed one byte at a time exactly as the whole response", () => {
    const text =
      "HTTP/1.1 100 Continue\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=7\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n" +
      "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n";
    const bytes = Buffer.from(text, "latin1");
    const whole = parse([bytes]);
    const pieces = [...bytes].map((b) => Buffer.from([b]));
    assert.deepEqual(summary(parse(pieces)), summary(whole));
    assert.equal(whole.body, "abc0123456789abcdef");
    assert.equal(whole.heads[0]?.keepAliveTimeoutMs, 7000);
  });
});
