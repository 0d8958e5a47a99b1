import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { SessionAffinityError } from "../../src/errors.js";
import { translate } from "../../src/istiod/index.js";
import {
  dumpBootstrapNode,
  dumpClusters,
  dumpEndpointConfigs,
  dumpListeners,
  dumpRouteConfigs,
  dumpSecrets,
  isClusterStatuses,
  protoJson,
  readConfigDump,
  section,
  toClusterStatuses,
  toConfigDump,
} from "../../src/proxy-config/config-dump.js";
import { clustersTable } from "../../src/proxy-config/tables.js";
import type { XdsSnapshot } from "../../src/xds/snapshot.js";
import { runCli } from "../helpers/cli.js";
import { walkthroughInput } from "../istiod/walkthrough-input.js";

const admin = (kind: string) => `type.googleapis.com/envoy.admin.v3.${kind}`;
const GATEWAY = new URL("../fixtures/proxy-config/gateway/config_dump.json", import.meta.url);

/** The snapshot wrapped as Envoy prints a config dump: snake_case, warming and draining states too. */
function envoyDump(s: XdsSnapshot) {
  return {
    configs: [
      {
        "@type": admin("BootstrapConfigDump"),
        bootstrap: { node: { id: "router~1", metadata: { ISTIO_VERSION: "1.30" } } },
      },
      {
        "@type": admin("ClustersConfigDump"),
        static_clusters: [{ cluster: { name: "prometheus_stats", type: "STATIC" } }],
        dynamic_active_clusters: s.clusters.map((cluster) => ({ version_info: "1", cluster })),
        dynamic_warming_clusters: [{ version_info: "2", cluster: { name: "warming" } }],
      },
      {
        "@type": admin("EndpointsConfigDump"),
        dynamic_endpoint_configs: s.endpoints.map((endpoint_config) => ({ endpoint_config })),
      },
      {
        "@type": admin("ListenersConfigDump"),
        dynamic_listeners: [
          ...s.listeners.map((listener) => ({
            name: listener.name,
            active_state: { version_info: "1", listener },
          })),
          { name: "warming_only", warming_state: { version_info: "2", listener: { name: "warming_only" } } },
        ],
      },
      {
        "@type": admin("RoutesConfigDump"),
        dynamic_route_configs: s.routes.map((route_config) => ({ route_config })),
      },
      { "@type": admin("SecretsConfigDump") },
    ],
  };
}

const snapshot = translate(walkthroughInput("maglev"), "1");

function rejects(read: () => unknown, message: string) {
  assert.throws(read, (err: unknown) => {
    assert.ok(err instanceof SessionAffinityError);
    assert.equal(err.code, "ERR_USAGE");
    assert.equal(err.message, message);
    return true;
  });
}

