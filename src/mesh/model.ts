/**
 * The typed model of the objects the local mesh runs, read once from linted ManifestDocuments. One
 * reader per kind; nothing downstream looks at raw YAML again. Fields the mesh cannot honour are
 * rejected here with the file, line, kind/name and field, so a manifest never half-works.
 */
import { CONFIG_VARIABLES } from "../app/config.js";
import { SessionAffinityError } from "../errors.js";
import { hashKeyProblems } from "../lb/hash-key-syntax.js";
import type { IstioConsistentHash } from "../lb/istio-hash-policy.js";
import { type FieldPath, formatPath, isPlainObject, type ManifestDocument } from "../manifests/index.js";
import { PRESENT_MATCH_REGEX, re2Problem } from "../re2.js";
import { parseGoDuration } from "../validation/go-duration.js";

export const DEFAULT_NAMESPACE = "default";

type Json = Record<string, unknown>;
type Labels = Readonly<Record<string, string>>;

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  /** Downward API field, e.g. metadata.name. */
  readonly fieldRef?: string;
  readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional: boolean };
}

export interface HttpProbe {
  readonly path: string;
  readonly periodSeconds: number;
  readonly failureThreshold: number;
  readonly initialDelaySeconds: number;
  readonly timeoutSeconds: number;
}

export interface DeploymentModel {
  readonly kind: "Deployment";
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly selector: Labels;
  readonly podLabels: Labels;
  /** The pod template as written; its hash names the pods (pod-template-hash). */
  readonly template: Json;
  readonly image: string;
  readonly env: readonly EnvVar[];
  readonly containerPorts: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly readinessProbe?: HttpProbe;
  readonly livenessProbe?: HttpProbe;
  readonly terminationGracePeriodSeconds: number;
  readonly maxSurge: number | string;
  readonly maxUnavailable: number | string;
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort: number | string;
  readonly appProtocol?: string;
}

export interface ServiceModel {
  readonly kind: "Service";
  readonly name: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly selector: Labels;
  readonly ports: readonly ServicePort[];
  readonly type: string;
}

export interface GatewayServer {
  readonly port: { readonly number: number; readonly name: string; readonly protocol: string };
  readonly hosts: readonly string[];
}

export interface GatewayModel {
  readonly kind: "Gateway";
  readonly name: string;
  readonly namespace: string;
  readonly selector: Labels;
  readonly servers: readonly GatewayServer[];
}

export interface StringMatch {
  readonly exact?: string;
  readonly prefix?: string;
  readonly regex?: string;
}

export interface HttpMatch {
  readonly name?: string;
  readonly uri?: StringMatch;
  readonly method?: StringMatch;
  readonly authority?: StringMatch;
  readonly headers?: Readonly<Record<string, StringMatch>>;
  readonly withoutHeaders?: Readonly<Record<string, StringMatch>>;
  readonly queryParams?: Readonly<Record<string, StringMatch>>;
  readonly ignoreUriCase?: boolean;
  readonly port?: number;
}

export interface RouteDestination {
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
  readonly weight: number;
}

export interface HttpRoute {
  readonly name?: string;
  readonly match: readonly HttpMatch[];
  readonly route: readonly RouteDestination[];
  readonly retries?: { readonly attempts: number; readonly retryOn?: string };
  readonly timeoutMs?: number;
}

export interface VirtualServiceModel {
  readonly kind: "VirtualService";
  readonly name: string;
  readonly namespace: string;
  readonly hosts: readonly string[];
  readonly gateways: readonly string[];
  readonly http: readonly HttpRoute[];
}

export interface LoadBalancerSettings {
  readonly simple?: string;
  readonly consistentHash?: IstioConsistentHash & {
    readonly ringHash?: { readonly minimumRingSize?: number };
    readonly maglev?: { readonly tableSize?: number };
    readonly minimumRingSize?: number;
  };
}

/** Of a connectionPool, what the mesh acts on: the cluster's connect timeout. */
export interface ConnectionPoolSettings {
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly maxRequestsPerConnection?: number;
  /** The circuit-breaker fields, as the rule states them (Istio takes 0 as unset). */
  readonly maxConnections?: number;
  readonly http1MaxPendingRequests?: number;
  readonly http2MaxRequests?: number;
  readonly maxRetries?: number;
}

