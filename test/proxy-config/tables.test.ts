import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { translate } from "../../src/istiod/index.js";
import {
  type ConfigDump,
  readConfigDump,
  toClusterStatuses,
  toConfigDump,
} from "../../src/proxy-config/config-dump.js";
import { edsJson, edsTable, endpointsJson, endpointsTable } from "../../src/proxy-config/endpoints.js";
import { goLess, goSortSlice, tabwrite } from "../../src/proxy-config/go-text.js";
import { allSummary, bootstrapSummary } from "../../src/proxy-config/summary.js";
import {
  clustersJson,
  clustersTable,
  listenersJson,
  listenersTable,
  parseSubsetKey,
  routesJson,
  routesTable,
} from "../../src/proxy-config/tables.js";
import type { XdsSnapshot } from "../../src/xds/snapshot.js";
import { type Component, walkthroughInput } from "../istiod/walkthrough-input.js";

const FIXTURES = new URL("../fixtures/proxy-config/", import.meta.url);
const fixture = (path: string) => readFileSync(new URL(path, FIXTURES), "utf8");
const dumpFixture = (path: string) => readConfigDump(fixture(path), path);
/** A table as lines; quoted, so the trailing padding of the last column is visible. */
const table = (...lines: string[]) => lines.map((l) => `${l}\n`).join("");
/** Inside the istioctl fixture's secrets' validity: default expired in 2023, ROOTCA valid until 2033. */
const NOW = Date.parse("2026-01-01T00:00:00Z");

const admin = (kind: string) => `type.googleapis.com/envoy.admin.v3.${kind}`;

/** The local mesh's xDS snapshot as an Envoy ConfigDump (proto3 JSON names), as /config_dump serves it. */
function wrap(snapshot: XdsSnapshot): ConfigDump {
  const version = { versionInfo: snapshot.version, lastUpdated: "2026-01-01T00:00:00.000Z" };
  const node = {
    id: "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local",
    metadata: { ISTIO_VERSION: snapshot.istioVersion },
    userAgentBuildVersion: {
      version: { majorNumber: 1, minorNumber: 36, patch: 2 },
      metadata: { "revision.status": "Clean", "build.type": "RELEASE", "ssl.version": "BoringSSL" },
    },
  };
  return toConfigDump(
    {
      configs: [
        { "@type": admin("BootstrapConfigDump"), bootstrap: { node } },
        {
          "@type": admin("ClustersConfigDump"),
          dynamicActiveClusters: snapshot.clusters.map((cluster) => ({ ...version, cluster })),
        },
        {
          "@type": admin("EndpointsConfigDump"),
          dynamicEndpointConfigs: snapshot.endpoints.map((endpointConfig) => ({ endpointConfig })),
        },
        {
          "@type": admin("ListenersConfigDump"),
          dynamicListeners: snapshot.listeners.map((listener) => ({
            name: listener.name,
            activeState: { ...version, listener },
          })),
        },
        {
          "@type": admin("RoutesConfigDump"),
          dynamicRouteConfigs: snapshot.routes.map((routeConfig) => ({ ...version, routeConfig })),
        },
        { "@type": admin("SecretsConfigDump") },
      ],
    },
    "local mesh",
  );
}

const walkthrough = (component?: Component) => wrap(translate(walkthroughInput(component), "1"));