describe("reading a config dump", () => {
  it("extracts active clusters, active listeners, route and endpoint configs and the bootstrap node", () => {
    const dump = toConfigDump(envoyDump(snapshot), "dump");
    assert.deepEqual(
      dumpClusters(dump).map((c) => c.name),
      [...snapshot.clusters.map((c) => c.name), "prometheus_stats"],
    );
    assert.deepEqual(dumpClusters(dump, { includeStatic: false }), snapshot.clusters);
    assert.deepEqual(dumpListeners(dump), snapshot.listeners);
    assert.deepEqual(dumpRouteConfigs(dump), snapshot.routes);
    assert.deepEqual(dumpEndpointConfigs(dump), snapshot.endpoints);
    assert.equal(dumpBootstrapNode(dump).id, "router~1");
    assert.deepEqual(dumpSecrets(dump), { active: [], warming: [] });
  });

  it("gives Envoy's snake_case and proto3 JSON's camelCase the same lowerCamelCase resources", () => {
    const camel = toConfigDump(JSON.parse(JSON.stringify(protoJson(envoyDump(snapshot)))), "camel");
    const snake = toConfigDump(envoyDump(snapshot), "snake");
    assert.deepEqual(camel.configs, snake.configs);
    const real = readConfigDump(readFileSync(GATEWAY, "utf8"), "gateway");
    const cluster = dumpClusters(real).find(
      (c) => c.name === "outbound|80||session-svc.default.svc.cluster.local",
    );
    assert.deepEqual(cluster?.edsClusterConfig, {
      edsConfig: { ads: {}, initialFetchTimeout: "0s", resourceApiVersion: "V3" },
      serviceName: "outbound|80||session-svc.default.svc.cluster.local",
    });
    assert.deepEqual(cluster?.ringHashLbConfig, { minimumRingSize: "1024" });
  });

  it("keeps map keys and Struct contents as data, sorted as proto JSON prints maps", () => {
    const normalised = protoJson({
      bootstrap: { node: { metadata: { ISTIO_VERSION: "1", LABELS: { pod_template_hash: "x" } } } },
      metadata: { filter_metadata: { istio: { services: [], config: "c", default_original_port: 80 } } },
      typed_per_filter_config: {
        "envoy.filters.http.stateful_session": { "@type": "t", stateful_session: { session_state: {} } },
      },
      typed_config: {
        "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
        type_url: "u",
        value: { some_key: 1 },
      },
    });
    assert.deepEqual(normalised, {
      bootstrap: { node: { metadata: { ISTIO_VERSION: "1", LABELS: { pod_template_hash: "x" } } } },
      metadata: { filterMetadata: { istio: { config: "c", default_original_port: 80, services: [] } } },
      typedPerFilterConfig: {
        "envoy.filters.http.stateful_session": { "@type": "t", statefulSession: { sessionState: {} } },
      },
      typedConfig: {
        "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
        typeUrl: "u",
        value: { some_key: 1 },
      },
    });
    const istio = (normalised as { metadata: { filterMetadata: { istio: object } } }).metadata.filterMetadata
      .istio;
    assert.deepEqual(Object.keys(istio), ["config", "default_original_port", "services"]);
  });

  it("takes the last section of a type, as istioctl does", () => {
    const dump = toConfigDump(
      {
        configs: [
          { "@type": admin("ClustersConfigDump"), static_clusters: [{ cluster: { name: "first" } }] },
          { "@type": admin("ClustersConfigDump"), static_clusters: [{ cluster: { name: "second" } }] },
        ],
      },
      "dump",
    );
    assert.deepEqual(
      dumpClusters(dump).map((c) => c.name),
      ["second"],
    );
  });

  it("recognises a /clusters?format=json answer, and an empty one", () => {
    assert.ok(isClusterStatuses({ cluster_statuses: [] }));
    assert.ok(isClusterStatuses({}));
    assert.ok(!isClusterStatuses({ configs: [] }));
    assert.ok(!isClusterStatuses([{ name: "legacy" }]));
    const statuses = toClusterStatuses({ cluster_statuses: [{ name: "c", host_statuses: [] }] }, "clusters");
    assert.deepEqual(statuses, { clusterStatuses: [{ name: "c", hostStatuses: [] }] });
    rejects(
      () => toClusterStatuses([], "clusters"),
      'clusters: not an Envoy /clusters?format=json answer: expected an object with "cluster_statuses"',
    );
  });
});

