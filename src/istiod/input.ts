/**
 * What istiod translates for the ingress gateway: the applied Kubernetes and Istio objects as the API
 * server holds them (plain JSON, already admitted), the ready endpoints of each Service, and the
 * gateway proxy itself. Pure data: the translation reads nothing else.
 */

/** An applied object as the API server returns it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: unknown;
}

/** One ready endpoint of a Service (an EndpointSlice entry with its pod's labels and place). */
export interface ServiceEndpoint {
  /** The pod's IP (here a loopback address). */
  readonly address: string;
  /** The port the pod listens on for each Service port, by the Service port's number. */
  readonly ports: Readonly<Record<number, number>>;
  readonly podName: string;
  readonly labels: Readonly<Record<string, string>>;
  /** topology.kubernetes.io/region, zone and topology.istio.io/subzone of the pod's node; "" when unset. */
  readonly locality: { readonly region: string; readonly zone: string; readonly subzone: string };
}

export interface ServiceEndpoints {
  readonly namespace: string;
  readonly name: string;
  readonly endpoints: readonly ServiceEndpoint[];
}

/** The gateway proxy istiod generates configuration for (the istio-ingressgateway pod). */
export interface GatewayProxy {
  readonly namespace: string;
  /** Its pod labels: a Gateway's selector picks the proxies it configures. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Service port → the pod's target port, as the gateway Service maps them (80 → 8080 on
   * istio-ingressgateway): listeners are built on the target port, virtual hosts named by the
   * Service port.
   */
  readonly portMap: Readonly<Record<number, number>>;
  /** The cluster's DNS suffix, `cluster.local` unless configured otherwise. */
  readonly domainSuffix: string;
}

export interface IstiodInput {
  readonly services: readonly KubeObject[];
  readonly gateways: readonly KubeObject[];
  readonly virtualServices: readonly KubeObject[];
  readonly destinationRules: readonly KubeObject[];
  readonly endpoints: readonly ServiceEndpoints[];
  readonly proxy: GatewayProxy;
  /** istiod's feature flags (environment variables of the istiod Deployment); unset means istiod's default. */
  readonly features?: IstiodFeatures;
}

export interface IstiodFeatures {
  /**
   * PILOT_ENABLE_PERSISTENT_SESSION_FILTER (default false): the stateful-session filter on HTTP listeners
   * and its per-route config for Services labelled `istio.io/persistent-session[-header]`.
   */
  readonly enablePersistentSessionFilter?: boolean;
}

/** The Istio minor whose istiod output is reproduced; version-specific behaviour keys off it. */
export const EMULATED_ISTIOD_VERSION = "1.30";

/** The default proxy: Istio's ingress gateway in istio-system, Service port 80 → pod port 8080. */
export const DEFAULT_GATEWAY_PROXY: GatewayProxy = {
  namespace: "istio-system",
  labels: { app: "istio-ingressgateway", istio: "ingressgateway" },
  portMap: { 80: 8080, 443: 8443 },
  domainSuffix: "cluster.local",
};
