import { SessionAffinityError } from "../errors.js";
import { type EndpointInput, normalizeEndpoints } from "../lb/endpoint.js";
import { computeHash, type HashPolicy, type RequestDescription } from "../lb/hash-policy.js";
import { seededRandom } from "../lb/random-source.js";
import {
  createLoadBalancer,
  HASHING_POLICIES,
  isLoadBalancerPolicy,
  LOAD_BALANCER_POLICIES,
} from "../lb/registry.js";
import { isUint64 } from "../lb/uint64.js";
import { parseFlags } from "./args.js";
import type { Command } from "./command.js";

const HELP = `usage: session-affinity pick --endpoints IP:PORT[=WEIGHT],... [key] [options]

Which endpoint does Envoy (as Istio configures it) choose for this request?

  --lb NAME              ring-hash (default), maglev, least-request, round-robin, random
  --endpoints LIST       comma-separated ip:port, optional =WEIGHT each (e.g. 10.0.0.1:8080=2)
  --min-ring-size N      ring hash minimum ring size (default 1024, Istio's)
  --max-ring-size N      ring hash maximum ring size (default 8388608)
  --table-size N         Maglev table size, prime (default 65537)
  --hash N               the request hash, an unsigned 64-bit decimal
  --cookie NAME=VALUE    hash the cookie as httpCookie would
  --header NAME=VALUE    hash the header as httpHeaderName would
  --source-ip IP         hash the client IP as useSourceIp would
  --query NAME=VALUE     hash the query parameter as httpQueryParameterName would
  --seed N               seed for the random draws of non-hashing balancers (default 1)
  --json                 print the hash and the ring/table statistics as JSON
  --help                 show this help

Hashing balancers need exactly one key (--hash, --cookie, --header, --source-ip or --query).`;

const OPTIONS = {
  lb: { type: "string", default: "ring-hash" },
  endpoints: { type: "string" },
  "min-ring-size": { type: "string" },
  "max-ring-size": { type: "string" },
  "table-size": { type: "string" },
  hash: { type: "string" },
  cookie: { type: "string" },
  header: { type: "string" },
  "source-ip": { type: "string" },
  query: { type: "string" },
  seed: { type: "string", default: "1" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

function usage(message: string): SessionAffinityError {
  return new SessionAffinityError("ERR_USAGE", `pick: ${message}`);
}

function integerFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw usage(`--${name} ${value} is not a non-negative integer`);
  }
  return Number(value);
}

function pair(name: string, value: string): [string, string] {
  const equals = value.indexOf("=");
  if (equals <= 0) throw usage(`--${name} ${value} must be NAME=VALUE`);
  return [value.slice(0, equals), value.slice(equals + 1)];
}

function parseEndpointList(list: string): EndpointInput[] {
  return list.split(",").map((item) => {
    const equals = item.lastIndexOf("=");
    if (equals < 0) return { address: item };
    const weight = item.slice(equals + 1);
    if (!/^\d+$/.test(weight))
      throw usage(`--endpoints weight '${weight}' of ${item.slice(0, equals)} is not an integer`);
    return { address: item.slice(0, equals), weight: Number(weight) };
  });
}

/** The request and hash policy that a key flag describes. */
function keyRequest(values: Record<string, string | boolean | undefined>):
  | {
      policy: HashPolicy;
      request: RequestDescription;
      label: string;
    }
  | undefined {
  const given = ["cookie", "header", "source-ip", "query"].filter((k) => values[k] !== undefined);
  if (given.length > 1) throw usage(`give one key, not ${given.map((k) => `--${k}`).join(" and ")}`);
  const flag = given[0];
  if (flag === undefined) return undefined;
  const value = values[flag] as string;
  if (flag === "source-ip") {
    return {
      policy: { kind: "source-ip" },
      request: { headers: [], path: "/", remoteAddress: { ip: value, port: 0 } },
      label: value,
    };
  }
  const [name, v] = pair(flag, value);
  if (flag === "cookie") {
    if (v === "" || v === '""')
      throw usage(`--cookie ${value} has an empty value, which Envoy treats as no cookie`);
    return {
      policy: { kind: "cookie", name },
      request: { headers: [["cookie", `${name}=${v}`]], path: "/" },
      label: value,
    };
  }
  if (flag === "header") {
    return {
      policy: { kind: "header", name },
      request: { headers: [[name.toLowerCase(), v]], path: "/" },
      label: value,
    };
  }
  return { policy: { kind: "query", name }, request: { headers: [], path: `/?${name}=${v}` }, label: value };
}

export const pickCommand: Command = {
  summary: "predict which endpoint Envoy chooses for a request key",
  async run(argv) {
    const { values } = parseFlags("pick", argv, OPTIONS);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const lb = values.lb;
    if (!isLoadBalancerPolicy(lb))
      throw usage(`--lb ${lb} is not one of ${LOAD_BALANCER_POLICIES.join(", ")}`);
    if (!values.endpoints) throw usage("--endpoints is required");
    const endpoints = normalizeEndpoints(parseEndpointList(values.endpoints), "pick: --endpoints");
    const minRingSize = integerFlag("min-ring-size", values["min-ring-size"]);
    const maxRingSize = integerFlag("max-ring-size", values["max-ring-size"]);
    const tableSize = integerFlag("table-size", values["table-size"]);
    const seed = integerFlag("seed", values.seed) ?? 1;
    if (minRingSize !== undefined && maxRingSize !== undefined && minRingSize > maxRingSize) {
      throw usage(`--min-ring-size ${minRingSize} > --max-ring-size ${maxRingSize}`);
    }
    if (tableSize !== undefined && lb === "maglev") {
      const { validateTableSize } = await import("../lb/maglev.js");
      try {
        validateTableSize(tableSize, "--table-size");
      } catch (err) {
        throw usage((err as Error).message);
      }
    }

    let hash: bigint | undefined;
    const key = keyRequest(values);
    if (values.hash !== undefined) {
      if (key) throw usage("give one key, not --hash and another key");
      if (!/^\d+$/.test(values.hash) || !isUint64(BigInt(values.hash)))
        throw usage(`--hash ${values.hash} is not a uint64`);
      hash = BigInt(values.hash);
    } else if (key) {
      if (key.policy.kind === "source-ip" && !(await import("../lb/address.js")).canonicalIp(key.label)) {
        throw usage(`--source-ip ${key.label} is not an IP address`);
      }
      hash = computeHash([key.policy], key.request).hash;
    }
    if (hash === undefined && HASHING_POLICIES.has(lb)) {
      throw usage(`--lb ${lb} needs a key: --hash, --cookie, --header, --source-ip or --query`);
    }

    const balancer = createLoadBalancer(
      lb,
      endpoints,
      {
        ...(minRingSize === undefined ? {} : { minRingSize }),
        ...(maxRingSize === undefined ? {} : { maxRingSize }),
        ...(tableSize === undefined ? {} : { tableSize }),
        random: seededRandom(seed),
      },
      "pick",
    );
    const chosen = balancer.choose({ hash, attempt: 0 });
    if (!chosen) throw usage("--endpoints is empty");
    if (values.json) {
      const out = { endpoint: chosen.address, lb, hash: hash?.toString(), stats: balancer.stats() };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      process.stdout.write(`${chosen.address}\n`);
    }
    return 0;
  },
};
