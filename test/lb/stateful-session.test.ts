import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeBase64, encodeBase64 } from "../../src/lb/base64.js";
import {
  cookiePathMatches,
  decodeCookieValue,
  decodeHeaderValue,
  encodeCookieValue,
  encodeHeaderValue,
  overrideHost,
  readSession,
  sessionConfigFromLabels,
  sessionResponseHeaders,
} from "../../src/lb/stateful-session.js";

const pods = [7, 8, 9].map((i) => ({ address: `10.244.0.${i}:8080`, weight: 1 }));

describe("stateful session values", () => {
  it("encodes the cookie as base64 of the proto {address} (fact-sheet example)", () => {
    assert.equal(encodeCookieValue("10.244.0.7:8080"), "Cg8xMC4yNDQuMC43OjgwODA=");
    assert.equal(decodeCookieValue("Cg8xMC4yNDQuMC43OjgwODA="), "10.244.0.7:8080");
  });

  it("still accepts the legacy base64(ip:port) cookie", () => {
    assert.equal(decodeCookieValue(encodeBase64("10.244.0.7:8080")), "10.244.0.7:8080");
  });

  it("ignores an expired cookie and honours an unexpired one (monotonic seconds)", () => {
    const value = encodeCookieValue("10.244.0.7:8080", 100n);
    assert.equal(decodeCookieValue(value, 100n), "10.244.0.7:8080");
    assert.equal(decodeCookieValue(value, 101n), undefined);
  });

  it("treats empty, malformed base64 and a proto without address as no session", () => {
    assert.equal(decodeCookieValue(""), undefined);
    assert.equal(decodeCookieValue("not base64!"), undefined);
    assert.equal(decodeCookieValue("abc"), undefined, "length not a multiple of 4");
    assert.equal(decodeCookieValue(encodeBase64("\x10\x05")), undefined, "expires only");
  });

  it("encodes the header form as plain base64(ip:port)", () => {
    assert.equal(encodeHeaderValue("10.244.0.7:8080"), "MTAuMjQ0LjAuNzo4MDgw");
    assert.equal(decodeHeaderValue("MTAuMjQ0LjAuNzo4MDgw"), "10.244.0.7:8080");
    assert.equal(decodeBase64("MTAuMjQ0LjAuNzo4MDgx"), "10.244.0.7:8081");
  });
});

describe("stateful session routing", () => {
  const config = { kind: "cookie", name: "session", path: "/" } as const;

  it("derives Istio's config from the Service labels", () => {
    assert.deepEqual(sessionConfigFromLabels({ "istio.io/persistent-session": "session" }), config);
    assert.deepEqual(sessionConfigFromLabels({ "istio.io/persistent-session-header": "x-session" }), {
      kind: "header",
      name: "x-session",
    });
    assert.equal(sessionConfigFromLabels({ app: "x" }), undefined);
  });

  it("routes to the encoded endpoint while it is usable, and not on a retry", () => {
    const session = readSession(config, {
      headers: [["cookie", 'session="Cg8xMC4yNDQuMC43OjgwODA="']],
      path: "/x",
    });
    assert.equal(session.address, "10.244.0.7:8080");
    assert.equal(overrideHost(session.address, pods)?.address, "10.244.0.7:8080");
    assert.equal(overrideHost(session.address, pods, true), undefined);
    assert.equal(overrideHost(session.address, pods.slice(1)), undefined, "endpoint gone → load balancer");
  });

  it("issues a new cookie only when the chosen endpoint differs", () => {
    assert.deepEqual(sessionResponseHeaders(config, "10.244.0.7:8080", "10.244.0.7:8080"), []);
    assert.deepEqual(sessionResponseHeaders(config, "10.244.0.7:8080", "10.244.0.8:8080"), [
      ["set-cookie", 'session="Cg8xMC4yNDQuMC44OjgwODA="; Path=/; HttpOnly'],
    ]);
    assert.deepEqual(
      sessionResponseHeaders({ kind: "header", name: "X-Session" }, undefined, "10.244.0.7:8080"),
      [["x-session", "MTAuMjQ0LjAuNzo4MDgw"]],
    );
  });

  it("matches cookie paths as Envoy does", () => {
    assert.equal(cookiePathMatches("/", "/anything"), true);
    assert.equal(cookiePathMatches("/foo/", "/foo/bar"), true);
    assert.equal(cookiePathMatches("/foo/", "/foo"), false);
    assert.equal(cookiePathMatches("/foo", "/foo?x"), true);
    assert.equal(cookiePathMatches("/foo", "/foobar"), false);
  });
});