/** The `outlierDetection` fields the mesh acts on, as the rule states them (unset stays unset). */
export interface OutlierDetectionSettings {
  readonly consecutive5xxErrors?: number;
  readonly consecutiveGatewayErrors?: number;
  /** Deprecated in Istio; read only when neither field above is set. */
  readonly consecutiveErrors?: number;
  readonly intervalMs?: number;
  readonly baseEjectionTimeMs?: number;
  readonly maxEjectionPercent?: number;
  readonly minHealthPercent?: number;
}

export interface TrafficPolicy {
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetectionSettings;
  readonly portLevelSettings: readonly {
    readonly port: number;
    readonly loadBalancer?: LoadBalancerSettings;
    readonly connectionPool?: ConnectionPoolSettings;
    readonly outlierDetection?: OutlierDetectionSettings;
  }[];
}

export interface DestinationRuleModel {
  readonly kind: "DestinationRule";
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets: readonly {
    readonly name: string;
    readonly labels: Labels;
    readonly trafficPolicy?: TrafficPolicy;
  }[];
}

export interface SecretModel {
  readonly kind: "Secret";
  readonly name: string;
  readonly namespace: string;
  readonly data: Readonly<Record<string, string>>;
}

export type MeshObject =
  | DeploymentModel
  | ServiceModel
  | GatewayModel
  | VirtualServiceModel
  | DestinationRuleModel
  | SecretModel;

export type MeshKind = MeshObject["kind"];

/** The API group each kind must come from; anything else is not run by the mesh. */
const KIND_GROUPS: Record<MeshKind, string> = {
  Deployment: "apps",
  Service: "",
  Secret: "",
  Gateway: "networking.istio.io",
  VirtualService: "networking.istio.io",
  DestinationRule: "networking.istio.io",
};

export const MESH_KINDS = Object.keys(KIND_GROUPS) as MeshKind[];

/** The image repository the mesh knows how to run as a process (its own `serve`). */
const RUNNABLE_IMAGE = /(^|\/)session-affinity(:[^/]*)?(@.*)?$/;

class Reader {
  constructor(readonly doc: ManifestDocument) {}

  fail(path: FieldPath, message: string): never {
    const { doc } = this;
    const field = path.length > 0 ? ` ${formatPath(path)}:` : "";
    throw new SessionAffinityError(
      "ERR_MANIFEST",
      `${doc.file}:${doc.lineOf(path)} ${doc.kind}/${doc.name}:${field} ${message}`,
    );
  }

  at(path: FieldPath): unknown {
    let value: unknown = this.doc.object;
    for (const segment of path) {
      if (typeof segment === "number") value = Array.isArray(value) ? value[segment] : undefined;
      else value = isPlainObject(value) ? value[segment] : undefined;
    }
    return value;
  }

  object(path: FieldPath): Json | undefined {
    const value = this.at(path);
    if (value === undefined || value === null) return undefined;
    if (!isPlainObject(value)) this.fail(path, "must be a mapping");
    return value;
  }

  array(path: FieldPath): unknown[] {
    const value = this.at(path);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(path, "must be a list");
    return value;
  }

  string(path: FieldPath): string | undefined {
    const value = this.at(path);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") this.fail(path, "must be a string");
    return value;
  }

  requiredString(path: FieldPath): string {
    const value = this.string(path);
    if (value === undefined || value === "") this.fail(path, "is required");
    return value;
  }

  number(path: FieldPath): number | undefined {
    const value = this.at(path);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(path, "must be a number");
    return value;
  }

  labels(path: FieldPath): Labels {
    const value = this.object(path) ?? {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") this.fail([...path, k], "must be a string");
      out[k] = v;
    }
    return out;
  }

  /** Rejects fields of `path` the mesh does not implement, so they are never silently dropped. */
  only(path: FieldPath, allowed: readonly string[], what: string): void {
    const value = this.object(path);
    if (!value) return;
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key))
        this.fail([...path, key], `the local mesh does not implement ${what} ${key}`);
    }
  }

  get namespace(): string {
    return this.doc.namespace ?? DEFAULT_NAMESPACE;
  }
}

