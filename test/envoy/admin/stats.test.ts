/**
 * /stats, /stats?format=json and /stats/prometheus (source/server/admin/stats_request.cc,
 * stats_render.cc, prometheus_stats.cc, stats_params.cc), Envoy's default tag extraction
 * (source/common/config/well_known_names.cc; cases from test/common/stats/tag_extractor_impl_test.cc)
 * and the stat names the gateway emits.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CIRCUIT_BREAKER_STATS,
  CLUSTER_STATS,
  clusterStat,
  extractTags,
  extractWithTokenPattern,
  HTTP_CONN_MANAGER_STATS,
  httpStat,
  OUTLIER_DETECTION_STATS,
  responseClassStat,
  sanitizeStatsName,
} from "../../../src/envoy/admin/stat-names.js";
import {
  compareStatNames,
  INVALID_FILTER_BODY,
  prometheusText,
  type StatSample,
  statsJson,
  statsText,
} from "../../../src/envoy/admin/stats.js";
import { translate } from "../../../src/istiod/index.js";
import type { EnvoyCluster } from "../../../src/xds/cluster-types.js";
import { walkthroughInput } from "../../istiod/walkthrough-input.js";

const counter = (name: string, value: number): StatSample => ({ name, type: "counter", value });
const gauge = (name: string, value: number): StatSample => ({ name, type: "gauge", value });

const STATS: StatSample[] = [
  counter("http.ingress_http.no_route", 0),
  counter("cluster.ratelimit.upstream_rq_total", 7),
  gauge("cluster.ratelimit.upstream_cx_active", 2),
  counter("cluster.ratelimit.upstream_rq_200", 5),
  counter("http.ingress_http.downstream_rq_5xx", 1),
  counter("cluster.backend.upstream_rq_total", 3),
  gauge("cluster_manager.active_clusters", 2),
  counter("cluster.ratelimit.upstream_rq_2xx", 5),
];

describe("/stats", () => {
  it("prints `name: value` lines, counters and gauges together in byte order of the name", () => {
    assert.equal(
      statsText(STATS),
      [
        "cluster.backend.upstream_rq_total: 3",
        "cluster.ratelimit.upstream_cx_active: 2",
        "cluster.ratelimit.upstream_rq_200: 5",
        "cluster.ratelimit.upstream_rq_2xx: 5",
        "cluster.ratelimit.upstream_rq_total: 7",
        "cluster_manager.active_clusters: 2",
        "http.ingress_http.downstream_rq_5xx: 1",
        "http.ingress_http.no_route: 0",
        "",
      ].join("\n"),
    );
  });

  it("sorts by whole-name bytes, so `-` comes before `.`", () => {
    assert.equal(statsText([gauge("x.a.z", 1), gauge("x.a-b", 2)]), "x.a-b: 2\nx.a.z: 1\n");
  });

  it("gives the same stats in the same order as {stats:[{name,value}]} for ?format=json", () => {
    const json = statsJson(STATS, { filter: "ratelimit" });
    assert.equal(
      JSON.stringify(json),
      '{"stats":[{"name":"cluster.ratelimit.upstream_cx_active","value":2},' +
        '{"name":"cluster.ratelimit.upstream_rq_200","value":5},' +
        '{"name":"cluster.ratelimit.upstream_rq_2xx","value":5},' +
        '{"name":"cluster.ratelimit.upstream_rq_total","value":7}]}',
    );
    assert.deepEqual(statsJson([]), { stats: [] });
  });

  it("keeps only names the RE2 filter matches anywhere, and every name for an empty filter", () => {
    assert.equal(
      statsText(STATS, { filter: "rq_2" }),
      "cluster.ratelimit.upstream_rq_200: 5\ncluster.ratelimit.upstream_rq_2xx: 5\n",
    );
    assert.equal(
      statsText(STATS, { filter: String.raw`^http\.` }),
      "http.ingress_http.downstream_rq_5xx: 1\nhttp.ingress_http.no_route: 0\n",
    );
    assert.equal(statsText(STATS, { filter: "" }), statsText(STATS));
  });

  it("answers a filter RE2 refuses with Envoy's 400 `Invalid re2 regex`, even where JavaScript would accept it", () => {
    const refused = { error: "bad-request", status: 400, body: INVALID_FILTER_BODY };
    assert.equal(INVALID_FILTER_BODY, "Invalid re2 regex");
    for (const filter of ["(", "a(?=b)", String.raw`(a)\1`]) {
      assert.deepEqual(statsText(STATS, { filter }), refused, filter);
      assert.deepEqual(statsJson(STATS, { filter }), refused, filter);
      assert.deepEqual(prometheusText(STATS, { filter }), refused, filter);
    }
  });

  it("leaves out never-written stats for ?usedonly, trusting an explicit used flag over the value", () => {
    const stats = [counter("a.zero", 0), counter("a.one", 1), { ...gauge("a.back_to_zero", 0), used: true }];
    assert.equal(statsText(stats, { usedOnly: true }), "a.back_to_zero: 0\na.one: 1\n");
    assert.equal(statsText([{ ...counter("a.one", 1), used: false }], { usedOnly: true }), "");
  });
});

describe("/stats/prometheus", () => {
  it("prints counter groups then gauge groups, each with one # TYPE line, tags as labels", () => {
    assert.equal(
      prometheusText(STATS),
      [
        "# TYPE envoy_cluster_upstream_rq counter",
        'envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="ratelimit"} 5',
        "# TYPE envoy_cluster_upstream_rq_total counter",
        'envoy_cluster_upstream_rq_total{envoy_cluster_name="backend"} 3',
        'envoy_cluster_upstream_rq_total{envoy_cluster_name="ratelimit"} 7',
        "# TYPE envoy_cluster_upstream_rq_xx counter",
        'envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="ratelimit"} 5',
        "# TYPE envoy_http_downstream_rq_xx counter",
        'envoy_http_downstream_rq_xx{envoy_response_code_class="5",envoy_http_conn_manager_prefix="ingress_http"} 1',
        "# TYPE envoy_http_no_route counter",
        'envoy_http_no_route{envoy_http_conn_manager_prefix="ingress_http"} 0',
        "# TYPE envoy_cluster_upstream_cx_active gauge",
        'envoy_cluster_upstream_cx_active{envoy_cluster_name="ratelimit"} 2',
        "# TYPE envoy_cluster_manager_active_clusters gauge",
        "envoy_cluster_manager_active_clusters{} 2",
        "",
      ].join("\n"),
    );
  });

  it("orders groups token by token, unlike /stats, and turns invalid characters into `_`", () => {
    assert.ok(compareStatNames("x.a.z", "x.a-b") < 0);
    assert.equal(
      prometheusText([gauge("x.a-b", 2), gauge("x.a.z", 1)]),
      "# TYPE envoy_x_a_z gauge\nenvoy_x_a_z{} 1\n# TYPE envoy_x_a_b gauge\nenvoy_x_a_b{} 2\n",
    );
  });

  it("escapes backslash, double quote and newline in label values", () => {
    const text = prometheusText([counter('cluster.we"ird\\x.upstream_rq_total', 1)]);
    assert.equal(
      text,
      '# TYPE envoy_cluster_upstream_rq_total counter\nenvoy_cluster_upstream_rq_total{envoy_cluster_name="we\\"ird\\\\x"} 1\n',
    );
  });

  it("filters on the full stat name and honours ?usedonly", () => {
    const text = prometheusText(STATS, { filter: "backend|no_route", usedOnly: true });
    assert.equal(
      text,
      '# TYPE envoy_cluster_upstream_rq_total counter\nenvoy_cluster_upstream_rq_total{envoy_cluster_name="backend"} 3\n',
    );
    assert.equal(prometheusText([]), "");
  });

  it("takes only the first dot-separated token of a cluster name as its tag, as Envoy's default extractor does", () => {
    const cluster = translate(walkthroughInput(), "1").clusters[0] as EnvoyCluster;
    const name = clusterStat(cluster, "upstream_rq_total");
    assert.equal(name, "cluster.outbound|80||session-svc.default.svc.cluster.local;.upstream_rq_total");
    assert.equal(
      prometheusText([counter(name, 4)]),
      "# TYPE envoy_cluster_default_svc_cluster_local__upstream_rq_total counter\n" +
        'envoy_cluster_default_svc_cluster_local__upstream_rq_total{envoy_cluster_name="outbound|80||session-svc"} 4\n',
    );
  });
});

/**
 * test/common/stats/tag_extractor_impl_test.cc, DefaultTagExtractors and ExtAuthzTagExtractors, one
 * case a row: `stat name | tag-extracted name | tag=value ...`.
 */