describe("istioctl's own golden outputs", () => {
  it("proxy-config all prints istioctl's summary of its test dump byte for byte, with and without headers", () => {
    const dump = dumpFixture("istioctl/all/config_dump.json.txt");
    assert.deepEqual(allSummary(dump, { now: NOW }), { text: fixture("istioctl/all/summary.txt") });
    assert.deepEqual(allSummary(dump, { now: NOW, withHeaders: true }), {
      text: fixture("istioctl/all/summary_withheaders.txt"),
    });
  });

  it("eds prints istioctl's table and -o json, unfiltered and with --port 8080", () => {
    const dump = dumpFixture("istioctl/eds/configdump.json.txt");
    assert.equal(edsTable(dump), fixture("istioctl/eds/emptyfilter_output.txt"));
    assert.equal(edsTable(dump, { port: 8080 }), fixture("istioctl/eds/portfilter_output.txt"));
    assert.equal(edsJson(dump), fixture("istioctl/eds/emptyfilter_output.json.txt"));
    assert.equal(edsJson(dump, { port: 8080 }), fixture("istioctl/eds/portfilter_output.json.txt"));
  });

  it("routes prints istioctl's tables for its gateway dumps (Istio and Kubernetes Gateway API)", () => {
    for (const name of [
      "empty-gateway",
      "istio-gateway-http-route-prefix",
      "k8s-gateway-http-route-path-prefix",
    ]) {
      const dump = dumpFixture(`istioctl/routes/${name}/configdump.json.txt`);
      assert.equal(routesTable(dump), fixture(`istioctl/routes/${name}/output.txt`), name);
    }
  });

  it("the bootstrap summary gives Istio, proxy SHA and Envoy versions as istioctl does", () => {
    const dump = dumpFixture("istioctl/bootstrap/configdump.json.txt");
    assert.equal(bootstrapSummary(dump), fixture("istioctl/bootstrap/versionsummary.txt"));
  });
});