/** Whether the mesh handles this document's kind (others are accepted by lint but not run). */
export function isMeshKind(doc: Pick<ManifestDocument, "apiVersion" | "kind">): boolean {
  const group = KIND_GROUPS[doc.kind as MeshKind];
  if (group === undefined) return false;
  return group === "" ? !doc.apiVersion.includes("/") : doc.apiVersion.startsWith(`${group}/`);
}

/** The typed object of a document; throws ERR_MANIFEST naming the field the mesh cannot run. */
export function toMeshObject(doc: ManifestDocument): MeshObject {
  if (!isMeshKind(doc)) {
    throw new SessionAffinityError(
      "ERR_MANIFEST",
      `${doc.file}:${doc.line} ${doc.kind}/${doc.name}: the local mesh runs ${MESH_KINDS.join(", ")} only`,
    );
  }
  const r = new Reader(doc);
  switch (doc.kind as MeshKind) {
    case "Deployment":
      return readDeployment(r);
    case "Service":
      return readService(r);
    case "Gateway":
      return readGateway(r);
    case "VirtualService":
      return readVirtualService(r);
    case "DestinationRule":
      return readDestinationRule(r);
    case "Secret":
      return readSecret(r);
  }
}

function readProbe(r: Reader, path: FieldPath): HttpProbe | undefined {
  if (!r.object(path)) return undefined;
  const httpGet = r.object([...path, "httpGet"]);
  if (!httpGet) r.fail(path, "the local mesh runs httpGet probes only");
  return {
    path: r.string([...path, "httpGet", "path"]) ?? "/",
    periodSeconds: r.number([...path, "periodSeconds"]) ?? 10,
    failureThreshold: r.number([...path, "failureThreshold"]) ?? 3,
    initialDelaySeconds: r.number([...path, "initialDelaySeconds"]) ?? 0,
    timeoutSeconds: r.number([...path, "timeoutSeconds"]) ?? 1,
  };
}

function readDeployment(r: Reader): DeploymentModel {
  const podSpec: FieldPath = ["spec", "template", "spec"];
  const containers = r.array([...podSpec, "containers"]);
  if (containers.length !== 1) {
    r.fail(
      [...podSpec, "containers"],
      `the local mesh runs pods of one container (found ${containers.length})`,
    );
  }
  const c: FieldPath = [...podSpec, "containers", 0];
  const image = r.requiredString([...c, "image"]);
  if (!RUNNABLE_IMAGE.test(image)) {
    r.fail(
      [...c, "image"],
      `${image} cannot run here: the local mesh runs the session-affinity service as a process (use up --store redis instead of a Redis Deployment)`,
    );
  }
  const env = r.array([...c, "env"]).map((_, i): EnvVar => {
    const p: FieldPath = [...c, "env", i];
    const name = r.requiredString([...p, "name"]);
    // A pod is a process of this machine's user: a loader variable (NODE_OPTIONS, LD_PRELOAD, …) in an
    // applied manifest would run any code as that user, so only the service's own variables pass.
    if (!CONFIG_VARIABLES.has(name)) {
      r.fail(
        [...p, "name"],
        `${name} is not a variable the session service reads; the local mesh gives pods only ${[...CONFIG_VARIABLES].join(", ")}`,
      );
    }
    const fieldRef = r.string([...p, "valueFrom", "fieldRef", "fieldPath"]);
    if (fieldRef !== undefined) return { name, fieldRef };
    if (r.object([...p, "valueFrom", "secretKeyRef"])) {
      const ref: FieldPath = [...p, "valueFrom", "secretKeyRef"];
      return {
        name,
        secretKeyRef: {
          name: r.requiredString([...ref, "name"]),
          key: r.requiredString([...ref, "key"]),
          optional: r.at([...ref, "optional"]) === true,
        },
      };
    }
    if (r.object([...p, "valueFrom"]))
      r.fail([...p, "valueFrom"], "the local mesh supports fieldRef and secretKeyRef");
    return { name, value: r.string([...p, "value"]) ?? "" };
  });
  const containerPorts = r.array([...c, "ports"]).map((_, i) => {
    const name = r.string([...c, "ports", i, "name"]);
    const containerPort = r.number([...c, "ports", i, "containerPort"]) ?? 0;
    return name === undefined ? { containerPort } : { name, containerPort };
  });
  const readinessProbe = readProbe(r, [...c, "readinessProbe"]);
  const livenessProbe = readProbe(r, [...c, "livenessProbe"]);
  const strategy: FieldPath = ["spec", "strategy", "rollingUpdate"];
  const percentOrInt = (path: FieldPath): number | string | undefined => {
    const v = r.at(path);
    if (v === undefined) return undefined;
    if (typeof v === "number" || (typeof v === "string" && /^\d+%$/.test(v))) return v;
    return r.fail(path, "must be an integer or a percentage");
  };
  const type = r.string(["spec", "strategy", "type"]);
  if (type !== undefined && type !== "RollingUpdate") {
    r.fail(["spec", "strategy", "type"], "the local mesh implements the RollingUpdate strategy only");
  }
  return {
    kind: "Deployment",
    name: r.doc.name,
    namespace: r.namespace,
    replicas: r.number(["spec", "replicas"]) ?? 1,
    selector: r.labels(["spec", "selector", "matchLabels"]),
    podLabels: r.labels(["spec", "template", "metadata", "labels"]),
    template: r.object(["spec", "template"]) ?? {},
    image,
    env,
    containerPorts,
    ...(readinessProbe ? { readinessProbe } : {}),
    ...(livenessProbe ? { livenessProbe } : {}),
    terminationGracePeriodSeconds: r.number([...podSpec, "terminationGracePeriodSeconds"]) ?? 30,
    maxSurge: percentOrInt([...strategy, "maxSurge"]) ?? "25%",
    maxUnavailable: percentOrInt([...strategy, "maxUnavailable"]) ?? "25%",
  };
}

