/**
 * istiod's decoding of a DestinationRule's spec, which comes before every rule: the webhook turns the
 * spec into the Go proto with golang/protobuf v1.5 jsonpb (crd.ConvertObject → config.ApplyJSON →
 * protomarshal.ApplyJSON), and a field it cannot read refuses the whole object with
 * `error decoding configuration: <err>` — no other error, no warning, not even the metadata checks.
 * jsonpb walks each message's fields in the .proto's declaration order (istio/api
 * networking/v1alpha3/destination_rule.proto), depth first, and stops at the first failure; the
 * tables below keep that order, so the field reported is Go's (within a map, whose entries Go takes
 * in random order, the manifest's first).
 *
 * Covered is what the CRD's structural schema lets through to the webhook: Duration strings Go's
 * time.ParseDuration refuses (tcp idleTimeout and httpCookie ttl have no CEL rule; the others' CEL
 * rule answers first in a cluster), integers outside their Go type (int32 fields only carry a
 * `format` the API server does not check), and enum names or numbers jsonpb does not know. A value
 * of the wrong JSON type is the schema's to refuse and is not reported here.
 */
import type { FieldPath } from "../manifests/types.js";
import { parseGoDuration } from "./go-duration.js";
import { goQuote } from "./istio-names.js";

type Integer = "int32" | "uint32" | "uint64";
interface Enum {
  readonly name: string;
  readonly values: readonly string[];
}
type Kind = "string" | "bool" | "double" | "duration" | Integer | Enum | Message;
/** A field: its JSON name, its kind, whether it is a list or a map (of string keys). */
type Field = readonly [json: string, kind: Kind, shape?: "list" | "map"];
type Message = readonly Field[];

