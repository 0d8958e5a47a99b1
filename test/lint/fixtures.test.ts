import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { describe, it } from "node:test";
import { lintManifests } from "../../src/lint/index.js";
import { loadManifests } from "../../src/manifests/index.js";

const DIR = "test/fixtures/lint";

/**
 * Every fixture with the exact findings it must produce, as "line kind/name rule-id detail", where
 * detail is the message up to the rule's reason (" — ...").
 */
const EXPECTED: Record<string, string[]> = {
  "unknown-field.yaml": [
    '28 DestinationRule/web schema/unknown-field unknown field "spec.trafficPolicy.loadBalancer.consistantHash"',
    '38 Pod/debug schema/unknown-field unknown field "spec.containers[0].ports[0].nmae"',
  ],
  "wrong-types.yaml": [
    '6 Deployment/web schema/invalid spec.replicas must be integer, got string "2"',
    '16 Deployment/web schema/invalid spec.template.spec.containers[0].resources.limits.memory must be a valid quantity, got string "lots"',
    '25 Service/web schema/invalid spec.type must be one of ClusterIP, ExternalName, LoadBalancer, NodePort, got string "Balanced"',
    '34 DestinationRule/web schema/invalid spec.trafficPolicy.loadBalancer.simple must be one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST, got string "ROUND"',
  ],
  "walkthrough-cookie.yaml": [
    '33 DestinationRule/session pitfall/cookie-without-ttl DestinationRule session: httpCookie "sid" has no ttl, so the gateway never sets it',
    '34 DestinationRule/session pitfall/cookie-name-collision DestinationRule session: httpCookie "sid" is also the app\'s session cookie',
  ],
  "istio-validation.yaml": [
    "30 DestinationRule/maglev istio/webhook DestinationRule maglev: tableSize must be a prime number for maglev",
    "41 DestinationRule/cookie istio/webhook DestinationRule cookie: name required for HttpCookie",
    "43 DestinationRule/cookie istio/webhook DestinationRule cookie: duplicate cookie attribute name: SameSite",
    "45 DestinationRule/cookie istio/webhook DestinationRule cookie: portTrafficPolicy must have valid port",
    "46 DestinationRule/cookie istio/webhook DestinationRule cookie: port traffic policy must have at least one field",
    "57 DestinationRule/rings istio/webhook DestinationRule rings: only one of MinimumRingSize or Maglev/Ringhash can be specified",
    "62 DestinationRule/rings istio/webhook DestinationRule rings: traffic policy must have at least one field",
    "71 DestinationRule/schema schema/invalid spec.trafficPolicy.loadBalancer sets more than one of fields that exclude each other (simple, consistentHash)",
    "73 DestinationRule/schema schema/invalid spec.trafficPolicy.loadBalancer.consistentHash sets more than one of fields that exclude each other (httpHeaderName, useSourceIp)",
    "74 DestinationRule/schema istio/crd-rule spec.trafficPolicy.outlierDetection.baseEjectionTime: Invalid value: \"string\": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: must be a valid duration greater than 1ms",
    '74 DestinationRule/schema istio/crd-rule spec.trafficPolicy.outlierDetection.interval: Invalid value: "string": must be a valid duration greater than 1ms',
    "74 DestinationRule/schema pitfall/hash-with-outlier-detection DestinationRule schema: consistentHash is combined with outlierDetection",
    "83 DestinationRule/deprecated istio/webhook-warning DestinationRule deprecated: outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead",
    "83 DestinationRule/deprecated pitfall/hash-with-outlier-detection DestinationRule deprecated: consistentHash is combined with outlierDetection",
    "85 DestinationRule/deprecated istio/webhook-warning DestinationRule deprecated: consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
  ],

  "virtual-service-regex.yaml": [
    '15 VirtualService/web istio/webhook VirtualService web: "uri": error parsing regexp: invalid escape sequence: `\\1`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
    '16 VirtualService/web istio/webhook VirtualService web: "uri": error parsing regexp: invalid or unsupported Perl syntax: `(?=`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
    '18 VirtualService/web istio/webhook VirtualService web: "headers": error parsing regexp: invalid named capture: `(?<=id-)\\d+`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
    '22 VirtualService/web istio/webhook VirtualService web: "queryParams": regex string match should not be empty',
    '26 VirtualService/web istio/webhook VirtualService web: "corsPolicy.allowOrigins": error parsing regexp: invalid or unsupported Perl syntax: `(?!`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
  ],

  "hash-key-syntax.yaml": [
    '18 DestinationRule/cookie envoy/cookie-syntax DestinationRule cookie: spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name "sid\\r\\nSet-Cookie: admin=1" is not a token (letters, digits and !#$%&\'*+-.^_`|~), as RFC 6265 requires',
    "19 DestinationRule/cookie envoy/cookie-syntax DestinationRule cookie: spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.path \"/; Domain=evil.example\" holds a control character, a non-ASCII character or ';', which RFC 6265 forbids there",
    '21 DestinationRule/cookie envoy/cookie-syntax DestinationRule cookie: spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[0].name "Same Site" is not a token (letters, digits and !#$%&\'*+-.^_`|~), as RFC 6265 requires',
    '26 DestinationRule/cookie envoy/hash-key-name DestinationRule cookie: spec.trafficPolicy.portLevelSettings[0].loadBalancer.consistentHash.httpHeaderName "x-user\\nx-evil" holds NUL, CR or LF, which a header name cannot',
    "33 DestinationRule/cookie envoy/hash-key-name DestinationRule cookie: spec.subsets[0].trafficPolicy.loadBalancer.consistentHash.httpQueryParameterName must not be empty",
  ],
  "broken-references.yaml": [
    '19 Service/web xref/target-port Service web: targetPort "web" is not a container port of Deployment/web (declared: http/8080)',
    "25 Service/api xref/service-selector Service api: selector app=api matches no pod template among Deployment/web",
    '33 VirtualService/web xref/gateway VirtualService web: gateway "public-gateway" is not among the linted manifests',
    '36 VirtualService/web xref/route-subset VirtualService web: subset "v2" of host "web" is defined by no DestinationRule',
    "37 VirtualService/web istio/webhook-warning VirtualService web: virtualService rule #1 not used (only the last rule can have no matches)",
    '38 VirtualService/web xref/route-host VirtualService web: destination host "shop.default.svc.cluster.local" matches no Service',
    '49 DestinationRule/web xref/subset-labels DestinationRule web: subset "v3" labels version=v3 select no pod of Service web',
    '55 DestinationRule/cart xref/destination-rule-host DestinationRule cart: host "cart" matches no Service',
  ],

  "protocol-and-affinity.yaml": [
    "19 Service/web pitfall/client-ip-affinity Service web: sessionAffinity ClientIP has no effect on traffic through Istio proxies",
    '21 Service/web pitfall/port-not-http Service web: port 80 (name "web") has no http appProtocol or name prefix, but DestinationRule web hashes on HTTP data',
    '22 Service/web pitfall/port-not-http Service web: port 9090 (name "metrics") has no http appProtocol or name prefix, but DestinationRule web hashes on HTTP data',
  ],
  "hash-and-routing.yaml": [
    "31 DestinationRule/web pitfall/hash-with-outlier-detection DestinationRule web: consistentHash is combined with outlierDetection",
    "46 VirtualService/web pitfall/hash-weighted-destinations VirtualService web: http[0] splits over 2 subset destinations of a consistent-hash host",
    "47 VirtualService/web pitfall/port-level-hash-without-route-port VirtualService web: destination web names no port, so DestinationRule web's port-level consistentHash is not applied",
    "48 VirtualService/web pitfall/port-level-hash-without-route-port VirtualService web: destination web names no port, so DestinationRule web's port-level consistentHash is not applied",
  ],
  "gateways.yaml": [
    "25 Deployment/ingress pitfall/hash-with-gateway-replicas Deployment/ingress: gateway for Gateway/public runs 3 replicas while a DestinationRule uses consistentHash",
    "41 Gateway/public pitfall/tls-passthrough Gateway public: servers[0] passes TLS through while DestinationRule web hashes on HTTP data",
    "52 VirtualService/web pitfall/tls-passthrough VirtualService web: tls route to web, which DestinationRule web hashes on HTTP data",
  ],
  "namespaces.yaml": [
    '25 DestinationRule/web pitfall/short-host-other-namespace DestinationRule web: host "web" is looked up in namespace istio-system, but Service web is in apps; write web.apps.svc.cluster.local',
  ],
  "gateway-api.yaml": [
    "3 HTTPRoute/web schema/no-schema no schema for gateway.networking.k8s.io/v1 HTTPRoute",
    "9 HTTPRoute/web pitfall/gateway-api-session-persistence HTTPRoute web: rules[0].sessionPersistence is set",
  ],
  "replicas-and-shutdown.yaml": [
    "5 Deployment/session-deployment pitfall/single-replica Deployment/session-deployment: replicas defaults to 1 behind consistent-hash Service session-svc",
    "10 Deployment/session-deployment pitfall/termination-grace Deployment/session-deployment: terminationGracePeriodSeconds 10 is not above SHUTDOWN_DELAY_MS 5000 + SHUTDOWN_TIMEOUT_MS 10000",
    '24 Service/session-svc pitfall/cookie-name-collision Service session-svc: persistent-session cookie "sid" is also the app\'s session cookie',
  ],
  "malformed.yaml": [
    "2 -/- manifest/not-an-object document is not a mapping of fields",
    "5 ConfigMap/- manifest/missing-name metadata.name must be a non-empty string",
    "10 -/- manifest/missing-type apiVersion and kind must both be non-empty strings",
    "20 ConfigMap/twice manifest/duplicate ConfigMap/twice is also defined at test/fixtures/lint/malformed.yaml:13",
  ],
};

describe("lint fixtures", () => {
  it("has an expectation for every fixture file", async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith(".yaml")).sort();
    assert.deepEqual(files, Object.keys(EXPECTED).sort());
  });

  for (const [fixture, expected] of Object.entries(EXPECTED)) {
    it(`${fixture} produces exactly its expected findings`, async () => {
      const file = `${DIR}/${fixture}`;
      const findings = await lintManifests(await loadManifests([file]));
      assert.ok(findings.every((f) => f.file === file));
      const actual = findings.map(
        (f) => `${f.line} ${f.kind}/${f.name} ${f.ruleId} ${f.message.split(" — ")[0]}`,
      );
      assert.deepEqual(actual, expected);
    });
  }
});