function readService(r: Reader): ServiceModel {
  const ports = r.array(["spec", "ports"]).map((_, i): ServicePort => {
    const p: FieldPath = ["spec", "ports", i];
    const port = r.number([...p, "port"]);
    if (port === undefined) r.fail([...p, "port"], "is required");
    const target = r.at([...p, "targetPort"]);
    const name = r.string([...p, "name"]);
    const appProtocol = r.string([...p, "appProtocol"]);
    return {
      port,
      targetPort: typeof target === "number" || typeof target === "string" ? target : port,
      ...(name === undefined ? {} : { name }),
      ...(appProtocol === undefined ? {} : { appProtocol }),
    };
  });
  return {
    kind: "Service",
    name: r.doc.name,
    namespace: r.namespace,
    labels: r.labels(["metadata", "labels"]),
    selector: r.labels(["spec", "selector"]),
    ports,
    type: r.string(["spec", "type"]) ?? "ClusterIP",
  };
}

function readGateway(r: Reader): GatewayModel {
  const servers = r.array(["spec", "servers"]).map((_, i): GatewayServer => {
    const p: FieldPath = ["spec", "servers", i];
    return {
      port: {
        number: r.number([...p, "port", "number"]) ?? 0,
        name: r.string([...p, "port", "name"]) ?? "",
        protocol: (r.string([...p, "port", "protocol"]) ?? "").toUpperCase(),
      },
      hosts: r.array([...p, "hosts"]).map((_, h) => r.requiredString([...p, "hosts", h])),
    };
  });
  return {
    kind: "Gateway",
    name: r.doc.name,
    namespace: r.namespace,
    selector: r.labels(["spec", "selector"]),
    servers,
  };
}

/** `presentMatch`: withoutHeaders, where Istio takes regex "*" as present_match, not as RE2. */
function readStringMatch(r: Reader, path: FieldPath, presentMatch = false): StringMatch | undefined {
  const value = r.object(path);
  if (!value) return undefined;
  r.only(path, ["exact", "prefix", "regex"], "the string match");
  const out: { exact?: string; prefix?: string; regex?: string } = {};
  for (const key of ["exact", "prefix", "regex"] as const) {
    const v = r.string([...path, key]);
    if (v !== undefined) out[key] = v;
  }
  if (out.regex !== undefined && !(presentMatch && out.regex === PRESENT_MATCH_REGEX)) {
    const problem = re2Problem(out.regex);
    if (problem !== undefined) r.fail([...path, "regex"], problem);
  }
  return out;
}

