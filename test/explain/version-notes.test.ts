import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ProxyFacts, RouteContext } from "../../src/explain/context.js";
import { ISTIO_VERSION_PATH, parseIstioVersion, versionNotes } from "../../src/explain/version-notes.js";
import { routeContext, withAction, withCluster } from "./diagnoses-context.js";

const notes = (ctx: RouteContext, istioVersion?: string, kind: ProxyFacts["kind"] = "gateway") =>
  versionNotes({ kind, ...(istioVersion === undefined ? {} : { istioVersion }) }, ctx);
const ids = (ctx: RouteContext, istioVersion?: string, kind?: ProxyFacts["kind"]) =>
  notes(ctx, istioVersion, kind).map((f) => f.id);
const PREVIOUS_HOSTS = {
  name: "envoy.retry_host_predicates.previous_hosts",
  typedConfig: {
    "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
  },
};

describe("parseIstioVersion", () => {
  it("reads releases, pre-releases and builds without a patch, and refuses anything else", () => {
    assert.deepEqual(parseIstioVersion("1.30.0"), { major: 1, minor: 30, patch: 0 });
    assert.deepEqual(parseIstioVersion("1.31.0-rc.0"), { major: 1, minor: 31, patch: 0 });
    assert.deepEqual(parseIstioVersion("1.30-dev"), { major: 1, minor: 30 });
    assert.equal(parseIstioVersion("binary-1.0"), undefined);
    assert.equal(parseIstioVersion(undefined), undefined);
  });
});

describe("versionNotes", () => {
  it("warns of the 1.30.0 ring that is not rebuilt on scale-up, as a caveat, for RING_HASH routes only", () => {
    const [f] = notes(routeContext("header-hash"), "1.30.0");
    assert.equal(f?.id, "ring-not-rebuilt-1.30.0");
    assert.equal(f?.severity, "caveat");
    assert.equal(f?.source, "https://github.com/istio/istio/issues/60312");
    assert.deepEqual(f?.evidence[0], { path: ISTIO_VERSION_PATH, value: "1.30.0" });
    assert.match(f?.fix ?? "", /coalesce_lb_rebuilds_on_batch_update": "false"/);
    assert.deepEqual(
      ids(routeContext("header-hash"), "1.30"),
      [],
      "no patch: a dev build or the emulated minor",
    );
    assert.deepEqual(ids(routeContext("header-hash"), "1.30.1"), []);
    assert.deepEqual(ids(routeContext("maglev"), "1.30.0"), []);
    const unhashed = withAction(routeContext("header-hash"), ({ hashPolicy: _, ...a }) => a);
    assert.deepEqual(ids(unhashed, "1.30.0"), [], "a route that hashes nothing is random anyway");
  });

  it("explains a waypoint route without hash policy before 1.31, and not from 1.31", () => {
    const ctx = withAction(routeContext("header-hash"), ({ hashPolicy: _, ...a }) => a);
    const [f] = notes(ctx, "1.29.2", "waypoint");
    assert.equal(f?.id, "waypoint-hash-policy-before-1.31");
    assert.equal(f?.source, "https://github.com/istio/istio/issues/61045");
    assert.deepEqual(ids(ctx, "1.31.0", "waypoint"), []);
    assert.deepEqual(ids(ctx, "1.29.2", "gateway"), []);
  });

  it("notes that retries leave the hashed host before 1.23, and not from 1.23", () => {
    const ctx = withAction(routeContext("header-hash"), (a) => ({
      ...a,
      retryPolicy: { ...(a.retryPolicy as object), retryHostPredicate: [PREVIOUS_HOSTS] },
    }));
    const [f] = notes(ctx, "1.22.3");
    assert.equal(f?.id, "retry-previous-hosts-before-1.23");
    assert.equal(f?.source, "https://github.com/istio/istio/issues/50756");
    assert.deepEqual(ids(ctx, "1.23.0"), []);
    assert.deepEqual(ids(routeContext("header-hash"), "1.22.3"), [], "no predicate, nothing to note");
  });

  it("notes that the generated cookie has no attributes before 1.28, and not from 1.28", () => {
    const [f] = notes(routeContext(), "1.27.2");
    assert.equal(f?.id, "cookie-attributes-before-1.28");
    assert.equal(f?.source, "https://github.com/istio/istio/pull/57735");
    assert.match(f?.fix ?? "", /name: SameSite, value: Lax/);
    assert.deepEqual(ids(routeContext(), "1.28.0"), []);
    assert.deepEqual(ids(routeContext("header-hash"), "1.27.2"), [], "no cookie");
  });

  it("notes that passive cookies (no ttl) need 1.20, and not from 1.20", () => {
    const found = notes(routeContext(), "1.19.5").find((f) => f.id === "passive-cookie-before-1.20");
    assert.match(found?.message ?? "", /requires httpCookie\.ttl/);
    assert.equal(found?.source, "https://github.com/istio/istio/pull/46973");
    const passive = withAction(routeContext(), (a) => ({ ...a, hashPolicy: [{ cookie: { name: "sid" } }] }));
    assert.match(notes(passive, "1.19.5")[0]?.message ?? "", /did not come from a DestinationRule/);
    assert.ok(!ids(routeContext(), "1.20.0").includes("passive-cookie-before-1.20"));
  });

  it("says once that the version is unknown, and only on a route whose behaviour depends on it", () => {
    const [f, ...rest] = notes(routeContext("header-hash"));
    assert.equal(f?.id, "istio-version-unknown");
    assert.equal(f?.severity, "note");
    assert.deepEqual(rest, []);
    assert.match(
      notes(routeContext(), "binary-1.0")[0]?.message ?? "",
      /"binary-1\.0", which is not a release/,
    );
    const leastRequest = withCluster(routeContext(), (c) => ({ ...c, lbPolicy: "LEAST_REQUEST" }));
    assert.deepEqual(ids(leastRequest), []);
    assert.deepEqual(ids(routeContext("persistent-session"), "1.17.0"), []);
  });
});