describe("the local mesh's gateway", () => {
  it("clusters name the DestinationRule that configured them, and none once the component deletes it", () => {
    const withRule = table(
      "SERVICE FQDN                              PORT     SUBSET     DIRECTION     TYPE       DESTINATION RULE",
      "BlackHoleCluster                          -        -          -             STATIC     ",
      "session-svc.default.svc.cluster.local     80       -          outbound      EDS        session.default",
    );
    for (const component of [undefined, "maglev", "header-hash"] as const) {
      assert.equal(clustersTable(walkthrough(component)), withRule, String(component));
    }
    assert.equal(
      clustersTable(walkthrough("persistent-session")),
      withRule.replace("session.default\n", "\n"),
    );
  });

  it("listeners, routes and endpoints show the walkthrough's one listener, route and three pods", () => {
    const dump = walkthrough();
    assert.equal(
      listenersTable(dump),
      table("ADDRESSES PORT MATCH DESTINATION", "0.0.0.0   8080 ALL   Route: http.8080"),
    );
    assert.equal(
      routesTable(dump),
      table(
        "NAME          VHOST NAME     DOMAINS     MATCH     VIRTUAL SERVICE",
        "http.8080     *:80           *           /*        session.default",
      ),
    );
    const cluster = "outbound|80||session-svc.default.svc.cluster.local";
    assert.equal(
      endpointsTable(dump),
      table(
        "ENDPOINT            STATUS      OUTLIER CHECK     CLUSTER",
        `127.0.0.11:8080     HEALTHY     OK                ${cluster}`,
        `127.0.0.12:8080     HEALTHY     OK                ${cluster}`,
        `127.0.0.13:8080     HEALTHY     OK                ${cluster}`,
      ),
    );
    assert.equal(
      edsTable(dump),
      table(
        "NAME                STATUS      LOCALITY                 CLUSTER",
        `127.0.0.11:8080     HEALTHY     eu-west-1/eu-west-1a     ${cluster}`,
        `127.0.0.12:8080     HEALTHY     eu-west-1/eu-west-1b     ${cluster}`,
        `127.0.0.13:8080     HEALTHY     eu-west-1/eu-west-1c     ${cluster}`,
      ),
    );
  });

  it("all names every row by kind and says there are no secrets", () => {
    const { text, error } = allSummary(walkthrough(), { now: NOW });
    assert.equal(error, undefined);
    assert.match(text, /^Istio Version: 1\.[\d.]+\nEnvoy Version: 1\.36\.2\/Clean\/RELEASE\/BoringSSL\n\n/);
    assert.ok(text.includes("\ncluster/outbound|80||session-svc.default.svc.cluster.local     session-svc"));
    assert.ok(text.includes("\nlistener/0.0.0.0_8080 0.0.0.0   8080 ALL   Route: http.8080\n"));
    assert.ok(text.includes("\nroute/http.8080     *:80 "));
    assert.ok(text.includes("\n\nNo active or warming secrets found.\n\n"));
    assert.ok(
      text.endsWith(
        "endpoint/127.0.0.13:8080     HEALTHY     eu-west-1/eu-west-1c     outbound|80||session-svc.default.svc.cluster.local\n",
      ),
    );
  });

  it("-o json prints each resource as its message: no @type, 4-space indent, HTML characters escaped", () => {
    const dump = walkthrough();
    const clusters = JSON.parse(clustersJson(dump, { fqdn: "session-svc" })) as { name: string }[];
    assert.deepEqual(
      clusters.map((c) => c.name),
      ["outbound|80||session-svc.default.svc.cluster.local"],
    );
    assert.ok(!("@type" in (clusters[0] ?? {})));
    assert.match(clustersJson(dump), /^\[\n {4}\{\n {8}"name": "BlackHoleCluster",\n/);
    assert.equal(clustersJson(dump, { port: 443 }), "[]\n");
    assert.equal(JSON.parse(listenersJson(dump))[0].name, "0.0.0.0_8080");
    assert.equal(JSON.parse(routesJson(dump, { name: "nope" })).length, 0);
    const escaped = toConfigDump(
      {
        configs: [
          {
            "@type": admin("RoutesConfigDump"),
            dynamicRouteConfigs: [{ routeConfig: { name: "a<b>&c", virtualHosts: [] } }],
          },
        ],
      },
      "t",
    );
    assert.equal(
      routesJson(escaped),
      '[\n    {\n        "name": "a\\u003cb\\u003e\\u0026c",\n        "virtualHosts": []\n    }\n]\n',
    );
  });
});

describe("a real istio-proxy gateway's dump (Envoy's snake_case)", () => {
  const dump = dumpFixture("gateway/config_dump.json");
  const clusters = toClusterStatuses(JSON.parse(fixture("gateway/clusters.json")), "clusters.json");

  it("clusters: bootstrap and xDS clusters sorted by host, subset, port, direction; SRV names unparsed", () => {
    assert.equal(
      clustersTable(dump),
      table(
        "SERVICE FQDN                                                PORT      SUBSET     DIRECTION     TYPE       DESTINATION RULE",
        "BlackHoleCluster                                            -         -          -             STATIC     ",
        "agent                                                       -         -          -             STATIC     ",
        "istio-ingressgateway.istio-system.svc.cluster.local         15021     -          outbound      EDS        ",
        "outbound_.80_.v1_.session-svc.default.svc.cluster.local     -         -          -             EDS        session.default",
        "prometheus_stats                                            -         -          -             STATIC     ",
        "sds-grpc                                                    -         -          -             STATIC     ",
        "session-svc.default.svc.cluster.local                       80        -          outbound      EDS        session.default",
        "session-svc.default.svc.cluster.local                       80        v1         outbound      EDS        session.default",
        "xds-grpc                                                    -         -          -             STATIC     ",
      ),
    );
  });

  it("listeners: one row per filter chain, chains by destination descending, BlackHoleCluster TCP ignored", () => {
    assert.equal(
      listenersTable(dump),
      table(
        "ADDRESSES PORT  MATCH                                  DESTINATION",
        "0.0.0.0   8080  ALL                                    Route: http.8080",
        "0.0.0.0   8443  SNI: session.example.com               Route: https.443.https.session-gateway.default",
        "0.0.0.0   8443  Addr: 10.244.0.0/16:8443               Non-HTTP/Non-TCP",
        "0.0.0.0   8443  Trans: tls; App: TCP TLS; Addr: *:8443 Cluster: outbound|15021||istio-ingressgateway.istio-system.svc.cluster.local",
        "0.0.0.0   15021 ALL                                    Inline Route: /healthz/ready*",
        "0.0.0.0   15090 ALL                                    Inline Route: /stats/prometheus*",
      ),
    );
  });

  it("routes: domains shortened, regex and path matches, 404 hosts, unnamed static routes last", () => {
    assert.equal(
      routesTable(dump),
      table(
        "NAME                                        VHOST NAME                  DOMAINS                                          MATCH                  VIRTUAL SERVICE",
        "https.443.https.session-gateway.default     session.example.com:443     session.example.com                              /v1/*                  session-v1.default",
        "https.443.https.session-gateway.default     session.example.com:443     session.example.com                              regex /user/[0-9]+     session.default",
        "http.8080                                   *:80                        *                                                /healthz               session.default",
        "http.8080                                   *:80                        *                                                /*                     session.default",
        "http.8080                                   blackhole:80                blackhole.example.com, 10.96.0.1 + 1 more...     /*                     404",
        "                                            backend                     *                                                /stats/prometheus*     ",
        "                                            backend                     *                                                /healthz/ready*        ",
      ),
    );
  });

  it("eds: each host with its EDS health and locality, configs sorted like clusters", () => {
    assert.equal(
      edsTable(dump),
      table(
        "NAME                      STATUS        LOCALITY                        CLUSTER",
        "127.0.0.1:15020           HEALTHY                                       agent",
        "10.244.0.5:15021          HEALTHY       eu-west-1/eu-west-1a            outbound|15021||istio-ingressgateway.istio-system.svc.cluster.local",
        "127.0.0.1:15000           HEALTHY                                       prometheus_stats",
        "10.244.0.21:8080          HEALTHY       eu-west-1/eu-west-1a            outbound|80||session-svc.default.svc.cluster.local",
        "10.244.1.17:8080          UNHEALTHY     eu-west-1/eu-west-1b            outbound|80||session-svc.default.svc.cluster.local",
        "10.244.2.9:8080           HEALTHY       eu-west-1/eu-west-1c/rack-7     outbound|80||session-svc.default.svc.cluster.local",
        "10.244.0.21:8080          HEALTHY       eu-west-1/eu-west-1a            outbound|80|v1|session-svc.default.svc.cluster.local",
        "./etc/istio/proxy/XDS     HEALTHY                                       xds-grpc",
      ),
    );
  });

  it("endpoints: from /clusters an ejected host shows FAILED; from the dump every OUTLIER CHECK is OK", () => {
    assert.equal(
      endpointsTable(clusters),
      table(
        "ENDPOINT                         STATUS        OUTLIER CHECK     CLUSTER",
        "10.244.0.21:8080                 HEALTHY       OK                outbound|80|v1|session-svc.default.svc.cluster.local",
        "10.244.0.21:8080                 HEALTHY       OK                outbound|80||session-svc.default.svc.cluster.local",
        "10.244.1.17:8080                 UNHEALTHY     OK                outbound|80||session-svc.default.svc.cluster.local",
        "10.244.2.9:8080                  HEALTHY       FAILED            outbound|80||session-svc.default.svc.cluster.local",
        "127.0.0.1:15000                  HEALTHY       OK                prometheus_stats",
        "unix://./etc/istio/proxy/XDS     HEALTHY       OK                xds-grpc",
      ),
    );
    const fromDump = endpointsTable(dump);
    assert.ok(
      fromDump.includes("\n10.244.2.9:8080                  HEALTHY       OK                outbound|80||"),
    );
    assert.ok(
      fromDump.includes("\n127.0.0.1:15020                  HEALTHY       OK                agent\n"),
    );
  });

  it("filters select what istioctl's --fqdn, --port, --subset, --direction, --address, --type, --name, --cluster, --status select", () => {
    const rows = (text: string) => text.split("\n").length - 2;
    assert.equal(rows(clustersTable(dump, { fqdn: "session-svc" })), 3);
    assert.equal(rows(clustersTable(dump, { port: 80 })), 2);
    assert.equal(rows(clustersTable(dump, { subset: "v1" })), 2);
    assert.equal(rows(clustersTable(dump, { direction: "outbound", port: 15021 })), 1);
    assert.equal(rows(listenersTable(dump, { port: 8443 })), 3);
    assert.equal(rows(listenersTable(dump, { type: "http+tcp" })), 3);
    assert.equal(rows(listenersTable(dump, { address: "10.0.0.1" })), 0);
    assert.equal(rows(routesTable(dump, { name: "http.8080" })), 3);
    assert.equal(rows(edsTable(dump, { address: "10.244.0.21:8080" })), 2);
    assert.equal(rows(edsTable(dump, { address: "10.244.0.21" })), 0);
    assert.equal(rows(edsTable(dump, { status: "unhealthy" })), 1);
    assert.equal(rows(endpointsTable(clusters, { address: "10.244.0.21" })), 2);
    assert.equal(
      rows(endpointsTable(clusters, { cluster: "OUTBOUND|80||session-svc.default.svc.cluster.local" })),
      3,
    );
    const statuses = JSON.parse(endpointsJson(clusters, { port: 15000 })) as { name: string }[];
    assert.deepEqual(
      statuses.map((s) => s.name),
      ["prometheus_stats"],
    );
    const clas = JSON.parse(edsJson(dump, { status: "UNHEALTHY" })) as {
      endpoints: { lbEndpoints?: unknown[] }[];
    }[];
    assert.deepEqual(
      clas[0]?.endpoints.map((e) => e.lbEndpoints?.length),
      [undefined, 1, undefined],
    );
  });
});

describe("the Go behaviour the output depends on", () => {
  it("parses cluster names as pilot's ParseSubsetKey: direction|port|subset|host and the SRV form", () => {
    assert.deepEqual(parseSubsetKey("outbound|80|v1|a.b.svc.cluster.local"), {
      direction: "outbound",
      port: 80n,
      subset: "v1",
      host: "a.b.svc.cluster.local",
    });
    assert.deepEqual(parseSubsetKey("outbound_.8080_.v2_.a.b"), {
      direction: "outbound",
      port: 8080n,
      subset: "v2",
      host: "a.b",
    });
    assert.deepEqual(parseSubsetKey("inbound|x|s|h|extra"), {
      direction: "inbound",
      port: 0n,
      subset: "s",
      host: "",
    });
    assert.deepEqual(parseSubsetKey("plain"), { direction: "", port: 0n, subset: "", host: "" });
  });

  it("tabwriter pads each column block to its widest cell plus padding, and a tab-less line ends the blocks", () => {
    const opts = { minwidth: 0, padding: 2 };
    assert.equal(tabwrite("a\tbb\tc\nccc\td\n", opts), "a    bb  c\nccc  d\n");
    assert.equal(tabwrite("a\tb\nno tabs\nlonger\tc\n", opts), "a  b\nno tabs\nlonger  c\n");
    assert.equal(tabwrite("é\tx\nab\ty", opts), "é   x\nab  y");
  });

  it("sort.Slice keeps equal elements where Go's pdqsort leaves them and sorts the rest", () => {
    const equal = Array.from({ length: 40 }, (_, i) => i);
    goSortSlice(equal, () => false);
    assert.deepEqual(
      equal,
      Array.from({ length: 40 }, (_, i) => i),
    );
    const random = Array.from({ length: 500 }, (_, i) => ((i + 1) * 48271) % 997);
    goSortSlice(random, (a, b) => a < b);
    assert.deepEqual(
      random,
      [...random].sort((a, b) => a - b),
    );
    const reversed = Array.from({ length: 300 }, (_, i) => 300 - i);
    goSortSlice(reversed, (a, b) => a < b);
    assert.deepEqual(
      reversed,
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
  });

  it("strings compare by code point, as Go compares their UTF-8 bytes", () => {
    assert.ok(goLess("\uffff", "\u{10000}"));
    assert.ok(!goLess("\u{10000}", "\uffff"));
    assert.ok(goLess("B", "a") && goLess("a", "ab") && !goLess("a", "a"));
  });
});
