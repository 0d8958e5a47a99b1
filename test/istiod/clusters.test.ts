import assert from "node:assert/strict";
import { test } from "node:test";
import { buildClusters } from "../../src/istiod/clusters.js";
import { toDuration } from "../../src/istiod/service-model.js";
import type { EnvoyCluster } from "../../src/xds/cluster-types.js";
import { checkEnvoyResource } from "../helpers/envoy-proto.js";
import { HOST, walkthroughInput } from "./walkthrough-input.js";

const NAME = `outbound|80||${HOST}`;
const MAX = 4294967295;
const RULE = "/apis/networking.istio.io/v1/namespaces/default/destination-rule/session";

/** What every outbound cluster of session-svc carries whatever the rule (buildCluster, maybeApplyEdsConfig,
 * applyMetadataExchange, addTelemetryMetadata, applyConnectionPool's defaults). */
const base = (name = NAME) => ({
  "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  name,
  type: "EDS",
  altStatName: `${name};`,
  connectTimeout: "10s",
  // applyLoadBalancer: PILOT_AUTO_SEND_UNHEALTHY_ENDPOINTS disables the panic threshold (0% prints as {}).
  commonLbConfig: { healthyPanicThreshold: {} },
  circuitBreakers: {
    thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX }],
  },
  edsClusterConfig: {
    edsConfig: { ads: {}, initialFetchTimeout: "0s", resourceApiVersion: "V3" },
    serviceName: name,
  },
  filters: [
    {
      name: "istio.metadata_exchange",
      typedConfig: {
        "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
        typeUrl: "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange",
        value: { protocol: "istio-peer-exchange", enable_discovery: true },
      },
    },
  ],
  metadata: {
    filterMetadata: {
      istio: { services: [{ host: HOST, name: "session-svc", namespace: "default" }], config: RULE },
    },
  },
});

const BLACK_HOLE = {
  "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  name: "BlackHoleCluster",
  type: "STATIC",
  altStatName: "BlackHoleCluster;",
  connectTimeout: "10s",
};

function assertProtoValid(clusters: EnvoyCluster[]): void {
  for (const c of clusters) assert.deepEqual(checkEnvoyResource(c), [], c.name);
}

test("cookie hash (session-affinity.yaml): ApplyRingHashLoadBalancer's default branch, ring of 1024", () => {
  const clusters = buildClusters(walkthroughInput());
  assert.deepEqual(clusters, [
    { ...base(), lbPolicy: "RING_HASH", ringHashLbConfig: { minimumRingSize: "1024" } },
    BLACK_HOLE,
  ]);
  assertProtoValid(clusters);
});

test("header and source-IP hash components: the same ring hash cluster (the key lives in the route)", () => {
  for (const c of ["header-hash", "source-ip-hash"] as const) {
    const clusters = buildClusters(walkthroughInput(c));
    assert.deepEqual(
      clusters[0],
      { ...base(), lbPolicy: "RING_HASH", ringHashLbConfig: { minimumRingSize: "1024" } },
      c,
    );
    assertProtoValid(clusters);
  }
});

test("maglev component: ApplyRingHashLoadBalancer's maglev branch with its tableSize", () => {
  const clusters = buildClusters(walkthroughInput("maglev"));
  assert.deepEqual(clusters[0], { ...base(), lbPolicy: "MAGLEV", maglevLbConfig: { tableSize: "65537" } });
  assertProtoValid(clusters);
});

test("persistent-session component: no rule, LEAST_REQUEST, and the override host statuses", () => {
  const clusters = buildClusters(walkthroughInput("persistent-session"));
  const expected = base();
  // buildOutboundClusters: SupportsDrainingEndpoints (istio.io/persistent-session label) keeps DRAINING hosts.
  expected.commonLbConfig = {
    overrideHostStatus: { statuses: ["HEALTHY", "DRAINING", "UNKNOWN", "DEGRADED"] },
    healthyPanicThreshold: {},
  } as typeof expected.commonLbConfig;
  // No DestinationRule: no config path in the metadata (AddConfigInfoMetadata is skipped).
  expected.metadata = {
    filterMetadata: { istio: { services: [{ host: HOST, name: "session-svc", namespace: "default" }] } },
  } as typeof expected.metadata;
  assert.deepEqual(clusters, [{ ...expected, lbPolicy: "LEAST_REQUEST" }, BLACK_HOLE]);
  assertProtoValid(clusters);
});