function readMatchMap(r: Reader, path: FieldPath): Record<string, StringMatch> | undefined {
  const value = r.object(path);
  if (!value) return undefined;
  const presentMatch = path.at(-1) === "withoutHeaders";
  const out: Record<string, StringMatch> = {};
  for (const key of Object.keys(value))
    out[key.toLowerCase()] = readStringMatch(r, [...path, key], presentMatch) ?? {};
  return out;
}

const HTTP_ROUTE_FIELDS = ["name", "match", "route", "retries", "timeout"];
const HTTP_MATCH_FIELDS = [
  "name",
  "uri",
  "method",
  "authority",
  "headers",
  "withoutHeaders",
  "queryParams",
  "ignoreUriCase",
  "port",
  "gateways",
];

function readVirtualService(r: Reader): VirtualServiceModel {
  for (const section of ["tcp", "tls"]) {
    if (r.array(["spec", section]).length > 0) {
      r.fail(["spec", section], "the local mesh routes HTTP only");
    }
  }
  const http = r.array(["spec", "http"]).map((_, i): HttpRoute => {
    const p: FieldPath = ["spec", "http", i];
    r.only(p, HTTP_ROUTE_FIELDS, "HTTP route field");
    const match = r.array([...p, "match"]).map((__, m): HttpMatch => {
      const mp: FieldPath = [...p, "match", m];
      r.only(mp, HTTP_MATCH_FIELDS, "match field");
      const out: Record<string, unknown> = {};
      const name = r.string([...mp, "name"]);
      if (name !== undefined) out.name = name;
      for (const key of ["uri", "method", "authority"] as const) {
        const v = readStringMatch(r, [...mp, key]);
        if (v) out[key] = v;
      }
      for (const key of ["headers", "withoutHeaders", "queryParams"] as const) {
        const v = readMatchMap(r, [...mp, key]);
        if (v) out[key] = v;
      }
      if (r.at([...mp, "ignoreUriCase"]) === true) out.ignoreUriCase = true;
      const port = r.number([...mp, "port"]);
      if (port !== undefined) out.port = port;
      return out as HttpMatch;
    });
    const routes = r.array([...p, "route"]);
    if (routes.length === 0) r.fail([...p, "route"], "the local mesh needs a route with destinations");
    const route = routes.map((__, d): RouteDestination => {
      const dp: FieldPath = [...p, "route", d];
      r.only(dp, ["destination", "weight"], "route field");
      const subset = r.string([...dp, "destination", "subset"]);
      const port = r.number([...dp, "destination", "port", "number"]);
      return {
        host: r.requiredString([...dp, "destination", "host"]),
        weight: r.number([...dp, "weight"]) ?? (routes.length === 1 ? 100 : 0),
        ...(subset === undefined ? {} : { subset }),
        ...(port === undefined ? {} : { port }),
      };
    });
    const name = r.string([...p, "name"]);
    const out: {
      name?: string;
      match: HttpMatch[];
      route: RouteDestination[];
      retries?: { attempts: number; retryOn?: string };
      timeoutMs?: number;
    } = { match, route };
    if (name !== undefined) out.name = name;
    if (r.object([...p, "retries"])) {
      r.only([...p, "retries"], ["attempts", "retryOn"], "retries field");
      const retryOn = r.string([...p, "retries", "retryOn"]);
      out.retries = {
        attempts: r.number([...p, "retries", "attempts"]) ?? 0,
        ...(retryOn === undefined ? {} : { retryOn }),
      };
    }
    const timeout = r.string([...p, "timeout"]);
    if (timeout !== undefined) out.timeoutMs = durationMs(r, [...p, "timeout"], timeout);
    return out;
  });
  return {
    kind: "VirtualService",
    name: r.doc.name,
    namespace: r.namespace,
    hosts: r.array(["spec", "hosts"]).map((_, h) => r.requiredString(["spec", "hosts", h])),
    gateways: r.array(["spec", "gateways"]).map((_, g) => r.requiredString(["spec", "gateways", g])),
    http,
  };
}

