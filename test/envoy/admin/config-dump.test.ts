/**
 * /config_dump against Envoy's protos and against the cases of
 * envoy: test/server/admin/config_dump_handler_test.cc, turned into fixtures of the walkthrough's
 * gateway (one listener 0.0.0.0_8080, one route configuration http.8080, the clusters BlackHoleCluster
 * and the session service's EDS cluster with three pods in three zones).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import protobuf from "protobufjs";
import { type ConfigDumpOptions, configDump } from "../../../src/envoy/admin/config-dump.js";
import { MESSAGE_FIELDS, messageFields } from "../../../src/envoy/admin/field-mask.js";
import { istioGatewayIdentity } from "../../../src/envoy/admin/identity.js";
import type { AppliedSnapshot } from "../../../src/envoy/admin/views.js";
import { applySnapshot } from "../../../src/envoy/resource-versions.js";
import { translate } from "../../../src/istiod/index.js";
import type { EnvoyClusterLoadAssignment } from "../../../src/xds/cluster-types.js";
import { checkEnvoyJson, envoyRoot } from "../../helpers/envoy-proto.js";
import { type Component, walkthroughInput } from "../../istiod/walkthrough-input.js";

const T0 = Date.UTC(2026, 6, 1, 11, 59, 0);
const T1 = Date.UTC(2026, 6, 1, 12, 0, 0, 250);
const SESSION = "outbound|80||session-svc.default.svc.cluster.local";
const ADMIN = "type.googleapis.com/envoy.admin.v3.";
/** Istio's own HTTP filter in the gateway's listener: not an Envoy proto. */
const OPAQUE = { opaqueAnyTypes: ["istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig"] };

const identity = istioGatewayIdentity({
  podName: "istio-ingressgateway-5d8f6c7b9d-x2x7q",
  namespace: "istio-system",
  podIp: "10.244.0.7",
  adminPort: 15000,
  startedAt: T0,
  labels: { app: "istio-ingressgateway", istio: "ingressgateway", "pod-template-hash": "5d8f6c7b9d" },
});

function applied(component?: Component): AppliedSnapshot {
  return applySnapshot(undefined, translate(walkthroughInput(component), "1"), T1);
}

type Json = Record<string, unknown>;

/** The configs of a 200, checked against envoy.admin.v3.ConfigDump; fails on an error answer. */
function dump(options: ConfigDumpOptions, state: AppliedSnapshot = applied()): Json[] {
  const result = configDump(state, identity, options, T1);
  assert.equal(result.status, 200, "message" in result ? result.message : "");
  if (result.status !== 200) return [];
  assert.deepEqual(checkEnvoyJson("envoy.admin.v3.ConfigDump", result.body, OPAQUE), []);
  return [...(result.body.configs ?? [])];
}

function failure(options: ConfigDumpOptions): { status: number; message: string } {
  const result = configDump(applied(), identity, options, T1);
  assert.notEqual(result.status, 200);
  return result.status === 200 ? { status: 200, message: "" } : result;
}

const types = (configs: readonly Json[]) => configs.map((c) => String(c["@type"]).replace(ADMIN, ""));