test("subsets, port-level settings, connection pool and outlier detection (MergeSubsetTrafficPolicy)", () => {
  const input = walkthroughInput();
  const rule = {
    ...input.destinationRules[0],
    spec: {
      host: "session-svc",
      trafficPolicy: {
        loadBalancer: { simple: "ROUND_ROBIN" },
        connectionPool: {
          tcp: {
            connectTimeout: "2.5s",
            maxConnections: 100,
            tcpKeepalive: { time: "7200s", interval: "75s" },
          },
          http: { idleTimeout: "30s", maxRequestsPerConnection: 10, http1MaxPendingRequests: 5 },
        },
        outlierDetection: {
          consecutive5xxErrors: 3,
          interval: "10s",
          baseEjectionTime: "30s",
          maxEjectionPercent: 50,
        },
      },
      subsets: [
        { name: "v1", labels: { version: "v1" } },
        { name: "v2", labels: { version: "v2" }, trafficPolicy: { loadBalancer: { simple: "RANDOM" } } },
        {
          name: "p",
          labels: { version: "p" },
          // A port-level policy replaces every block, unset ones included (GetPortLevelTrafficPolicy).
          trafficPolicy: {
            portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: "LEAST_REQUEST" } }],
          },
        },
      ],
    },
  };
  const clusters = buildClusters({
    ...input,
    destinationRules: [rule as (typeof input.destinationRules)[0]],
  });
  assert.deepEqual(
    clusters.map((c) => c.name),
    [NAME, `outbound|80|v1|${HOST}`, `outbound|80|v2|${HOST}`, `outbound|80|p|${HOST}`, "BlackHoleCluster"],
  );
  const [main, v1, v2, p] = clusters as [EnvoyCluster, EnvoyCluster, EnvoyCluster, EnvoyCluster];
  const tuned = {
    connectTimeout: "2.500s",
    circuitBreakers: {
      thresholds: [{ maxConnections: 100, maxPendingRequests: 5, maxRequests: MAX, maxRetries: MAX }],
    },
    upstreamConnectionOptions: { tcpKeepalive: { keepaliveTime: 7200, keepaliveInterval: 75 } },
    outlierDetection: {
      enforcingSuccessRate: 0,
      consecutive5xx: 3,
      enforcingConsecutive5xx: 100,
      interval: "10s",
      baseEjectionTime: "30s",
      maxEjectionPercent: 50,
    },
    typedExtensionProtocolOptions: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        commonHttpProtocolOptions: { idleTimeout: "30s", maxRequestsPerConnection: 10 },
        explicitHttpConfig: { httpProtocolOptions: {} },
      },
    },
  };
  assert.deepEqual(main, { ...base(), ...tuned, lbPolicy: "ROUND_ROBIN" });
  const subsetMeta = (subset: string) => ({
    filterMetadata: { istio: { ...base().metadata.filterMetadata.istio, subset } },
  });
  assert.deepEqual(v1, { ...base(v1.name), ...tuned, lbPolicy: "ROUND_ROBIN", metadata: subsetMeta("v1") });
  assert.deepEqual(v2, { ...base(v2.name), ...tuned, lbPolicy: "RANDOM", metadata: subsetMeta("v2") });
  assert.deepEqual(p, { ...base(p.name), lbPolicy: "LEAST_REQUEST", metadata: subsetMeta("p") });
  assertProtoValid(clusters);
});

test("durations are printed as protobuf JSON", () => {
  assert.equal(toDuration("1800s"), "1800s");
  assert.equal(toDuration("1m30s"), "90s");
  assert.equal(toDuration("100ms"), "0.100s");
  assert.equal(toDuration("1.5s"), "1.500s");
});
