import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { requestTarget } from "../../../src/envoy/downstream/request-target.js";
import { requestView } from "../../../src/envoy/downstream/request-view.js";

// Envoy's HTTP/1 codec (codec_impl.cc handlePath, utility.cc Utility::Url::initialize over
// http-parser's URL parser) with allow_absolute_url, the connection manager's default.
describe("the request target, as Envoy's HTTP/1 codec takes it apart", () => {
  it("keeps an origin-form target, and `*` for OPTIONS only", () => {
    assert.deepEqual(requestTarget("GET", "/user?x=1"), { kind: "path", path: "/user?x=1" });
    assert.deepEqual(requestTarget("OPTIONS", "*"), { kind: "path", path: "*" });
    assert.deepEqual(requestTarget("GET", "*"), { kind: "invalid" });
    assert.deepEqual(requestTarget("options", "*"), { kind: "invalid" }, "methods are case-sensitive");
  });

  it("splits an absolute URL into authority (host and port) and path", () => {
    assert.deepEqual(requestTarget("GET", "http://example.com:8080/a/b?x=1"), {
      kind: "path",
      path: "/a/b?x=1",
      authority: "example.com:8080",
    });
    assert.deepEqual(requestTarget("GET", "HTTPS://example.com"), {
      kind: "path",
      path: "/",
      authority: "example.com",
    });
    assert.deepEqual(requestTarget("GET", "http://[::1]:80/x"), {
      kind: "path",
      path: "/x",
      authority: "[::1]:80",
    });
  });

  it("leaves the userinfo out of the authority", () => {
    assert.deepEqual(requestTarget("GET", "http://user:pw@example.com/x"), {
      kind: "path",
      path: "/x",
      authority: "example.com",
    });
  });

  it("keeps what follows the authority as the path, even when it does not start with `/`", () => {
    assert.deepEqual(requestTarget("GET", "http://example.com?x"), {
      kind: "path",
      path: "?x",
      authority: "example.com",
    });
  });

  it("refuses targets the URL parser or the scheme check refuses", () => {
    for (const target of [
      "ftp://example.com/x",
      "h2c://example.com/x",
      "http:/x",
      "http:///x",
      "http://",
      "http://example.com:/x",
      "http://example.com:65536/x",
      "http://a@b@example.com/x",
      "http://exa mple.com/x",
      "http://[::1/x",
      "http://[not-ip]/x",
      "http://example.com#f",
      "http://ex<ample.com/x",
      "example.com/x",
      "user",
      "",
    ])
      assert.deepEqual(requestTarget("GET", target), { kind: "invalid" }, target);
  });
});

describe("the refusals of a head before routing, in Envoy's order", () => {
  const view = (raw: string[], method: string, target: string, http11 = true) =>
    requestView(raw, method, target, http11).refusal;

  it("answers a transfer coding other than chunked 501, and chunked in any case not at all", () => {
    for (const coding of ["gzip, chunked", "identity", "chunked, chunked"])
      assert.equal(view(["Host", "x", "Transfer-Encoding", coding], "POST", "/")?.status, 501, coding);
    assert.equal(
      view(["Host", "x", "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked"], "POST", "/")
        ?.status,
      501,
    );
    assert.equal(view(["Host", "x", "Transfer-Encoding", " Chunked "], "POST", "/"), undefined);
  });

  it("answers an HTTP/1.1 head without Host 400 and closes, but not HTTP/1.0 nor an absolute URL", () => {
    assert.deepEqual(view([], "GET", "/"), { status: 400, body: "", flags: "", close: true });
    assert.equal(view([], "GET", "/", false), undefined);
    assert.equal(view([], "GET", "http://example.com/"), undefined);
  });

  it("answers OPTIONS * 404 without closing, an invalid target 400 with a body, and closes", () => {
    assert.deepEqual(view(["Host", "x"], "OPTIONS", "*"), { status: 404, body: "", flags: "" });
    assert.deepEqual(view(["Host", "x"], "GET", "*"), {
      status: 400,
      body: "Bad Request",
      flags: "DPE",
      close: true,
    });
    assert.equal(view(["Host", "x"], "GET", "http://example.com?x")?.status, 404);
  });

  it("answers an unnormalizable path 400 and closes", () => {
    assert.deepEqual(view(["Host", "x"], "GET", "/a%00"), { status: 400, body: "", flags: "", close: true });
  });
});
