/**
 * What the proxy's Istio release changes for this route: known regressions and fixes of consistent
 * hashing and its cookie, each from the release notes and issues of the field report
 * (shared/reference/istio-affinity-field-report.md §4). Only notes this route's configuration makes
 * relevant; a proxy of unknown version gets one note saying the check was skipped. Pure.
 */
import { str } from "../proxy-config/config-dump.js";
import type { Finding, ProxyFacts, RouteContext, RoutedCluster } from "./context.js";
import {
  at,
  cookiePolicies,
  destinationRuleFix,
  hashingClusters,
  hashPolicies,
  lbPolicyEvidence,
  lbPolicyOf,
  previousHostsPredicate,
  routeHashes,
  routeSession,
  serviceHost,
} from "./diagnoses-read.js";

/** Where a config dump holds the version: the bootstrap section's node metadata. */
export const ISTIO_VERSION_PATH = "bootstrap.node.metadata.ISTIO_VERSION";

interface Version {
  readonly major: number;
  readonly minor: number;
  /** Absent for "1.30" or "1.30-dev": a build whose patch is not known. */
  readonly patch?: number;
}

/** "1.30.0", "1.31.0-rc.0", "1.30.1-distroless", "1.30-dev": a pre-release counts as its release. */
export function parseIstioVersion(text: string | undefined): Version | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? "");
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), ...(m[3] === undefined ? {} : { patch: Number(m[3]) }) };
}

/** Whether `v` is older than major.minor (the patch does not matter for a minor's changes). */
const olderThan = (v: Version, major: number, minor: number) =>
  v.major < major || (v.major === major && v.minor < minor);

export function versionNotes(proxy: ProxyFacts, ctx: RouteContext): Finding[] {
  const hashing = hashingClusters(ctx);
  const waypointWithoutHash =
    proxy.kind === "waypoint" && hashing.length > 0 && hashPolicies(ctx).length === 0 && !routeSession(ctx);
  const hashed = routeHashes(ctx);
  if (!hashed && !waypointWithoutHash) return [];
  const version = parseIstioVersion(proxy.istioVersion);
  const versionEvidence = at(ISTIO_VERSION_PATH, proxy.istioVersion);
  if (!version)
    return [
      {
        id: "istio-version-unknown",
        severity: "note",
        message: `The dump names ${proxy.istioVersion ? `Istio version "${proxy.istioVersion}", which is not a release number` : "no Istio version"}, so the release-specific bugs of consistent hashing were not checked.`,
        evidence: [versionEvidence],
        source: "https://istio.io/latest/docs/releases/supported-releases/",
      },
    ];
  const v = proxy.istioVersion as string;
  const host = serviceHost(hashing[0] as RoutedCluster);
  const notes: Finding[] = [];

  // Envoy 1.38's coalesced load-balancer rebuilds left the ring stale on scale-up (envoy#45212);
  // Istio 1.30.1 turns the runtime flag off in the bootstrap (istio/istio PR #60329, #60342). A
  // version without a patch ("1.30", a dev build or the local mesh's emulated minor) is not flagged:
  // every release build names its patch.
  const ringHash = hashing.filter((c) => lbPolicyOf(c.cluster.value) === "RING_HASH");
  if (version.major === 1 && version.minor === 30 && version.patch === 0 && hashed && ringHash.length > 0) {
    notes.push({
      id: "ring-not-rebuilt-1.30.0",
      severity: "caveat",
      message: `Istio ${v} runs Envoy 1.38 with coalesced load-balancer rebuilds, which leave the RING_HASH ring unrebuilt when pods are added, so new pods get no sessions (fixed in 1.30.1, envoy#45212).`,
      evidence: [versionEvidence, ...ringHash.map((c) => lbPolicyEvidence(c.cluster))],
      fix: `# upgrade to Istio 1.30.1, or on the proxy's pod until then:\nmetadata:\n  annotations:\n    proxy.istio.io/config: |\n      runtimeValues:\n        "envoy.reloadable_features.coalesce_lb_rebuilds_on_batch_update": "false"\n`,
      source: "https://github.com/istio/istio/issues/60312",
    });
  }

  if (waypointWithoutHash && olderThan(version, 1, 31)) {
    notes.push({
      id: "waypoint-hash-policy-before-1.31",
      severity: "note",
      message: `Istio ${v} gives a waypoint's inbound route no hash policy unless a VirtualService names the service; 1.31 adds it from the DestinationRule alone (istio/istio PR #61048).`,
      evidence: [versionEvidence, ...hashing.map((c) => lbPolicyEvidence(c.cluster))],
      fix: `apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  hosts: [${host}]\n  http:\n  - route:\n    - destination: {host: ${host}}\n`,
      source: "https://github.com/istio/istio/issues/61045",
    });
  }

  // Before 1.23 every default retry policy carried previous_hosts; since, a single consistent-hash
  // destination gets none (istio/istio PR #50759), and 1.26 adds retryIgnorePreviousHosts.
  const predicate = previousHostsPredicate(ctx);
  if (predicate && hashed && ctx.clusters.length === 1 && olderThan(version, 1, 23)) {
    notes.push({
      id: "retry-previous-hosts-before-1.23",
      severity: "note",
      message: `Istio ${v} adds the previous_hosts predicate to the default retries of every route, consistent hash or not; from 1.23 a route to one consistent-hash destination gets none, so its retries stay on the hashed pod.`,
      evidence: [versionEvidence, predicate],
      source: "https://github.com/istio/istio/issues/50756",
    });
  }

  for (const cookie of cookiePolicies(ctx)) {
    const name = str(cookie.value.name);
    const generated = cookie.value.ttl !== undefined;
    if (generated && olderThan(version, 1, 28) && cookie.value.attributes === undefined) {
      notes.push({
        id: "cookie-attributes-before-1.28",
        severity: "note",
        message: `Istio ${v} cannot give the generated cookie "${name}" attributes such as SameSite or Secure (httpCookie.attributes came in 1.28), so browsers apply their defaults to it.`,
        evidence: [versionEvidence, at(`${cookie.path}.attributes`, cookie.value.attributes)],
        fix: `# Istio 1.28 or later\n${destinationRuleFix(host, `loadBalancer:\n  consistentHash:\n    httpCookie:\n      name: ${name}\n      ttl: ${str(cookie.value.ttl) || "3600s"}\n      attributes:\n      - {name: SameSite, value: Lax}\n      - {name: Secure}`)}`,
        source: "https://github.com/istio/istio/pull/57735",
      });
    }
    if (olderThan(version, 1, 20)) {
      notes.push({
        id: "passive-cookie-before-1.20",
        severity: "note",
        message: generated
          ? `Istio ${v} requires httpCookie.ttl, so the gateway always generates cookie "${name}"; hashing on a cookie only the application sets (no ttl) is accepted from 1.20.`
          : `Istio ${v} refuses httpCookie without ttl, so cookie policy "${name}" without ttl did not come from a DestinationRule (an EnvoyFilter?); 1.20 accepts it.`,
        evidence: [versionEvidence, at(`${cookie.path}.ttl`, cookie.value.ttl)],
        source: "https://github.com/istio/istio/pull/46973",
      });
    }
  }
  return notes;
}