/** A duration as Istio reads one (Go's time.ParseDuration: `5s`, `1h30m`, `250ms`), in milliseconds. */
function durationMs(r: Reader, path: FieldPath, text: string): number {
  const parsed = parseGoDuration(text);
  if ("error" in parsed)
    r.fail(path, `${JSON.stringify(text)} is not a duration like 5s or 1h30m (${parsed.error})`);
  return Number(parsed.ns) / 1e6;
}

/** A duration field, refused under 1 ms as Istio's validation does; undefined when absent. */
function positiveDurationMs(r: Reader, at: FieldPath): number | undefined {
  const text = r.string(at);
  if (text === undefined) return undefined;
  const ms = durationMs(r, at, text);
  if (ms < 1) r.fail(at, "must be at least 1ms");
  return ms;
}

/** A count or percentage field: a whole number ≥ 0 (and ≤ max); undefined when absent. */
function wholeNumber(r: Reader, at: FieldPath, max = Number.POSITIVE_INFINITY): number | undefined {
  const value = r.number(at);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) r.fail(at, "must be a whole number ≥ 0");
  if (value > max) r.fail(at, `must be at most ${max}`);
  return value;
}

const OUTLIER_COUNTS = ["consecutive5xxErrors", "consecutiveGatewayErrors", "consecutiveErrors"] as const;
const OUTLIER_DURATIONS = { interval: "intervalMs", baseEjectionTime: "baseEjectionTimeMs" } as const;
const OUTLIER_PERCENTS = ["maxEjectionPercent", "minHealthPercent"] as const;

/** The consecutive-error ejection settings, checked as the mesh once read them. */
function readOutlierDetection(r: Reader, path: FieldPath): OutlierDetectionSettings | undefined {
  const od = r.object(path);
  if (!od) return undefined;
  const out: Record<string, number> = {};
  for (const key of Object.keys(od)) {
    const at: FieldPath = [...path, key];
    const percent = (OUTLIER_PERCENTS as readonly string[]).includes(key);
    if (percent || (OUTLIER_COUNTS as readonly string[]).includes(key)) {
      const value = wholeNumber(r, at, percent ? 100 : undefined);
      if (value === undefined) r.fail(at, "must be a whole number ≥ 0");
      out[key] = value;
    } else if (key in OUTLIER_DURATIONS) {
      const ms = positiveDurationMs(r, at);
      if (ms === undefined) r.fail(at, "must be a duration like 10s");
      out[OUTLIER_DURATIONS[key as keyof typeof OUTLIER_DURATIONS]] = ms;
    }
  }
  return out as OutlierDetectionSettings;
}

/** The circuit-breaker counts, by section: int32 in Istio's API. */
const POOL_COUNTS = [
  ["tcp", "maxConnections"],
  ["http", "http1MaxPendingRequests"],
  ["http", "http2MaxRequests"],
  ["http", "maxRetries"],
] as const;
const INT32_MAX = 2_147_483_647;

/** The `connectionPool` timeouts, requests per connection and circuit breakers, checked. */
function readConnectionPool(r: Reader, path: FieldPath): ConnectionPoolSettings | undefined {
  const pool = r.object(path);
  if (!pool) return undefined;
  const connectTimeoutMs = positiveDurationMs(r, [...path, "tcp", "connectTimeout"]);
  const idleTimeoutMs = positiveDurationMs(r, [...path, "http", "idleTimeout"]);
  const maxRequestsPerConnection = wholeNumber(r, [...path, "http", "maxRequestsPerConnection"]);
  const counts: Record<string, number> = {};
  for (const [section, field] of POOL_COUNTS) {
    const value = wholeNumber(r, [...path, section, field], INT32_MAX);
    if (value !== undefined) counts[field] = value;
  }
  return {
    ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
    ...(maxRequestsPerConnection === undefined ? {} : { maxRequestsPerConnection }),
    ...counts,
  };
}

