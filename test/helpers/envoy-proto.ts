/**
 * Strict check of an Envoy v3 resource in proto3 JSON form (as Envoy's /config_dump prints it) against
 * Envoy's own .proto files, the copies @grpc/grpc-js-xds ships under deps/.
 *
 * protobufjs's `Type.fromObject` drops unknown fields and coerces values, so it cannot tell a misspelt
 * field from a right one. This walks the JSON against the message descriptors instead:
 * - field names must be the proto3 JSON names (lowerCamelCase as protoc derives them: `consecutive_5xx`
 *   → `consecutive5xx`), as a config dump prints them;
 * - scalars must have their canonical JSON form: 64-bit integers as decimal strings, 32-bit ones as
 *   numbers in range, enums by name, bytes as base64;
 * - at most one member of a oneof may be set;
 * - well-known types take their special JSON forms (Duration "10s", wrappers as bare values, Struct/Value
 *   as any JSON, Any as an object with "@type" whose other fields are checked against that type).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import protobuf from "protobufjs";

const require = createRequire(import.meta.url);
const DEPS = path.join(path.dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");
const PROTOBUFJS = path.dirname(require.resolve("protobufjs/package.json"));
const INCLUDE_DIRS = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => path.join(DEPS, d));

export const TYPE_URL_PREFIX = "type.googleapis.com/";

function protoFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".proto"))
    .map((f) => f.split(path.sep).join("/"));
}

/** Where an import resolves: protobufjs's own google/protobuf files, then the shipped include dirs. */
function resolveImport(target: string): string | undefined {
  if (target.startsWith("google/protobuf/")) {
    const shipped = path.join(PROTOBUFJS, target);
    // protobufjs bundles the well-known types itself even where it ships no file.
    return existsSync(shipped) ? shipped : target;
  }
  for (const dir of INCLUDE_DIRS) {
    const candidate = path.join(dir, target);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const IMPORT = /^import\s+(?:public\s+|weak\s+)?"([^"]+)";/gm;

/**
 * Whether a file and everything it imports is shipped: a few Envoy files import protos (opencensus,
 * v2 API) that the package leaves out; those files describe nothing a Cluster or an endpoint uses.
 */
function loadable(target: string, memo: Map<string, boolean>): boolean {
  const known = memo.get(target);
  if (known !== undefined) return known;
  memo.set(target, true); // an import cycle is not a missing file
  const file = resolveImport(target);
  let ok = file !== undefined;
  if (file && !target.startsWith("google/protobuf/")) {
    for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
      if (!loadable(m[1] as string, memo)) {
        ok = false;
        break;
      }
    }
  }
  memo.set(target, ok);
  return ok;
}

let root: protobuf.Root | undefined;