const INTEGER_RANGE: Readonly<Record<Integer, readonly [bigint, bigint]>> = {
  int32: [-(1n << 31n), (1n << 31n) - 1n],
  uint32: [0n, (1n << 32n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
};

const PACKAGE = "istio.networking.v1alpha3";
const enumOf = (name: string, values: readonly string[]): Enum => ({ name: `${PACKAGE}.${name}`, values });

// Wrapper messages (UInt32Value, DoubleValue, BoolValue) are read as their bare value in JSON.
const OUTLIER_DETECTION: Message = [
  ["consecutiveErrors", "int32"],
  ["splitExternalLocalOriginErrors", "bool"],
  ["consecutiveLocalOriginFailures", "uint32"],
  ["consecutiveGatewayErrors", "uint32"],
  ["consecutive5xxErrors", "uint32"],
  ["interval", "duration"],
  ["baseEjectionTime", "duration"],
  ["maxEjectionPercent", "int32"],
  ["minHealthPercent", "int32"],
];

const CONNECTION_POOL: Message = [
  [
    "tcp",
    [
      ["maxConnections", "int32"],
      ["connectTimeout", "duration"],
      [
        "tcpKeepalive",
        [
          ["probes", "uint32"],
          ["time", "duration"],
          ["interval", "duration"],
        ],
      ],
      ["maxConnectionDuration", "duration"],
      ["idleTimeout", "duration"],
    ],
  ],
  [
    "http",
    [
      ["http1MaxPendingRequests", "int32"],
      ["http2MaxRequests", "int32"],
      ["maxRequestsPerConnection", "int32"],
      ["maxRetries", "int32"],
      ["idleTimeout", "duration"],
      [
        "h2UpgradePolicy",
        enumOf("ConnectionPoolSettings.HTTPSettings.H2UpgradePolicy", [
          "DEFAULT",
          "DO_NOT_UPGRADE",
          "UPGRADE",
        ]),
      ],
      ["useClientProtocol", "bool"],
      ["maxConcurrentStreams", "int32"],
    ],
  ],
];

const LOCALITY_LB_SETTING: Message = [
  [
    "distribute",
    [
      ["from", "string"],
      ["to", "uint32", "map"],
    ],
    "list",
  ],
  [
    "failover",
    [
      ["from", "string"],
      ["to", "string"],
    ],
    "list",
  ],
  ["failoverPriority", "string", "list"],
  ["enabled", "bool"],
];

const LOAD_BALANCER: Message = [
  [
    "simple",
    enumOf("LoadBalancerSettings.SimpleLB", [
      "UNSPECIFIED",
      "LEAST_CONN",
      "RANDOM",
      "PASSTHROUGH",
      "ROUND_ROBIN",
      "LEAST_REQUEST",
    ]),
  ],
  [
    "consistentHash",
    [
      ["httpHeaderName", "string"],
      [
        "httpCookie",
        [
          ["name", "string"],
          ["path", "string"],
          ["ttl", "duration"],
          [
            "attributes",
            [
              ["name", "string"],
              ["value", "string"],
            ],
            "list",
          ],
        ],
      ],
      ["useSourceIp", "bool"],
      ["httpQueryParameterName", "string"],
      ["ringHash", [["minimumRingSize", "uint64"]]],
      ["maglev", [["tableSize", "uint64"]]],
      ["minimumRingSize", "uint64"],
    ],
  ],
  ["localityLbSetting", LOCALITY_LB_SETTING],
  ["warmupDurationSecs", "duration"],
  [
    "warmup",
    [
      ["duration", "duration"],
      ["minimumPercent", "double"],
      ["aggression", "double"],
    ],
  ],
];

const CLIENT_TLS: Message = [
  ["mode", enumOf("ClientTLSSettings.TLSmode", ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"])],
  ["clientCertificate", "string"],
  ["privateKey", "string"],
  ["caCertificates", "string"],
  ["credentialName", "string"],
  ["subjectAltNames", "string", "list"],
  ["sni", "string"],
  ["insecureSkipVerify", "bool"],
  ["caCrl", "string"],
];

const TRAFFIC_POLICY: Message = [
  ["loadBalancer", LOAD_BALANCER],
  ["connectionPool", CONNECTION_POOL],
  ["outlierDetection", OUTLIER_DETECTION],
  ["tls", CLIENT_TLS],
  [
    "portLevelSettings",
    [
      ["port", [["number", "uint32"]]],
      ["loadBalancer", LOAD_BALANCER],
      ["connectionPool", CONNECTION_POOL],
      ["outlierDetection", OUTLIER_DETECTION],
      ["tls", CLIENT_TLS],
    ],
    "list",
  ],
  [
    "tunnel",
    [
      ["protocol", "string"],
      ["targetHost", "string"],
      ["targetPort", "uint32"],
    ],
  ],
  ["proxyProtocol", [["version", enumOf("TrafficPolicy.ProxyProtocol.VERSION", ["V1", "V2"])]]],
  [
    "retryBudget",
    [
      ["percent", "double"],
      ["minRetryConcurrency", "uint32"],
    ],
  ],
];

const DESTINATION_RULE: Message = [
  ["host", "string"],
  ["trafficPolicy", TRAFFIC_POLICY],
  [
    "subsets",
    [
      ["name", "string"],
      ["labels", "string", "map"],
      ["trafficPolicy", TRAFFIC_POLICY],
    ],
    "list",
  ],
  ["exportTo", "string", "list"],
  ["workloadSelector", [["matchLabels", "string", "map"]]],
];

export interface DecodeProblem {
  readonly path: FieldPath;
  /** The webhook's whole answer: `error decoding configuration: …`. */
  readonly message: string;
}

/** The spec's first field jsonpb cannot decode, or undefined when it decodes. */
export function destinationRuleDecodeProblem(spec: unknown): DecodeProblem | undefined {
  const found = message(spec, DESTINATION_RULE, ["spec"]);
  return found && { path: found.path, message: `error decoding configuration: ${found.message}` };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function message(value: unknown, fields: Message, path: FieldPath): DecodeProblem | undefined {
  // A `null` message is unset, and so is a `null` element of a list of messages (it stays empty).
  if (!isObject(value)) return undefined;
  for (const [name, kind, shape] of fields) {
    const v = value[name];
    // jsonpb skips a field whose JSON is `null`.
    if (v === undefined || v === null) continue;
    const at = [...path, name];
    let found: DecodeProblem | undefined;
    if (shape === "list") {
      const items = Array.isArray(v) ? v : [];
      for (const [i, item] of items.entries()) {
        found = singular(item, kind, [...at, i]);
        if (found) break;
      }
    } else if (shape === "map") {
      for (const [key, item] of Object.entries(isObject(v) ? v : {})) {
        found = singular(item, kind, [...at, key]);
        if (found) break;
      }
    } else {
      found = singular(v, kind, at);
    }
    if (found) return found;
  }
  return undefined;
}

function singular(value: unknown, kind: Kind, path: FieldPath): DecodeProblem | undefined {
  if (Array.isArray(kind)) return message(value, kind as Message, path);
  if (kind === "duration") return typeof value === "string" ? duration(value, path) : undefined;
  if (kind === "int32" || kind === "uint32" || kind === "uint64") return integer(value, kind, path);
  if (typeof kind === "object") return enumValue(value, kind as Enum, path);
  return undefined;
}

/** The Duration case of jsonpb's unmarshalMessage: time.ParseDuration of the string. */
function duration(text: string, path: FieldPath): DecodeProblem | undefined {
  const parsed = parseGoDuration(text);
  return "error" in parsed ? { path, message: `bad Duration: ${parsed.error}` } : undefined;
}

/**
 * encoding/json into a Go integer: the number as Go's encoder wrote it (the webhook re-encodes the
 * spec from float64s, which prints as JavaScript does) must be an integer literal within the type.
 */
function integer(value: unknown, type: Integer, path: FieldPath): DecodeProblem | undefined {
  if (typeof value !== "number") return undefined;
  const text = String(value);
  const [min, max] = INTEGER_RANGE[type];
  if (/^-?[0-9]+$/.test(text) && BigInt(text) >= min && BigInt(text) <= max) return undefined;
  return { path, message: `json: cannot unmarshal number ${text} into Go value of type ${type}` };
}

/** jsonpb's EnumKind case: a known value name, or any int32 number. */
function enumValue(value: unknown, type: Enum, path: FieldPath): DecodeProblem | undefined {
  if (typeof value === "number") {
    const found = integer(value, "int32", path);
    return found && { path, message: found.message.replace(/ int32$/, " protoreflect.EnumNumber") };
  }
  if (typeof value !== "string" || type.values.includes(value)) return undefined;
  // Go quotes the raw JSON text, as Go's encoder wrote the string (it escapes <, > and &).
  const raw = JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
  return { path, message: `unknown value ${goQuote(raw)} for enum ${type.name}` };
}
