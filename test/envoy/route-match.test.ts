/**
 * Envoy's route matching, with cases after envoy test/common/router/config_impl_test.cc (TestRoutes'
 * wildcard virtual hosts, prefix wildcards, case sensitivity, header and query parameter matchers) and
 * test/common/http/header_utility_test.cc (invert_match, treat_missing_header_as_empty, present_match).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  findVirtualHost,
  headerMatches,
  pickWeighted,
  type RouteRequest,
  routeMatches,
} from "../../src/envoy/route-match.js";

const req = (path: string, extra: Partial<RouteRequest> = {}): RouteRequest => ({
  method: "GET",
  path,
  authority: "example.com",
  headers: [],
  ...extra,
});

describe("virtual host selection", () => {
  const hosts = [
    { name: "www2", domains: ["lyft.com", "www.lyft.com", "w.lyft.com"] },
    { name: "wildcard", domains: ["*.foo.com", "*-bar.baz.com"] },
    { name: "wildcard2", domains: ["*.baz.com"] },
    { name: "prefix", domains: ["foo.*", "foo.bar.*"] },
    { name: "default", domains: ["*"] },
  ];
  const pick = (authority: string, ignorePort = false) => findVirtualHost(hosts, authority, ignorePort)?.name;

  it("prefers an exact domain, then the longest suffix wildcard, then the longest prefix wildcard, then *", () => {
    assert.equal(pick("www.lyft.com"), "www2");
    assert.equal(pick("bar.foo.com"), "wildcard");
    assert.equal(pick("foo-bar.baz.com"), "wildcard", "*-bar.baz.com is longer than *.baz.com");
    assert.equal(pick("baz.com"), "default");
    assert.equal(pick("foo.bar.com"), "prefix");
    assert.equal(pick("foo.bar.net"), "prefix");
    assert.equal(pick("foo.foo.com"), "wildcard", "suffix wildcards win over prefix wildcards");
    assert.equal(pick("nothing.example"), "default");
  });

  it("never lets a wildcard stand for nothing", () => {
    assert.equal(pick("-bar.baz.com"), "wildcard2");
    assert.equal(pick(".foo.com"), "default");
    assert.equal(pick("foo."), "default");
  });

  it("compares domains without case and drops the port only under ignore_port_in_host_matching", () => {
    assert.equal(pick("WWW.Lyft.COM"), "www2");
    assert.equal(pick("www.lyft.com:8080"), "default");
    assert.equal(pick("www.lyft.com:8080", true), "www2");
    assert.equal(pick("[::1]:80", true), "default");
  });

  it("has no virtual host (Envoy's 404) when nothing matches and there is no *", () => {
    assert.equal(findVirtualHost(hosts.slice(0, 2), "other.example", false), undefined);
  });
});

describe("route matching", () => {
  it("matches prefix and path on the path without its query or fragment, case-sensitive by default", () => {
    assert.ok(routeMatches({ prefix: "/api" }, req("/api/v1?x=/y")));
    assert.ok(!routeMatches({ prefix: "/api?x" }, req("/api?x=1")), "the query is not part of the path");
    assert.ok(routeMatches({ path: "/exact" }, req("/exact?x=1#frag")));
    assert.ok(!routeMatches({ path: "/exact" }, req("/exact/")));
    assert.ok(!routeMatches({ prefix: "/API" }, req("/api")));
    assert.ok(routeMatches({ prefix: "/API", caseSensitive: false }, req("/api")));
    assert.ok(routeMatches({ path: "/API", caseSensitive: false }, req("/api")));
  });

  it("runs safe_regex on the whole path, ignoring case_sensitive", () => {
    assert.ok(routeMatches({ safeRegex: { regex: "/t[io]c" } }, req("/tic")));
    assert.ok(!routeMatches({ safeRegex: { regex: "/t[io]c" } }, req("/tic/toc")));
    assert.ok(routeMatches({ safeRegex: { regex: ".*/\\d{3}$" } }, req("/a/b/123?x=y")));
    assert.ok(!routeMatches({ safeRegex: { regex: "/TIC" }, caseSensitive: false }, req("/tic")));
  });

  it("matches path_separated_prefix at a segment boundary only", () => {
    assert.ok(routeMatches({ pathSeparatedPrefix: "/api" }, req("/api")));
    assert.ok(routeMatches({ pathSeparatedPrefix: "/api" }, req("/api/x")));
    assert.ok(!routeMatches({ pathSeparatedPrefix: "/api" }, req("/apix")));
  });

  it("ANDs header and query parameter matchers with the path", () => {
    const m = {
      prefix: "/",
      headers: [{ name: ":method", stringMatch: { exact: "POST" } }],
      queryParameters: [{ name: "v", stringMatch: { prefix: "2" } }],
    };
    assert.ok(routeMatches(m, req("/?v=2.1", { method: "POST" })));
    assert.ok(!routeMatches(m, req("/?v=2.1")));
    assert.ok(!routeMatches(m, req("/?v=1", { method: "POST" })));
  });

  it("reads the first value of a query parameter, percent-decoded; a bare name has the empty value", () => {
    const q = (name: string, value: string) => ({
      prefix: "/",
      queryParameters: [{ name, stringMatch: { exact: value } }],
    });
    assert.ok(routeMatches(q("a", "x y"), req("/?a=x%20y&a=z")));
    assert.ok(routeMatches(q("flag", ""), req("/?flag")));
    assert.ok(
      routeMatches({ prefix: "/", queryParameters: [{ name: "flag", presentMatch: true }] }, req("/?flag")),
    );
    assert.ok(
      !routeMatches({ prefix: "/", queryParameters: [{ name: "b", presentMatch: true }] }, req("/?a=1")),
    );
  });
});

