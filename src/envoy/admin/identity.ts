/**
 * The proxy identity of Istio's ingress gateway as pilot-agent writes it into Envoy's bootstrap
 * (istio/istio pkg/bootstrap/config.go, tools/packaging/common/envoy_bootstrap.json), and the node and
 * build version Envoy derives from it (envoy: source/common/version/version.cc).
 */
import type { ProxyIdentity } from "./views.js";

/**
 * The Istio release whose proxy is emulated. Its istio.deps pins istio/proxy at
 * 81864a1cd5099d2f9e1289bfc604f4b200b2b27c (also istio/proxy's tag 1.30.3).
 */
export const EMULATED_ISTIO_RELEASE = "1.30.3";

/**
 * The Envoy that release ships: istio/proxy@81864a1c builds Envoy
 * 4f1e006e2db1c4263924993bc1dae3ed9e3b886a (its WORKSPACE ENVOY_SHA), whose VERSION.txt, copied to
 * istio/proxy's ENVOY_VERSION.txt, reads "1.38.4-dev": the release/v1.38 branch after 1.38.3.
 */
export const EMULATED_ENVOY_VERSION = "1.38.4-dev";

/**
 * The istio/proxy commit each Istio 1.30 release builds istio-proxy from (istio.deps PROXY_REPO_SHA at
 * the release tag). istio-proxy is built in that repository, so its Envoy reports this commit as
 * its revision (istio/proxy bazel/bazel_get_workspace_status), and the image sets it as
 * ISTIO_META_ISTIO_PROXY_SHA (pilot/docker/Dockerfile.proxyv2).
 */
export const ISTIO_PROXY_REVISIONS: Readonly<Record<string, string>> = {
  "1.30.0": "7319e99e3b3a4cd0f44208e18af02c7399eca1b0",
  "1.30.1": "30239470de8a90fc9b8ec8f284fa09313f2ba6ad",
  "1.30.2": "34ce4554c88740f88bfc4dc826ae33e1dd21d8fc",
  "1.30.3": "81864a1cd5099d2f9e1289bfc604f4b200b2b27c",
};

/** The Kubernetes facts pilot-agent reads about the gateway pod. */
export interface IstioGatewayPod {
  readonly podName: string;
  readonly namespace: string;
  readonly podIp: string;
  readonly adminPort: number;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly istioVersion?: string;
  readonly envoyVersion?: string;
}

/** The default cluster domain, used in the node id and as the mesh id (the default trust domain). */
const DOMAIN_SUFFIX = "cluster.local";

/**
 * The identity pilot-agent gives an ingress gateway pod. Only node metadata that follows from the
 * pod is set; what pilot-agent reads from the mesh config or the container (PROXY_CONFIG, POD_PORTS,
 * NODE_NAME, SERVICE_ACCOUNT, ANNOTATIONS, ...) is left out rather than guessed.
 */