/** Every loadable Envoy v3 message (envoy-api's v3 protos with their imports), loaded once per process. */
export function envoyRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => resolveImport(target) ?? target;
  const memo = new Map<string, boolean>();
  const files = protoFilesUnder(path.join(DEPS, "envoy-api")).filter(
    (f) => f.startsWith("envoy/") && f.includes("/v3/") && loadable(f, memo),
  );
  // Istio wraps its own filters' config in TypedStruct, which no Envoy file imports.
  files.push("udpa/type/v1/typed_struct.proto", "xds/type/v3/typed_struct.proto");
  // keepCase: field names stay as written in the .proto, so JSON names are derived exactly like protoc.
  r.loadSync(files, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

/** protoc's ToJsonName: drop each underscore and upper-case the character after it. */
export function jsonName(field: protobuf.Field): string {
  const explicit = (field.options as Record<string, unknown> | undefined)?.json_name;
  if (typeof explicit === "string") return explicit;
  let out = "";
  let upper = false;
  for (const c of field.name) {
    if (c === "_") upper = true;
    else {
      out += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return out;
}

export interface CheckOptions {
  /**
   * Any payload types that are not Envoy's (e.g. Istio's own filters); their body is not checked, only
   * listed so that an unexpected foreign type still fails.
   */
  readonly opaqueAnyTypes?: readonly string[];
}

const INT32 = new Set(["int32", "sint32", "sfixed32"]);
const UINT32 = new Set(["uint32", "fixed32"]);
const INT64 = new Set(["int64", "sint64", "sfixed64", "uint64", "fixed64"]);
const WRAPPERS: Record<string, string> = {
  "google.protobuf.DoubleValue": "double",
  "google.protobuf.FloatValue": "float",
  "google.protobuf.Int64Value": "int64",
  "google.protobuf.UInt64Value": "uint64",
  "google.protobuf.Int32Value": "int32",
  "google.protobuf.UInt32Value": "uint32",
  "google.protobuf.BoolValue": "bool",
  "google.protobuf.StringValue": "string",
  "google.protobuf.BytesValue": "bytes",
};
const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

class Checker {
  readonly errors: string[] = [];
  constructor(
    private readonly root: protobuf.Root,
    private readonly opaque: ReadonlySet<string>,
  ) {}

  fail(at: string, why: string): undefined {
    this.errors.push(`${at || "<root>"}: ${why}`);
  }

  scalar(type: string, v: unknown, at: string): undefined {
    if (INT32.has(type) || UINT32.has(type)) {
      const [lo, hi] = INT32.has(type) ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
      if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi)
        this.fail(at, `expected ${type} number, got ${JSON.stringify(v)}`);
    } else if (INT64.has(type)) {
      const unsigned = type.startsWith("u") || type === "fixed64";
      if (typeof v !== "string" || !(unsigned ? /^\d+$/ : /^-?\d+$/).test(v))
        this.fail(at, `expected ${type} as a decimal string, got ${JSON.stringify(v)}`);
    } else if (type === "double" || type === "float") {
      if (typeof v !== "number" && !["NaN", "Infinity", "-Infinity"].includes(v as string))
        this.fail(at, `expected ${type}, got ${JSON.stringify(v)}`);
    } else if (type === "bool") {
      if (typeof v !== "boolean") this.fail(at, `expected bool, got ${JSON.stringify(v)}`);
    } else if (type === "string") {
      if (typeof v !== "string") this.fail(at, `expected string, got ${JSON.stringify(v)}`);
    } else if (type === "bytes") {
      if (typeof v !== "string" || !BASE64.test(v))
        this.fail(at, `expected base64 bytes, got ${JSON.stringify(v)}`);
    } else {
      this.fail(at, `unknown scalar type ${type}`);
    }
  }

  /** A value of a field's element type (scalar, enum or message). */
  element(field: protobuf.Field, v: unknown, at: string): undefined {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Enum) {
      if (typeof v !== "string" || !(v in rt.values))
        this.fail(at, `expected a ${rt.fullName.slice(1)} name, got ${JSON.stringify(v)}`);
    } else if (rt instanceof protobuf.Type) {
      this.message(rt, v, at);
    } else {
      this.scalar(field.type, v, at);
    }
  }

  message(type: protobuf.Type, v: unknown, at: string): undefined {
    const name = type.fullName.slice(1);
    const wrapped = WRAPPERS[name];
    if (wrapped) return this.scalar(wrapped, v, at);
    switch (name) {
      case "google.protobuf.Duration":
        if (typeof v !== "string" || !DURATION.test(v))
          this.fail(at, `expected a Duration like "10s", got ${JSON.stringify(v)}`);
        return;
      case "google.protobuf.Timestamp":
        if (typeof v !== "string" || !TIMESTAMP.test(v))
          this.fail(at, `expected an RFC 3339 Timestamp, got ${JSON.stringify(v)}`);
        return;
      case "google.protobuf.FieldMask":
        if (typeof v !== "string") this.fail(at, "expected a FieldMask string");
        return;
      case "google.protobuf.Value":
        if (v === undefined) this.fail(at, "expected a JSON value");
        return;
      case "google.protobuf.Struct":
        if (!isObject(v)) this.fail(at, "expected a JSON object (Struct)");
        return;
      case "google.protobuf.ListValue":
        if (!Array.isArray(v)) this.fail(at, "expected a JSON array (ListValue)");
        return;
      case "google.protobuf.Any":
        return this.any(v, at);
    }
    if (!isObject(v)) return this.fail(at, `expected a ${name} object, got ${JSON.stringify(v)}`);
    const byJson = new Map<string, protobuf.Field>();
    for (const f of type.fieldsArray) byJson.set(jsonName(f), f);
    const oneofSeen = new Map<string, string>();
    for (const [key, value] of Object.entries(v)) {
      const here = at ? `${at}.${key}` : key;
      const field = byJson.get(key);
      if (!field) {
        this.fail(here, `no field "${key}" in ${name}`);
        continue;
      }
      if (value === null) {
        this.fail(here, "null is not printed by a config dump");
        continue;
      }
      if (field.partOf) {
        const other = oneofSeen.get(field.partOf.name);
        if (other) this.fail(here, `oneof ${field.partOf.name} already set by "${other}"`);
        oneofSeen.set(field.partOf.name, key);
      }
      this.field(field, value, here);
    }
  }

  field(field: protobuf.Field, v: unknown, at: string): undefined {
    if (field instanceof protobuf.MapField) {
      if (!isObject(v)) return this.fail(at, "expected a JSON object (map)");
      for (const [k, value] of Object.entries(v)) {
        if (field.keyType !== "string" && !/^-?\d+$/.test(k))
          this.fail(`${at}[${k}]`, `map key must be ${field.keyType}`);
        if (field.keyType === "bool" && k !== "true" && k !== "false")
          this.fail(`${at}[${k}]`, "map key must be bool");
        this.element(field, value, `${at}[${k}]`);
      }
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(v)) return this.fail(at, `expected an array, got ${JSON.stringify(v)}`);
      v.forEach((item, i) => {
        this.element(field, item, `${at}[${i}]`);
      });
      return;
    }
    this.element(field, v, at);
  }

  any(v: unknown, at: string): undefined {
    if (!isObject(v)) return this.fail(at, "expected an Any object");
    const url = v["@type"];
    if (typeof url !== "string" || !url.startsWith(TYPE_URL_PREFIX))
      return this.fail(at, `Any needs "@type": "${TYPE_URL_PREFIX}<message>"`);
    const typeName = url.slice(TYPE_URL_PREFIX.length);
    if (this.opaque.has(typeName)) return;
    let type: protobuf.Type;
    try {
      type = this.root.lookupType(typeName);
    } catch {
      return this.fail(at, `unknown Any type ${typeName}`);
    }
    const { "@type": _, ...rest } = v;
    // A well-known type inside an Any keeps its special JSON form under "value".
    if (typeName.startsWith("google.protobuf.") && typeName !== "google.protobuf.Empty") {
      if (Object.keys(rest).some((k) => k !== "value"))
        this.fail(at, `Any of ${typeName} takes only "value"`);
      return this.message(type, rest.value, `${at}.value`);
    }
    this.message(type, rest, at);
  }
}

/** The problems found checking `value` as the Envoy message `typeName`; empty when it fits. */
export function checkEnvoyJson(typeName: string, value: unknown, options: CheckOptions = {}): string[] {
  const r = envoyRoot();
  const checker = new Checker(r, new Set(options.opaqueAnyTypes ?? []));
  checker.message(r.lookupType(typeName), value, "");
  return checker.errors;
}

/** Checks a resource that names its own type with "@type", as a config dump prints each resource. */
export function checkEnvoyResource(value: unknown, options: CheckOptions = {}): string[] {
  const r = envoyRoot();
  const checker = new Checker(r, new Set(options.opaqueAnyTypes ?? []));
  checker.any(value, "");
  return checker.errors;
}

/** Throws, naming every failing path, unless `value` fits `typeName`. */
export function assertEnvoyJson(typeName: string, value: unknown, options: CheckOptions = {}): void {
  const errors = checkEnvoyJson(typeName, value, options);
  if (errors.length > 0) throw new Error(`not a valid ${typeName}:\n  ${errors.join("\n  ")}`);
}