const ENVOY_TAG_CASES = `
cluster.ratelimit.upstream_rq_timeout | cluster.upstream_rq_timeout | envoy.cluster_name=ratelimit
listener.[__1]_0.ssl.ciphers.AES256-SHA | listener.ssl.ciphers | envoy.listener_address=[__1]_0 envoy.ssl_cipher=AES256-SHA
cluster.ratelimit.ssl.ciphers.ECDHE-RSA-AES128-GCM-SHA256 | cluster.ssl.ciphers | envoy.cluster_name=ratelimit cipher_suite=ECDHE-RSA-AES128-GCM-SHA256
listener.[2001_0db8_85a3_0000_0000_8a2e_0370_7334]_3543.ssl.ciphers.AES256-SHA | listener.ssl.ciphers | envoy.listener_address=[2001_0db8_85a3_0000_0000_8a2e_0370_7334]_3543 envoy.ssl_cipher=AES256-SHA
listener.127.0.0.1_0.ssl.ciphers.AES256-SHA | listener.ssl.ciphers | envoy.listener_address=127.0.0.1_0 envoy.ssl_cipher=AES256-SHA
listener.my_prefix.ssl.ciphers.AES256-SHA | listener.ssl.ciphers | envoy.listener_address=my_prefix envoy.ssl_cipher=AES256-SHA
listener.prefix.notmatching.ssl.ciphers.AES256-SHA | listener.notmatching.ssl.ciphers | envoy.listener_address=prefix envoy.ssl_cipher=AES256-SHA
listener.admin.ssl.ciphers.AES256-SHA | listener.admin.ssl.ciphers | envoy.ssl_cipher=AES256-SHA
mongo.mongo_filter.op_reply | mongo.op_reply | envoy.mongo_prefix=mongo_filter
mongo.mongo_filter.cmd.foo_cmd.reply_size | mongo.cmd.reply_size | envoy.mongo_prefix=mongo_filter envoy.mongo_cmd=foo_cmd
mongo.mongo_filter.collection.bar_collection.query.multi_get | mongo.collection.query.multi_get | envoy.mongo_prefix=mongo_filter envoy.mongo_collection=bar_collection
mongo.mongo_filter.collection.bar_collection.callsite.baz_callsite.query.scatter_get | mongo.collection.callsite.query.scatter_get | envoy.mongo_prefix=mongo_filter envoy.mongo_collection=bar_collection envoy.mongo_callsite=baz_callsite
ratelimit.foo_ratelimiter.over_limit | ratelimit.over_limit | envoy.ratelimit_prefix=foo_ratelimiter
foo_ratelimiter.http_local_rate_limit.ok | http_local_rate_limit.ok | envoy.local_http_ratelimit_prefix=foo_ratelimiter
local_rate_limit.foo_ratelimiter.rate_limited | local_rate_limit.rate_limited | envoy.local_network_ratelimit_prefix=foo_ratelimiter
http.egress_dynamodb_iad.downstream_cx_total | http.downstream_cx_total | envoy.http_conn_manager_prefix=egress_dynamodb_iad
http.egress_dynamodb_iad.dynamodb.operation.Query.upstream_rq_time | http.dynamodb.operation.upstream_rq_time | envoy.http_conn_manager_prefix=egress_dynamodb_iad envoy.dynamo_operation=Query
http.egress_dynamodb_iad.dynamodb.table.bar_table.upstream_rq_time | http.dynamodb.table.upstream_rq_time | envoy.http_conn_manager_prefix=egress_dynamodb_iad envoy.dynamo_table=bar_table
http.egress_dynamodb_iad.dynamodb.table.bar_table.capacity.Query.__partition_id=ABC1234 | http.dynamodb.table.capacity | envoy.http_conn_manager_prefix=egress_dynamodb_iad envoy.dynamo_table=bar_table envoy.dynamo_operation=Query envoy.dynamo_partition_id=ABC1234
cluster.grpc_cluster.grpc.grpc_service_1.grpc_method_1.success | cluster.grpc.success | envoy.cluster_name=grpc_cluster envoy.grpc_bridge_method=grpc_method_1 envoy.grpc_bridge_service=grpc_service_1
vhost.vhost_1.vcluster.vcluster_1.upstream_rq_2xx | vhost.vcluster.upstream_rq_xx | envoy.virtual_host=vhost_1 envoy.virtual_cluster=vcluster_1 envoy.response_code_class=2
vhost.vhost_1.vcluster.vcluster_1.upstream_rq_200 | vhost.vcluster.upstream_rq | envoy.virtual_host=vhost_1 envoy.virtual_cluster=vcluster_1 envoy.response_code=200
listener.127.0.0.1_3012.http.http_prefix.downstream_rq_5xx | listener.http.downstream_rq_xx | envoy.http_conn_manager_prefix=http_prefix envoy.listener_address=127.0.0.1_3012 envoy.response_code_class=5
http.egress_dynamodb_iad.user_agent.ios.downstream_cx_total | http.user_agent.downstream_cx_total | envoy.http_user_agent=ios envoy.http_conn_manager_prefix=egress_dynamodb_iad
auth.clientssl.clientssl_prefix.auth_ip_allowlist | auth.clientssl.auth_ip_allowlist | envoy.clientssl_prefix=clientssl_prefix
tcp.tcp_prefix.downstream_flow_control_resumed_reading_total | tcp.downstream_flow_control_resumed_reading_total | envoy.tcp_prefix=tcp_prefix
udp.udp_prefix.downstream_flow_control_resumed_reading_total | udp.downstream_flow_control_resumed_reading_total | envoy.udp_prefix=udp_prefix
http.fault_connection_manager.fault.fault_cluster.aborts_injected | http.fault.aborts_injected | envoy.http_conn_manager_prefix=fault_connection_manager envoy.fault_downstream_cluster=fault_cluster
http.rds_connection_manager.rds.route_config.123.update_success | http.rds.update_success | envoy.http_conn_manager_prefix=rds_connection_manager envoy.rds_route_config=route_config.123
listener_manager.worker_123.dispatcher.loop_duration_us | listener_manager.worker_dispatcher.loop_duration_us | envoy.worker_id=123
listener.127.0.0.1_3012.worker_123.downstream_cx_active | listener.worker_downstream_cx_active | envoy.listener_address=127.0.0.1_3012 envoy.worker_id=123
listener.myprefix.worker_123.downstream_cx_active | listener.worker_downstream_cx_active | envoy.listener_address=myprefix envoy.worker_id=123
server.worker_123.watchdog_miss | server.worker_watchdog_miss | envoy.worker_id=123
thrift.thrift_prefix.response | thrift.response | envoy.thrift_prefix=thrift_prefix
redis.my_redis_prefix.response | redis.response | envoy.redis_prefix=my_redis_prefix
dns_filter.my_dns_prefix.local_a_record_answers | dns_filter.local_a_record_answers | envoy.dns_filter_prefix=my_dns_prefix
http.http_prefix.ext_authz.authpfx.denied | http.ext_authz.denied | envoy.http_conn_manager_prefix=http_prefix envoy.ext_authz_prefix=authpfx
cluster.grpc_cluster.ext_authz.authpfx.ok | cluster.ext_authz.ok | envoy.cluster_name=grpc_cluster envoy.ext_authz_prefix=authpfx
`
  .trim()
  .split("\n")
  .map((row) => {
    const [name = "", extracted = "", tags = ""] = row.split(" | ");
    const pairs = tags.split(" ").map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]);
    return { name, extracted, tags: Object.fromEntries(pairs) as Record<string, string> };
  });

