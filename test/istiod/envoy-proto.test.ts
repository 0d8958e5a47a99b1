import assert from "node:assert/strict";
import { test } from "node:test";
import { checkEnvoyJson, checkEnvoyResource } from "../helpers/envoy-proto.js";

const CLUSTER = "envoy.config.cluster.v3.Cluster";

/** A cluster as a config dump prints one: wrappers bare, uint64 as strings, enums by name. */
const goodCluster = {
  "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  name: "outbound|80||a.default.svc.cluster.local",
  type: "EDS",
  connectTimeout: "10s",
  lbPolicy: "RING_HASH",
  ringHashLbConfig: { minimumRingSize: "1024" },
  circuitBreakers: { thresholds: [{ maxConnections: 4294967295, trackRemaining: true }] },
  outlierDetection: { consecutive5xx: 5, enforcingConsecutive5xx: 100, interval: "0.100s" },
  commonLbConfig: { healthyPanicThreshold: {} },
  metadata: { filterMetadata: { istio: { services: [{ host: "a" }] } } },
  typedExtensionProtocolOptions: {
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
      "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
      explicitHttpConfig: { http2ProtocolOptions: {} },
    },
  },
};

test("a well-formed Cluster passes", () => {
  assert.deepEqual(checkEnvoyResource(goodCluster), []);
});

test("a misspelt field fails, naming its path", () => {
  const bad = { ...goodCluster, outlierDetection: { consecutive_5xx: 5 } };
  assert.deepEqual(checkEnvoyResource(bad), [
    'outlierDetection.consecutive_5xx: no field "consecutive_5xx" in envoy.config.cluster.v3.OutlierDetection',
  ]);
});

test("wrong value types fail", () => {
  const errors = checkEnvoyJson(CLUSTER, {
    connectTimeout: 10,
    ringHashLbConfig: { minimumRingSize: 1024 },
    lbPolicy: "LEAST_CONN",
    circuitBreakers: { thresholds: [{ maxConnections: -1 }] },
  });
  assert.equal(errors.length, 4, errors.join("\n"));
  assert.match(errors[0] ?? "", /^connectTimeout: expected a Duration/);
  assert.match(errors[1] ?? "", /^ringHashLbConfig\.minimumRingSize: expected uint64 as a decimal string/);
  assert.match(errors[2] ?? "", /^lbPolicy: expected a envoy\.config\.cluster\.v3\.Cluster\.LbPolicy name/);
  assert.match(errors[3] ?? "", /^circuitBreakers\.thresholds\[0\]\.maxConnections: expected uint32/);
});

test("Any payloads are checked against their own type, and two members of a oneof fail", () => {
  const errors = checkEnvoyJson(CLUSTER, {
    typedExtensionProtocolOptions: {
      x: {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        idle: "1s",
      },
      y: { "@type": "type.googleapis.com/no.such.Type" },
    },
    ringHashLbConfig: {},
    maglevLbConfig: {},
  });
  assert.deepEqual(errors, [
    'typedExtensionProtocolOptions[x].idle: no field "idle" in envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    "typedExtensionProtocolOptions[y]: unknown Any type no.such.Type",
    'maglevLbConfig: oneof lb_config already set by "ringHashLbConfig"',
  ]);
});