describe("config dump: the dumps and their order", () => {
  it("is a valid ConfigDump for every walkthrough variant, with and without endpoints", () => {
    for (const variant of [
      undefined,
      "header-hash",
      "source-ip-hash",
      "maglev",
      "persistent-session",
    ] as const) {
      dump({}, applied(variant));
      dump({ includeEds: true }, applied(variant));
    }
  });

  it("lists the dumps in the config tracker's key order, the endpoints after the clusters only with include_eds", () => {
    const order = ["BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump"];
    const rest = ["ScopedRoutesConfigDump", "RoutesConfigDump", "SecretsConfigDump"];
    assert.deepEqual(types(dump({})), [...order, ...rest]);
    assert.deepEqual(types(dump({ includeEds: true })), [
      "BootstrapConfigDump",
      "ClustersConfigDump",
      "EndpointsConfigDump",
      "ListenersConfigDump",
      ...rest,
    ]);
  });

  it("treats empty resource, mask and name_regex as absent", () => {
    assert.deepEqual(dump({ resource: "", mask: "", nameRegex: "" }), dump({}));
  });

  it("prints the bootstrap with the node, the admin address and ADS, stamped with the start time", () => {
    const [bootstrap] = dump({});
    assert.deepEqual(bootstrap?.lastUpdated, "2026-07-01T11:59:00Z");
    const body = bootstrap?.bootstrap as Json;
    assert.deepEqual(Object.keys(body), ["node", "dynamicResources", "admin"]);
    assert.deepEqual(body.admin, { address: { socketAddress: { address: "127.0.0.1", portValue: 15000 } } });
    const ads = { ads: {}, initialFetchTimeout: "0s", resourceApiVersion: "V3" };
    assert.deepEqual(body.dynamicResources, {
      ldsConfig: ads,
      cdsConfig: ads,
      adsConfig: { apiType: "GRPC", transportApiVersion: "V3", setNodeOnFirstMessageOnly: true },
    });
  });

  it("lists clusters by name, each with the version and time of the push that last changed it", () => {
    const clusters = dump({})[1] as Json;
    assert.equal(clusters.versionInfo, "1");
    const entries = clusters.dynamicActiveClusters as Json[];
    assert.deepEqual(
      entries.map((e) => (e.cluster as Json).name),
      ["BlackHoleCluster", SESSION],
    );
    assert.deepEqual(Object.keys(entries[0] ?? {}), ["versionInfo", "cluster", "lastUpdated"]);
    assert.equal(entries[0]?.lastUpdated, "2026-07-01T12:00:00.250Z");
  });

  it("prints each listener in its active state and each route configuration packed with its type", () => {
    const [, , listeners = {}, scoped, routes = {}, secrets] = dump({});
    const listener = (listeners.dynamicListeners as Json[])[0] as Json;
    assert.equal(listener.name, "0.0.0.0_8080");
    assert.deepEqual(Object.keys(listener.activeState as Json), ["versionInfo", "listener", "lastUpdated"]);
    const route = (routes.dynamicRouteConfigs as Json[])[0] as Json;
    assert.equal(
      (route.routeConfig as Json)["@type"],
      "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    );
    assert.deepEqual(scoped, { "@type": `${ADMIN}ScopedRoutesConfigDump` });
    assert.deepEqual(secrets, { "@type": `${ADMIN}SecretsConfigDump` });
  });
});

describe("config dump: endpoints as Envoy rebuilds them from its hosts", () => {
  it("gives every active cluster an assignment with the default overprovisioning factor and no version", () => {
    const endpoints = dump({ includeEds: true })[2] as Json;
    const configs = endpoints.dynamicEndpointConfigs as Json[];
    assert.deepEqual(configs[0], {
      endpointConfig: {
        "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
        clusterName: "BlackHoleCluster",
        policy: { overprovisioningFactor: 140 },
      },
    });
    const session = (configs[1] as Json).endpointConfig as Json;
    const localities = session.endpoints as Json[];
    assert.deepEqual(
      localities.map((l) => l.locality),
      ["a", "b", "c"].map((z) => ({ region: "eu-west-1", zone: `eu-west-1${z}` })),
    );
    assert.equal(
      localities[0]?.loadBalancingWeight,
      undefined,
      "no locality weights without locality weighted balancing",
    );
    const [host] = (localities[0] as Json).lbEndpoints as Json[];
    assert.deepEqual(host?.endpoint, {
      address: { socketAddress: { address: "127.0.0.11", portValue: 8080 } },
      healthCheckConfig: {},
    });
    assert.equal(host?.healthStatus, "HEALTHY");
    assert.equal(host?.loadBalancingWeight, 1);
  });

  it("sorts localities, drops a repeated address, maps EDS health to coarse health and weighs localities only when asked", () => {
    const state = applied();
    const cla = state.snapshot.endpoints[0] as EnvoyClusterLoadAssignment;
    const [a, b, c] = cla.endpoints;
    const hostA = a?.lbEndpoints[0];
    assert.ok(a && b && c && hostA);
    const edited: EnvoyClusterLoadAssignment = {
      ...cla,
      endpoints: [
        { ...c, loadBalancingWeight: 5 },
        {
          ...b,
          loadBalancingWeight: 7,
          lbEndpoints: [{ ...hostA, healthStatus: "DRAINING", loadBalancingWeight: 0 }],
        },
        { ...a, loadBalancingWeight: 3, lbEndpoints: [{ ...hostA, healthStatus: "DEGRADED" }] },
      ],
    };
    const clusters = state.snapshot.clusters.map((c) =>
      c.name === SESSION ? { ...c, commonLbConfig: { localityWeightedLbConfig: {} } } : c,
    );
    const snapshot = Object.freeze({ ...state.snapshot, clusters, endpoints: [edited] });
    const configs = (
      dump({ includeEds: true, nameRegex: "outbound.*" }, applySnapshot(undefined, snapshot, T1))[2] as Json
    ).dynamicEndpointConfigs as Json[];
    const localities = ((configs[0] as Json).endpointConfig as Json).endpoints as Json[];
    // Zone b's group holds the address first; zone a's copy of it is dropped, and so is the empty group.
    assert.deepEqual(
      localities.map((l) => [l.locality, l.loadBalancingWeight]),
      [
        [{ region: "eu-west-1", zone: "eu-west-1b" }, 7],
        [{ region: "eu-west-1", zone: "eu-west-1c" }, 5],
      ],
    );
    const [host] = (localities[0] as Json).lbEndpoints as Json[];
    assert.equal(host?.healthStatus, "UNHEALTHY");
    assert.equal(host?.loadBalancingWeight, 1, "a host weighs at least 1");
  });
});

describe("config dump: query parameters as config_dump_handler_test.cc exercises them", () => {
  it("ConfigDumpFiltersByResource: returns the elements of the named repeated field, each as an Any", () => {
    const configs = dump({ resource: "dynamic_listeners" });
    assert.deepEqual(types(configs), ["ListenersConfigDump.DynamicListener"]);
    assert.equal(configs[0]?.name, "0.0.0.0_8080");
  });

  it("ConfigDumpWithEndpointFiltersByResourceAndName: endpoints by resource, and name_regex on the assignment's name", () => {
    const configs = dump({ includeEds: true, resource: "dynamic_endpoint_configs" });
    assert.deepEqual(types(configs), [
      "EndpointsConfigDump.DynamicEndpointConfig",
      "EndpointsConfigDump.DynamicEndpointConfig",
    ]);
    const named = dump({ includeEds: true, nameRegex: "BlackHoleCluster" })[2] as Json;
    assert.deepEqual(
      (named.dynamicEndpointConfigs as Json[]).map((c) => (c.endpointConfig as Json).clusterName),
      ["BlackHoleCluster"],
    );
  });

  it("ConfigDumpFiltersByMask: keeps only the masked fields of the dumps the mask fits", () => {
    const configs = dump({ mask: "dynamic_listeners" });
    assert.deepEqual(types(configs), ["ListenersConfigDump"]);
    assert.deepEqual(Object.keys(configs[0] ?? {}), ["@type", "dynamicListeners"]);
    assert.deepEqual(types(dump({ mask: "version_info" })), ["ClustersConfigDump", "ListenersConfigDump"]);
  });

  it("ConfigDumpFiltersByNameRegex: keeps resources whose whole name matches, leaving the bootstrap alone", () => {
    const configs = dump({ nameRegex: ".*session.*" });
    assert.deepEqual(
      ((configs[1] as Json).dynamicActiveClusters as Json[]).map((c) => (c.cluster as Json).name),
      [SESSION],
    );
    assert.equal((configs[2] as Json).dynamicListeners, undefined);
    assert.equal((configs[2] as Json).versionInfo, "1");
    assert.ok((configs[0] as Json).bootstrap);
    // A partial match is no match: RE2 full match.
    assert.equal((dump({ nameRegex: "session" })[1] as Json).dynamicActiveClusters, undefined);
  });

  it("InvalidRegexIsBadRequest: an invalid name_regex is a 400 naming RE2's error", () => {
    assert.deepEqual(failure({ nameRegex: "[" }), {
      status: 400,
      message: "INVALID_ARGUMENT: Error while parsing name_regex from [: missing ]: [",
    });
    assert.match(failure({ nameRegex: "a(" }).message, /^INVALID_ARGUMENT: Error while parsing name_regex/);
  });

  it("ConfigDumpFiltersByResourceAndMask: applies the mask to each element and inside its packed resource", () => {
    const configs = dump({
      resource: "dynamic_active_clusters",
      mask: "cluster.name,version_info,cluster.connect_timeout",
      nameRegex: "outbound.*",
    });
    assert.deepEqual(configs, [
      {
        "@type": `${ADMIN}ClustersConfigDump.DynamicCluster`,
        versionInfo: "1",
        cluster: {
          "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
          name: SESSION,
          connectTimeout: "10s",
        },
      },
    ]);
  });

  it("ConfigDumpNonExistentMask: a mask that does not fit a resource is a 400 quoting it", () => {
    assert.deepEqual(failure({ resource: "dynamic_active_clusters", mask: "bad" }), {
      status: 400,
      message: 'FieldMask paths: "bad"\n could not be successfully used.',
    });
  });

  it("ConfigDumpNonExistentResource: a resource no dump has is a 404", () => {
    assert.deepEqual(failure({ resource: "foo" }), { status: 404, message: "foo not found in config dump" });
    assert.equal(
      failure({ resource: "dynamic_endpoint_configs" }).status,
      404,
      "no endpoints without include_eds",
    );
  });

  it("ConfigDumpResourceNotRepeated: a field that is not repeated is a 400 pointing at mask", () => {
    assert.deepEqual(failure({ resource: "version_info" }), {
      status: 400,
      message: "version_info is not a repeated field. Use ?mask=version_info to get only this field",
    });
  });

  it("InvalidFieldMaskWithResourceDoesNotCrash: a path through a repeated field is a 400", () => {
    const mask = "cluster.transport_socket_matches.name";
    assert.deepEqual(failure({ resource: "dynamic_active_clusters", mask }), {
      status: 400,
      message: `FieldMask paths: "${mask}"\n could not be successfully used.`,
    });
    // Only one Any per element is unpacked: a DynamicListener's listener sits under active_state.
    assert.equal(failure({ resource: "dynamic_listeners", mask: "active_state.listener.name" }).status, 400);
    // A bare Any field leaves an empty path for the packed resource, which fits no message.
    assert.equal(failure({ resource: "dynamic_active_clusters", mask: "cluster" }).status, 400);
  });

  it("InvalidFieldMaskWithoutResourceDoesNotCrash: a mask that fits no dump is a 400", () => {
    assert.deepEqual(failure({ mask: "bootstrap.node.extensions.name" }), {
      status: 400,
      message: "FieldMask bootstrap.node.extensions.name could not be successfully applied to any configs.",
    });
  });

  it("FieldMasksWorkWhenFetchingAllResources: a mask reaches into the bootstrap", () => {
    const [only, ...none] = dump({ mask: "bootstrap" });
    assert.deepEqual(none, []);
    assert.deepEqual(Object.keys(only ?? {}), ["@type", "bootstrap"]);
    assert.deepEqual(dump({ mask: "bootstrap.node.id,bootstrap.admin" }), [
      {
        "@type": `${ADMIN}BootstrapConfigDump`,
        bootstrap: {
          node: { id: identity.nodeId },
          admin: { address: { socketAddress: { address: "127.0.0.1", portValue: 15000 } } },
        },
      },
    ]);
  });

  it("answers an empty list of elements with an empty dump", () => {
    assert.deepEqual(configDump(applied(), identity, { resource: "dynamic_active_secrets" }, T1), {
      status: 200,
      body: {},
    });
  });
});

describe("config dump: the field table behind masks", () => {
  it("lists exactly the fields of each message in Envoy's protos, with their shape and type", () => {
    const root = envoyRoot();
    for (const fullName of Object.keys(MESSAGE_FIELDS)) {
      const type = root.lookupType(fullName);
      const fields = messageFields(fullName);
      assert.deepEqual(
        [...fields.keys()],
        type.fieldsArray.map((f) => f.name),
        fullName,
      );
      for (const f of type.fieldsArray) {
        const mine = fields.get(f.name);
        const repeated = f.repeated || f instanceof protobuf.MapField;
        assert.equal(mine?.repeated, repeated, `${fullName}.${f.name} repeated`);
        const message =
          f.resolvedType instanceof protobuf.Type ? f.resolvedType.fullName.slice(1) : undefined;
        const expected =
          message && MESSAGE_FIELDS[message] !== undefined ? message : message ? "?" : undefined;
        // Repeated fields name their element type only when it is in the table.
        if (!repeated || mine?.type !== undefined)
          assert.equal(mine?.type, expected, `${fullName}.${f.name}`);
      }
    }
  });
});