const sortedTags = (tags: Record<string, string>) =>
  Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1));

describe("Envoy's default tag extraction", () => {
  for (const { name, extracted, tags } of ENVOY_TAG_CASES) {
    it(`extracts ${JSON.stringify(tags)} from ${name}`, () => {
      const got = extractTags(name);
      assert.equal(got.tagExtractedName, extracted);
      // Envoy's test accepts the tags in any order (std::is_permutation).
      assert.deepEqual(
        sortedTags(Object.fromEntries(got.tags.map((t) => [t.name, t.value]))),
        sortedTags(tags),
      );
      assert.equal(got.tags.length, Object.keys(tags).length);
    });
  }

  it("lists tags in the order the producer runs extractors: unprefixed ones first", () => {
    const got = extractTags("listener.127.0.0.1_3012.http.http_prefix.downstream_rq_5xx").tags.map(
      (t) => t.name,
    );
    assert.deepEqual(got, [
      "envoy.response_code_class",
      "envoy.http_conn_manager_prefix",
      "envoy.listener_address",
    ]);
  });

  it("matches token patterns as Envoy's TagExtractorTokensTest does", () => {
    const tok = (pattern: string, name: string) => {
      const got = extractWithTokenPattern("t", pattern, name);
      return got && [got.tags[0]?.value, got.tagExtractedName];
    };
    assert.deepEqual(tok("$.is.the.time", "now.is.the.time"), ["now", "is.the.time"]);
    assert.deepEqual(tok("$.is.the.*", "now.is.the.time"), ["now", "is.the.time"]);
    assert.deepEqual(tok("$.is.the.**", "now.is.the.time.to.come.to.the.aid"), [
      "now",
      "is.the.time.to.come.to.the.aid",
    ]);
    assert.equal(tok("$.is.the.*", "now.is.the.time.to.come.to.the.aid"), undefined);
    assert.deepEqual(tok("$.**.aid", "now.is.the.time.to.come.to.the.aid"), [
      "now",
      "is.the.time.to.come.to.the.aid",
    ]);
    const long = "now.is.the.time.to.come.to.the.aid.backtrack.now.aid.of.their";
    assert.deepEqual(tok("$.**.aid.of.their", long), ["now", long.slice(4)]);
    const fake = "now.is.the.time.to.come.to.the.aid.fake.aid.real.of.their";
    const cut = "now.is.the.time.to.come.to.the.aid.fake.aid.of.their";
    assert.deepEqual(tok("now.**.$.of.their", fake), ["real", cut]);
    assert.deepEqual(tok("now.**.aid.$.of.their", fake), ["real", cut]);
    assert.deepEqual(tok("now.is.$.time", "now.is.the.time"), ["the", "now.is.time"]);
    assert.deepEqual(tok("now.*.$.time", "now.is.the.time"), ["the", "now.is.time"]);
    assert.deepEqual(tok("now.is.the.$", "now.is.the.time"), ["time", "now.is.the"]);
    assert.equal(tok("now.is.$.time", "now.was.the.time"), undefined);
    assert.equal(tok("now.$.the", "now.is.the.time"), undefined);
    assert.equal(tok("now.$.the.time.to", "now.is.the.time"), undefined);
  });
});