function readLoadBalancer(r: Reader, path: FieldPath): LoadBalancerSettings | undefined {
  const lb = r.object(path);
  if (!lb) return undefined;
  r.only(
    path,
    ["simple", "consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup"],
    "loadBalancer",
  );
  const simple = r.string([...path, "simple"]);
  const ch = r.object([...path, "consistentHash"]);
  const [problem] = hashKeyProblems(ch);
  if (problem) r.fail([...path, "consistentHash", ...problem.path], problem.message);
  return {
    ...(simple === undefined ? {} : { simple }),
    ...(ch ? { consistentHash: ch as LoadBalancerSettings["consistentHash"] } : {}),
  };
}

function readTrafficPolicy(r: Reader, path: FieldPath): TrafficPolicy | undefined {
  const tp = r.object(path);
  if (!tp) return undefined;
  const loadBalancer = readLoadBalancer(r, [...path, "loadBalancer"]);
  const connectionPool = readConnectionPool(r, [...path, "connectionPool"]);
  const outlierDetection = readOutlierDetection(r, [...path, "outlierDetection"]);
  const portLevelSettings = r.array([...path, "portLevelSettings"]).map((_, i) => {
    const p: FieldPath = [...path, "portLevelSettings", i];
    const port = r.number([...p, "port", "number"]);
    if (port === undefined) r.fail([...p, "port", "number"], "is required");
    const settings = readLoadBalancer(r, [...p, "loadBalancer"]);
    const pool = readConnectionPool(r, [...p, "connectionPool"]);
    const outlier = readOutlierDetection(r, [...p, "outlierDetection"]);
    return {
      port,
      ...(settings ? { loadBalancer: settings } : {}),
      ...(pool ? { connectionPool: pool } : {}),
      ...(outlier ? { outlierDetection: outlier } : {}),
    };
  });
  return {
    ...(loadBalancer ? { loadBalancer } : {}),
    ...(connectionPool ? { connectionPool } : {}),
    ...(outlierDetection ? { outlierDetection } : {}),
    portLevelSettings,
  };
}

function readDestinationRule(r: Reader): DestinationRuleModel {
  const trafficPolicy = readTrafficPolicy(r, ["spec", "trafficPolicy"]);
  const subsets = r.array(["spec", "subsets"]).map((_, i) => {
    const p: FieldPath = ["spec", "subsets", i];
    const tp = readTrafficPolicy(r, [...p, "trafficPolicy"]);
    return {
      name: r.requiredString([...p, "name"]),
      labels: r.labels([...p, "labels"]),
      ...(tp ? { trafficPolicy: tp } : {}),
    };
  });
  return {
    kind: "DestinationRule",
    name: r.doc.name,
    namespace: r.namespace,
    host: r.requiredString(["spec", "host"]),
    ...(trafficPolicy ? { trafficPolicy } : {}),
    subsets,
  };
}

function readSecret(r: Reader): SecretModel {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.labels(["data"])))
    data[k] = Buffer.from(v, "base64").toString("utf8");
  for (const [k, v] of Object.entries(r.labels(["stringData"]))) data[k] = v;
  return { kind: "Secret", name: r.doc.name, namespace: r.namespace, data };
}

/** Whether a label selector picks a set of labels (an empty selector picks nothing, as for Services). */
export function selects(selector: Labels, labels: Labels): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/**
 * An Istio host in a namespace → the Service FQDN it names (`name`, `name.ns`, `name.ns.svc`,
 * `name.ns.svc.cluster.local`), or the host unchanged when it is not a Kubernetes service name.
 */
export function serviceFqdn(host: string, namespace: string): string {
  const parts = host.split(".");
  if (parts.length === 1) return `${host}.${namespace}.svc.cluster.local`;
  if (parts.length === 2) return `${host}.svc.cluster.local`;
  if (parts.length === 3 && parts[2] === "svc") return `${host}.cluster.local`;
  return host;
}

export function objectKey(o: { kind: string; namespace: string; name: string }): string {
  return `${o.kind}/${o.namespace}/${o.name}`;
}
