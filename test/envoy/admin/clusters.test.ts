/**
 * /clusters in Envoy's text and JSON forms (source/server/admin/clusters_handler.cc; expected shapes
 * from test/server/admin/clusters_handler_test.cc), built from hand-made views over the Cluster istiod
 * emits for the walkthrough.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clustersJson, clustersText, healthFlagsText } from "../../../src/envoy/admin/clusters.js";
import type { ClusterStatusView, HostStatusView } from "../../../src/envoy/admin/views.js";
import { translate } from "../../../src/istiod/index.js";
import type { EnvoyCluster, HealthStatus } from "../../../src/xds/cluster-types.js";
import { assertEnvoyJson } from "../../helpers/envoy-proto.js";
import { walkthroughInput } from "../../istiod/walkthrough-input.js";

const snapshot = translate(walkthroughInput(), "1");
const SESSION = snapshot.clusters[0] as EnvoyCluster;
const BLACKHOLE = snapshot.clusters.find((c) => c.name === "BlackHoleCluster") as EnvoyCluster;
const NAME = "outbound|80||session-svc.default.svc.cluster.local";

function host(overrides: Partial<HostStatusView> = {}): HostStatusView {
  return {
    address: "127.0.0.11",
    port: 8080,
    locality: { region: "eu-west-1", zone: "eu-west-1a" },
    weight: 1,
    edsHealthStatus: "HEALTHY",
    failedOutlierCheck: false,
    counters: { cx_connect_fail: 0, cx_total: 2, rq_error: 1, rq_success: 7, rq_timeout: 0, rq_total: 8 },
    gauges: { cx_active: 1, rq_active: 0 },
    ...overrides,
  };
}

const lines = (text: string) => text.split("\n");

describe("/clusters text", () => {
  it("prints Envoy's lines in Envoy's order for the walkthrough's CDS cluster", () => {
    assert.equal(SESSION.name, NAME);
    const text = clustersText([{ cluster: SESSION, hosts: [host()] }]);
    const at = `${NAME}::127.0.0.11:8080`;
    assert.deepEqual(lines(text), [
      // Istio sets alt_stat_name, which Envoy reports as the observability name.
      `${NAME}::observability_name::${NAME};`,
      `${NAME}::default_priority::max_connections::4294967295`,
      `${NAME}::default_priority::max_pending_requests::4294967295`,
      `${NAME}::default_priority::max_requests::4294967295`,
      `${NAME}::default_priority::max_retries::4294967295`,
      // Istio writes no HIGH threshold, so that priority keeps Envoy's built-in limits.
      `${NAME}::high_priority::max_connections::1024`,
      `${NAME}::high_priority::max_pending_requests::1024`,
      `${NAME}::high_priority::max_requests::1024`,
      `${NAME}::high_priority::max_retries::3`,
      `${NAME}::added_via_api::true`,
      `${NAME}::eds_service_name::${NAME}`,
      // Counters and gauges merged and sorted by name.
      `${at}::cx_active::1`,
      `${at}::cx_connect_fail::0`,
      `${at}::cx_total::2`,
      `${at}::rq_active::0`,
      `${at}::rq_error::1`,
      `${at}::rq_success::7`,
      `${at}::rq_timeout::0`,
      `${at}::rq_total::8`,
      `${at}::hostname::`,
      `${at}::health_flags::healthy`,
      `${at}::weight::1`,
      `${at}::region::eu-west-1`,
      `${at}::zone::eu-west-1a`,
      `${at}::sub_zone::`,
      `${at}::canary::false`,
      `${at}::priority::0`,
      `${at}::success_rate::-1`,
      `${at}::local_origin_success_rate::-1`,
      "",
    ]);
  });

  it("gives both priorities Envoy's 1024/1024/1024/3 when the cluster sets no circuit breakers", () => {
    assert.equal(BLACKHOLE.circuitBreakers, undefined);
    const text = clustersText([{ cluster: BLACKHOLE, hosts: [] }]);
    assert.deepEqual(lines(text), [
      "BlackHoleCluster::observability_name::BlackHoleCluster;",
      "BlackHoleCluster::default_priority::max_connections::1024",
      "BlackHoleCluster::default_priority::max_pending_requests::1024",
      "BlackHoleCluster::default_priority::max_requests::1024",
      "BlackHoleCluster::default_priority::max_retries::3",
      "BlackHoleCluster::high_priority::max_connections::1024",
      "BlackHoleCluster::high_priority::max_pending_requests::1024",
      "BlackHoleCluster::high_priority::max_requests::1024",
      "BlackHoleCluster::high_priority::max_retries::3",
      "BlackHoleCluster::added_via_api::true",
      "",
    ]);
  });

  it("uses the name as observability name when there is no alt_stat_name", () => {
    const text = clustersText([{ cluster: { ...BLACKHOLE, altStatName: "" }, hosts: [] }]);
    assert.equal(lines(text)[0], "BlackHoleCluster::observability_name::BlackHoleCluster");
  });

  it("adds the four outlier lines, all -1 before any success rate exists, when outlier detection is set", () => {
    const cluster: EnvoyCluster = {
      ...SESSION,
      outlierDetection: {
        consecutive5xx: 3,
        interval: "1s",
        baseEjectionTime: "5s",
        enforcingSuccessRate: 0,
      },
    };
    assert.deepEqual(lines(clustersText([{ cluster, hosts: [] }])).slice(0, 6), [
      `${NAME}::observability_name::${NAME};`,
      `${NAME}::outlier::success_rate_average::-1`,
      `${NAME}::outlier::success_rate_ejection_threshold::-1`,
      `${NAME}::outlier::local_origin_success_rate_average::-1`,
      `${NAME}::outlier::local_origin_success_rate_ejection_threshold::-1`,
      `${NAME}::default_priority::max_connections::4294967295`,
    ]);
  });

  it("reads a threshold's missing limits from Envoy's defaults and honours an explicit HIGH threshold", () => {
    const thresholds = [
      { maxConnections: 10 },
      { priority: "HIGH", maxConnections: 20, maxPendingRequests: 21, maxRequests: 22, maxRetries: 23 },
    ];
    const cluster = { ...BLACKHOLE, circuitBreakers: { thresholds } } as unknown as EnvoyCluster;
    const text = clustersText([{ cluster, hosts: [] }]);
    assert.deepEqual(lines(text).slice(1, 9), [
      "BlackHoleCluster::default_priority::max_connections::10",
      "BlackHoleCluster::default_priority::max_pending_requests::1024",
      "BlackHoleCluster::default_priority::max_requests::1024",
      "BlackHoleCluster::default_priority::max_retries::3",
      "BlackHoleCluster::high_priority::max_connections::20",
      "BlackHoleCluster::high_priority::max_pending_requests::21",
      "BlackHoleCluster::high_priority::max_requests::22",
      "BlackHoleCluster::high_priority::max_retries::23",
    ]);
  });

  it("prints health flags in Envoy's flag order, `healthy` when none is set", () => {
    const flags = (edsHealthStatus: HealthStatus, failedOutlierCheck = false) =>
      healthFlagsText(host({ edsHealthStatus, failedOutlierCheck }));
    assert.equal(flags("HEALTHY"), "healthy");
    assert.equal(flags("UNKNOWN"), "healthy");
    assert.equal(flags("HEALTHY", true), "/failed_outlier_check");
    assert.equal(flags("UNHEALTHY"), "/failed_eds_health");
    assert.equal(flags("TIMEOUT"), "/failed_eds_health");
    assert.equal(flags("DEGRADED"), "/degraded_eds_health");
    assert.equal(flags("DRAINING"), "/eds_status_draining");
    assert.equal(flags("UNHEALTHY", true), "/failed_outlier_check/failed_eds_health");
  });

  it("writes an IPv6 host as [address]:port, as Envoy's address asString does", () => {
    const text = clustersText([{ cluster: BLACKHOLE, hosts: [host({ address: "::1", port: 80 })] }]);
    assert.ok(lines(text).includes("BlackHoleCluster::[::1]:80::cx_total::2"));
  });

  it("prints every host of every cluster, in the order given", () => {
    const views: ClusterStatusView[] = [
      { cluster: SESSION, hosts: [host(), host({ address: "127.0.0.12" })] },
      { cluster: BLACKHOLE, hosts: [] },
    ];
    const text = lines(clustersText(views));
    const hostnames = text.filter((l) => l.endsWith("::hostname::"));
    assert.deepEqual(hostnames, [
      `${NAME}::127.0.0.11:8080::hostname::`,
      `${NAME}::127.0.0.12:8080::hostname::`,
    ]);
    assert.ok(text.indexOf(hostnames[1] as string) < text.indexOf("BlackHoleCluster::added_via_api::true"));
    assert.equal(clustersText([]), "");
  });
});

describe("/clusters?format=json", () => {
  it("is a valid envoy.admin.v3.Clusters with proto3 defaults left out", () => {
    const json = clustersJson([{ cluster: SESSION, hosts: [host()] }]);
    assertEnvoyJson("envoy.admin.v3.Clusters", json);
    assert.deepEqual(json, {
      clusterStatuses: [
        {
          name: NAME,
          addedViaApi: true,
          hostStatuses: [
            {
              address: { socketAddress: { address: "127.0.0.11", portValue: 8080 } },
              // COUNTER (0) and a zero value are defaults; counters come first, in ALL_HOST_STATS order.
              stats: [
                { name: "cx_connect_fail" },
                { value: "2", name: "cx_total" },
                { value: "1", name: "rq_error" },
                { value: "7", name: "rq_success" },
                { name: "rq_timeout" },
                { value: "8", name: "rq_total" },
                { type: "GAUGE", value: "1", name: "cx_active" },
                { type: "GAUGE", name: "rq_active" },
              ],
              healthStatus: { edsHealthStatus: "HEALTHY" },
              weight: 1,
              locality: { region: "eu-west-1", zone: "eu-west-1a" },
            },
          ],
          circuitBreakers: {
            thresholds: [
              {
                maxConnections: 4294967295,
                maxPendingRequests: 4294967295,
                maxRequests: 4294967295,
                maxRetries: 4294967295,
              },
              {
                priority: "HIGH",
                maxConnections: 1024,
                maxPendingRequests: 1024,
                maxRequests: 1024,
                maxRetries: 3,
              },
            ],
          },
          observabilityName: `${NAME};`,
          edsServiceName: NAME,
        },
      ],
    });
  });

  it("orders each message's fields by field number, as Envoy's JSON printer does", () => {
    const status = clustersJson([{ cluster: SESSION, hosts: [host({ failedOutlierCheck: true })] }])
      .clusterStatuses?.[0];
    assert.deepEqual(Object.keys(status ?? {}), [
      "name",
      "addedViaApi",
      "hostStatuses",
      "circuitBreakers",
      "observabilityName",
      "edsServiceName",
    ]);
    const h = status?.hostStatuses?.[0];
    assert.deepEqual(Object.keys(h ?? {}), ["address", "stats", "healthStatus", "weight", "locality"]);
    assert.deepEqual(Object.keys(h?.healthStatus ?? {}), ["failedOutlierCheck", "edsHealthStatus"]);
  });

  it("reports the EDS status Envoy derives from the host's flags", () => {
    const status = (edsHealthStatus: HealthStatus) =>
      clustersJson([{ cluster: BLACKHOLE, hosts: [host({ edsHealthStatus })] }]).clusterStatuses?.[0]
        ?.hostStatuses?.[0]?.healthStatus;
    assert.deepEqual(status("UNKNOWN"), { edsHealthStatus: "HEALTHY" });
    assert.deepEqual(status("HEALTHY"), { edsHealthStatus: "HEALTHY" });
    assert.deepEqual(status("UNHEALTHY"), { edsHealthStatus: "UNHEALTHY" });
    assert.deepEqual(status("TIMEOUT"), { edsHealthStatus: "UNHEALTHY" });
    assert.deepEqual(status("DEGRADED"), { edsHealthStatus: "DEGRADED" });
    assert.deepEqual(status("DRAINING"), { edsHealthStatus: "DRAINING" });
  });

  it("keeps an empty locality as {} and leaves out host statuses and eds_service_name when there are none", () => {
    const json = clustersJson([
      { cluster: BLACKHOLE, hosts: [] },
      { cluster: BLACKHOLE, hosts: [host({ locality: {}, address: "::1", port: 80 })] },
    ]);
    assertEnvoyJson("envoy.admin.v3.Clusters", json);
    const [empty, withHost] = json.clusterStatuses ?? [];
    assert.equal(empty?.hostStatuses, undefined);
    assert.equal(empty?.edsServiceName, undefined);
    assert.deepEqual(withHost?.hostStatuses?.[0]?.locality, {});
    assert.deepEqual(withHost?.hostStatuses?.[0]?.address, {
      socketAddress: { address: "::1", portValue: 80 },
    });
  });

  it("prints no clusters as an empty Clusters message", () => {
    assert.deepEqual(clustersJson([]), {});
    assertEnvoyJson("envoy.admin.v3.Clusters", clustersJson([]));
  });
});