describe("gateway stat names", () => {
  it("types each name as Envoy's docs do and never lists a name twice", () => {
    const type = (list: typeof CLUSTER_STATS, name: string) => list.find((s) => s.name === name)?.type;
    assert.equal(type(CLUSTER_STATS, "upstream_rq_total"), "counter");
    assert.equal(type(CLUSTER_STATS, "upstream_rq_active"), "gauge");
    assert.equal(type(CLUSTER_STATS, "upstream_rq_pending_active"), "gauge");
    assert.equal(type(CLUSTER_STATS, "upstream_rq_5xx"), "counter");
    assert.equal(type(CLUSTER_STATS, "membership_healthy"), "gauge");
    assert.equal(type(CLUSTER_STATS, "membership_change"), "counter");
    assert.equal(type(OUTLIER_DETECTION_STATS, "ejections_active"), "gauge");
    assert.equal(type(OUTLIER_DETECTION_STATS, "ejections_enforced_consecutive_5xx"), "counter");
    assert.equal(type(CIRCUIT_BREAKER_STATS, "rq_pending_open"), "gauge");
    assert.equal(type(HTTP_CONN_MANAGER_STATS, "downstream_rq_active"), "gauge");
    assert.equal(type(HTTP_CONN_MANAGER_STATS, "no_route"), "counter");
    for (const list of [
      CLUSTER_STATS,
      OUTLIER_DETECTION_STATS,
      CIRCUIT_BREAKER_STATS,
      HTTP_CONN_MANAGER_STATS,
    ]) {
      assert.equal(new Set(list.map((s) => s.name)).size, list.length);
    }
  });

  it("roots cluster stats at the sanitised observability name and http stats at the stat prefix", () => {
    assert.equal(
      clusterStat({ name: "a", altStatName: "" }, "upstream_cx_total"),
      "cluster.a.upstream_cx_total",
    );
    assert.equal(clusterStat({ name: "a", altStatName: "tcp://b:80" }, "x"), "cluster.tcp_b_80.x");
    assert.equal(sanitizeStatsName(".a:/b\0c."), "a_b_c");
    assert.equal(
      httpStat("outbound_0.0.0.0_8080", "downstream_rq_total"),
      "http.outbound_0.0.0.0_8080.downstream_rq_total",
    );
    assert.equal(responseClassStat("upstream", 503), "upstream_rq_5xx");
    assert.equal(responseClassStat("downstream", 200), "downstream_rq_2xx");
  });
});