export function istioGatewayIdentity(pod: IstioGatewayPod): ProxyIdentity {
  const istioVersion = pod.istioVersion ?? EMULATED_ISTIO_RELEASE;
  const workload = deploymentName(pod.podName, pod.labels);
  const proxySha = ISTIO_PROXY_REVISIONS[istioVersion];
  const metadata: Record<string, unknown> = {
    // Injected by the gateway template (manifests/.../gateway-injection-template.yaml).
    CLUSTER_ID: "Kubernetes",
    // StringList marshals as one comma-separated string (pkg/model/proxy.go).
    INSTANCE_IPS: pod.podIp,
    ...(proxySha ? { ISTIO_PROXY_SHA: proxySha } : {}),
    ISTIO_VERSION: istioVersion,
    // Struct fields print in key order.
    LABELS: Object.fromEntries(Object.entries(pod.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    MESH_ID: DOMAIN_SUFFIX,
    NAME: pod.podName,
    NAMESPACE: pod.namespace,
    ...(workload
      ? {
          OWNER: `kubernetes://apis/apps/v1/namespaces/${pod.namespace}/deployments/${workload}`,
          WORKLOAD_NAME: workload,
        }
      : {}),
  };
  return {
    // model.Proxy ServiceNode: type~ip~pod.namespace~namespace.svc.<domain>.
    nodeId: `router~${pod.podIp}~${pod.podName}.${pod.namespace}~${pod.namespace}.svc.${DOMAIN_SUFFIX}`,
    nodeCluster: serviceCluster(pod.labels, workload, pod.namespace),
    nodeMetadata: metadata,
    // The bootstrap template binds admin to localhost.
    adminAddress: { address: "127.0.0.1", portValue: pod.adminPort },
    envoyVersion: pod.envoyVersion ?? EMULATED_ENVOY_VERSION,
    istioVersion,
    startedAt: pod.startedAt,
  };
}

/**
 * serviceClusterOrDefault for the default tracing service name (APP_LABEL_AND_NAMESPACE): the app
 * label (app, app.kubernetes.io/name, service.istio.io/canonical-name, in that order), else the
 * workload, with the namespace.
 */
function serviceCluster(labels: Readonly<Record<string, string>>, workload: string | undefined, ns: string) {
  const app = labels.app ?? labels["app.kubernetes.io/name"] ?? labels["service.istio.io/canonical-name"];
  return `${app ?? workload ?? "istio-proxy"}.${ns}`;
}

/**
 * The Deployment owning a ReplicaSet pod: Kubernetes names the pod `<replicaset>-<suffix>` and the
 * ReplicaSet `<deployment>-<pod-template-hash>`, which is how the injector finds it
 * (pkg/kube/inject GetDeployMetaFromPod). Undefined for a pod not made that way.
 */
function deploymentName(podName: string, labels: Readonly<Record<string, string>>): string | undefined {
  const hash = labels["pod-template-hash"];
  if (!hash) return undefined;
  const at = podName.lastIndexOf(`-${hash}-`);
  return at > 0 ? podName.slice(0, at) : undefined;
}

/** Envoy's build as /server_info and the node's user agent describe it. */
export interface EnvoyBuild {
  readonly revision: string;
  readonly revisionStatus: string;
}

/**
 * The build behind the identity. For a known Istio release it is the istio/proxy commit, built
 * clean. Otherwise no commit is known; Envoy's other way to name its source is a distribution build
 * (envoy: bazel/get_workspace_status reads SOURCE_VERSION and reports the status "Distribution"),
 * so the Istio release stands where the commit would.
 */
export function envoyBuild(identity: ProxyIdentity): EnvoyBuild {
  const sha = ISTIO_PROXY_REVISIONS[identity.istioVersion];
  return sha
    ? { revision: sha, revisionStatus: "Clean" }
    : { revision: identity.istioVersion, revisionStatus: "Distribution" };
}

/**
 * VersionInfo::version(): `<revision>/<version>/<status>/<build type>/<ssl>`; Istio ships release
 * builds on BoringSSL.
 */
export function envoyVersionString(identity: ProxyIdentity): string {
  const build = envoyBuild(identity);
  return `${build.revision}/${identity.envoyVersion}/${build.revisionStatus}/RELEASE/BoringSSL`;
}

/**
 * The node as Envoy holds it (LocalInfo, printed in the bootstrap dump and /server_info): the
 * bootstrap's node plus the user agent Envoy stamps on it. Envoy also lists every compiled-in
 * extension and its client features there; those depend on the build and are left out.
 */
export function envoyNode(identity: ProxyIdentity): Record<string, unknown> {
  const build = envoyBuild(identity);
  // VersionInfo::makeBuildVersion: "1.38.4-dev" is 1.38.4 with the build label "dev".
  const [, major, minor, patch, label] = /^(\d+)\.(\d+)\.(\d+)(?:-(.*))?$/.exec(identity.envoyVersion) ?? [];
  const semantic = {
    ...(Number(major) ? { majorNumber: Number(major) } : {}),
    ...(Number(minor) ? { minorNumber: Number(minor) } : {}),
    ...(Number(patch) ? { patch: Number(patch) } : {}),
  };
  return {
    id: identity.nodeId,
    cluster: identity.nodeCluster,
    metadata: identity.nodeMetadata,
    // The bootstrap template always writes a locality; the gateway's pod has none we know of.
    locality: {},
    userAgentName: "envoy",
    userAgentBuildVersion: {
      version: semantic,
      // keyValueStruct of a std::map, so in key order.
      metadata: {
        ...(label ? { "build.label": label } : {}),
        "build.type": "RELEASE",
        "revision.sha": build.revision,
        "revision.status": build.revisionStatus,
        "ssl.version": "BoringSSL",
      },
    },
  };
}