describe("bad input gets one line naming what is wrong", () => {
  it("text that is not JSON", () => {
    rejects(
      () => readConfigDump("nope", "--file x"),
      `--file x: not JSON: Unexpected token 'o', "nope" is not valid JSON`,
    );
  });

  it("JSON that is not a config dump", () => {
    rejects(
      () => toConfigDump([], "d"),
      'd: not an Envoy config dump: expected an object with "configs", got a list',
    );
    rejects(
      () => toConfigDump("x", "d"),
      'd: not an Envoy config dump: expected an object with "configs", got a string',
    );
    rejects(
      () => toConfigDump({ items: [] }, "d"),
      'd: not an Envoy config dump: no "configs" list (fields: items)',
    );
    rejects(
      () => toConfigDump({ configs: {} }, "d"),
      'd: not an Envoy config dump: "configs" is an object, not a list',
    );
    rejects(
      () => toConfigDump({ configs: [1] }, "d"),
      "d: not an Envoy config dump: configs[0] is a number, not an object",
    );
    rejects(
      () => toConfigDump({ configs: [{}] }, "d"),
      'd: not an Envoy config dump: configs[0] has no "@type"',
    );
  });

  it("a dump without the section asked for names the missing configuration type; no EDS means no endpoints", () => {
    const dump = toConfigDump({ configs: [{ "@type": admin("BootstrapConfigDump") }] }, "d");
    rejects(
      () => dumpClusters(dump),
      `d: config dump has no configuration type ${admin("ClustersConfigDump")}`,
    );
    rejects(
      () => section(dump, "routes"),
      `d: config dump has no configuration type ${admin("RoutesConfigDump")}`,
    );
    rejects(
      () => dumpListeners(dump),
      `d: listener dump: config dump has no configuration type ${admin("ListenersConfigDump")}`,
    );
    assert.equal(dumpEndpointConfigs(dump), undefined);
    const empty = toConfigDump({ configs: [{ "@type": admin("ClustersConfigDump") }] }, "d");
    rejects(() => clustersTable(empty), "d: no clusters found");
  });
});

describe("session-affinity proxy-config --file", () => {
  it("prints a saved dump's tables, reads stdin, and prints `all -o json` as the file was", async () => {
    const file = GATEWAY.pathname;
    const clusters = await runCli(["proxy-config", "clusters", "--file", file, "--subset", "v1"]);
    assert.equal(clusters.code, 0, clusters.stderr);
    assert.equal(
      clusters.stdout,
      [
        "SERVICE FQDN                                                PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE",
        "outbound_.80_.v1_.session-svc.default.svc.cluster.local     -        -          -             EDS      session.default",
        "session-svc.default.svc.cluster.local                       80       v1         outbound      EDS      session.default",
        "",
      ].join("\n"),
    );
    const stdin = await runCli(["proxy-config", "r", "-f", "-", "--name", "http.8080"], {
      input: readFileSync(file, "utf8"),
    });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal(stdin.stdout.split("\n").length, 5);
    const raw = await runCli(["proxy-config", "all", "-f", file, "-o", "json"]);
    assert.equal(raw.stdout, `${readFileSync(file, "utf8")}\n`);
  });

  it("usage and input errors exit 2 with one line", async () => {
    const cases: [string[], string][] = [
      [["proxy-config"], "proxy-config: name a type, e.g. proxy-config clusters"],
      [
        ["proxy-config", "secrets", "-f", "x"],
        'proxy-config: unknown type "secrets" (clusters, listeners, routes, endpoints, eds, all)',
      ],
      [["proxy-config", "routes", "--fqdn", "a", "-f", "x"], "proxy-config: routes: unknown flag --fqdn"],
      [
        ["proxy-config", "clusters", "-o", "yaml", "-f", "x"],
        'proxy-config: output format "yaml" not supported (short, json)',
      ],
      [
        ["proxy-config", "clusters", "-f", "/nonexistent/dump.json"],
        "proxy-config: --file /nonexistent/dump.json: ENOENT: no such file or directory, open '/nonexistent/dump.json'",
      ],
      [
        ["proxy-config", "clusters", "-f", "-"],
        '--file -: not an Envoy config dump: no "configs" list (fields: cluster_statuses)',
      ],
    ];
    const results = await Promise.all(
      cases.map(([args]) => runCli(args, { input: '{"cluster_statuses": []}' })),
    );
    results.forEach((r, i) => {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `session-affinity: ${cases[i]?.[1]}\n`);
      assert.equal(r.stdout, "");
    });
  });
});