describe("header matchers", () => {
  const r = (headers: [string, string][]) => req("/", { headers });

  it("join repeated values with a comma before matching", () => {
    assert.ok(
      headerMatches(
        { name: "x-a", stringMatch: { exact: "1,2" } },
        r([
          ["x-a", "1"],
          ["x-a", "2"],
        ]),
      ),
    );
  });

  it("fail on a missing header whatever invert_match says, unless treat_missing_header_as_empty", () => {
    assert.ok(!headerMatches({ name: "x-a", stringMatch: { exact: "1" } }, r([])));
    assert.ok(!headerMatches({ name: "x-a", stringMatch: { exact: "1" }, invertMatch: true }, r([])));
    assert.ok(
      headerMatches(
        { name: "x-a", stringMatch: { exact: "1" }, invertMatch: true, treatMissingHeaderAsEmpty: true },
        r([]),
      ),
    );
    assert.ok(
      headerMatches({ name: "x-a", stringMatch: { exact: "" }, treatMissingHeaderAsEmpty: true }, r([])),
    );
  });

  it("invert a present header's result and a present_match", () => {
    assert.ok(
      !headerMatches({ name: "x-a", stringMatch: { exact: "1" }, invertMatch: true }, r([["x-a", "1"]])),
    );
    assert.ok(
      headerMatches({ name: "x-a", stringMatch: { exact: "1" }, invertMatch: true }, r([["x-a", "2"]])),
    );
    assert.ok(headerMatches({ name: "x-a", presentMatch: true }, r([["x-a", ""]])));
    assert.ok(!headerMatches({ name: "x-a", presentMatch: true, invertMatch: true }, r([["x-a", ""]])));
    assert.ok(headerMatches({ name: "x-a", presentMatch: false }, r([])));
  });

  it("read :authority, :method and :path as the pseudo-headers of the request", () => {
    const request = req("/p?q", { method: "PUT", authority: "Shop.example.com" });
    assert.ok(headerMatches({ name: ":authority", stringMatch: { prefix: "Shop." } }, request));
    assert.ok(headerMatches({ name: ":method", stringMatch: { exact: "PUT" } }, request));
    assert.ok(headerMatches({ name: ":path", stringMatch: { exact: "/p?q" } }, request));
  });

  it("run the other StringMatcher forms with ignore_case", () => {
    const h = r([["x-a", "Hello-World"]]);
    assert.ok(headerMatches({ name: "x-a", stringMatch: { suffix: "-world", ignoreCase: true } }, h));
    assert.ok(headerMatches({ name: "x-a", stringMatch: { contains: "o-W" } }, h));
    assert.ok(!headerMatches({ name: "x-a", stringMatch: { contains: "o-w" } }, h));
  });
});

describe("weighted clusters", () => {
  it("walk the clusters in order with a draw in [0, total)", () => {
    const d = [
      { cluster: "a", weight: 75 },
      { cluster: "b", weight: 25 },
    ];
    assert.equal(
      pickWeighted(d, () => 0),
      "a",
    );
    assert.equal(
      pickWeighted(d, () => 74),
      "a",
    );
    assert.equal(
      pickWeighted(d, () => 75),
      "b",
    );
    assert.equal(
      pickWeighted(d, () => 99),
      "b",
    );
  });
});
