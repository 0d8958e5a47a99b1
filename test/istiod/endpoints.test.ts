import assert from "node:assert/strict";
import { test } from "node:test";
import { buildEndpoints, workloadName } from "../../src/istiod/endpoints.js";
import { checkEnvoyResource } from "../helpers/envoy-proto.js";
import { HOST, PODS, walkthroughInput } from "./walkthrough-input.js";

/** buildEnvoyLbEndpoint + util.AppendLbEndpointMetadata for one injected session pod. */
const lbEndpoint = (i: number) => ({
  endpoint: { address: { socketAddress: { address: `127.0.0.${11 + i}`, portValue: 8080 } } },
  healthStatus: "HEALTHY",
  metadata: {
    filterMetadata: {
      "envoy.transport_socket_match": { tlsMode: "istio" },
      // workload;namespace;canonical name (the app label);revision ("latest" left out);cluster ID
      istio: { workload: "session-deployment;default;session;;Kubernetes" },
    },
  },
  loadBalancingWeight: 1,
});

test("the walkthrough's service: one locality per zone, each weighted by its endpoints", () => {
  const assignments = buildEndpoints(walkthroughInput());
  assert.deepEqual(assignments, [
    {
      "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
      clusterName: `outbound|80||${HOST}`,
      endpoints: ["a", "b", "c"].map((z, i) => ({
        locality: { region: "eu-west-1", zone: `eu-west-1${z}` },
        lbEndpoints: [lbEndpoint(i)],
        loadBalancingWeight: 1,
      })),
    },
  ]);
  for (const a of assignments) assert.deepEqual(checkEnvoyResource(a), []);
});

test("a subset cluster gets only the pods carrying the subset's labels; a shared locality sums weights", () => {
  const input = walkthroughInput();
  const pods = PODS.map((p, i) => ({
    ...p,
    labels: { ...p.labels, version: i === 0 ? "v1" : "v2" },
    locality: { region: "", zone: "", subzone: "" },
  }));
  const rule = {
    ...input.destinationRules[0],
    spec: { host: "session-svc", subsets: [{ name: "v2", labels: { version: "v2" } }] },
  };
  const assignments = buildEndpoints({
    ...input,
    destinationRules: [rule as (typeof input.destinationRules)[0]],
    endpoints: [{ namespace: "default", name: "session-svc", endpoints: pods }],
  });
  assert.deepEqual(
    assignments.map((a) => [
      a.clusterName,
      a.endpoints.map((l) => [l.locality, l.loadBalancingWeight, l.lbEndpoints.length]),
    ]),
    [
      [`outbound|80||${HOST}`, [[{}, 3, 3]]],
      [`outbound|80|v2|${HOST}`, [[{}, 2, 2]]],
    ],
  );
  assert.deepEqual(
    assignments[1]?.endpoints[0]?.lbEndpoints.map((e) => e.endpoint.address.socketAddress.address),
    ["127.0.0.12", "127.0.0.13"],
  );
  for (const a of assignments) assert.deepEqual(checkEnvoyResource(a), []);
});

test("a Deployment pod's workload is its Deployment", () => {
  assert.equal(workloadName("session-deployment-7d9f8b6c5d-x2k9p"), "session-deployment");
  assert.equal(workloadName("standalone"), "standalone");
});
