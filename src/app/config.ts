import { z } from "zod";
import { SessionAffinityError } from "../errors.js";

const int = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });
const bool = oneOf(["true", "false"]).transform((v) => v === "true");
const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

/**
 * Every environment variable the service reads, with its default and meaning. The schema, the
 * defaults and `serve --help` all come from this one table.
 */
const VARIABLES = {
  PORT: { schema: int(0, 65535), default: "8080", help: "TCP port to listen on (0 picks a free one)" },
  HOST: { schema: z.string().min(1), default: "0.0.0.0", help: "address to listen on" },
  POD_NAME: {
    schema: z.string(),
    default: "",
    help: "name shown as Hostname (Kubernetes downward API); empty: OS hostname",
  },
  SESSION_STORE: {
    schema: oneOf(["memory", "redis"]),
    default: "memory",
    help: "where session state lives: memory | redis",
  },
  REDIS_URL: {
    schema: z.string().regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL"),
    default: "redis://127.0.0.1:6379",
    help: "Redis server for SESSION_STORE=redis (redis:// or rediss://)",
  },
  REDIS_CLUSTER_NODES: {
    schema: z
      .string()
      .refine(
        (v) => v === "" || v.split(",").every((n) => hostPort.test(n.trim())),
        "must be a comma-separated list of host:port",
      )
      .transform((v) => (v === "" ? [] : v.split(",").map((n) => n.trim()))),
    default: "",
    help: "Redis Cluster seed nodes host:port,host:port (overrides REDIS_URL's host)",
  },
  REDIS_KEY_PREFIX: {
    schema: z.string().max(128),
    default: "session:",
    help: "prefix of every session key in Redis",
  },
  SESSION_SECRET: {
    schema: z.string().refine((v) => v === "" || v.length >= 16, "must be at least 16 characters"),
    default: "",
    help: "HMAC key that signs session ids (required for redis; shared by all replicas)",
  },
  SESSION_TTL_SECONDS: {
    schema: int(1, 31_536_000),
    default: "1800",
    help: "idle seconds before a session expires (sliding)",
  },
  MAX_SESSIONS: {
    schema: int(1, 16_000_000),
    default: "1000000",
    help: "memory store capacity, at most 16000000 (a V8 Map limit); least recently used evicted",
  },
  COOKIE_NAME: {
    schema: z
      .string()
      .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/, "must be a cookie-name token of 1-64 characters"),
    default: "sid",
    help: "name of the session cookie",
  },
  COOKIE_SECURE: { schema: bool, default: "false", help: "add Secure to the session cookie: true | false" },
  STORE_TIMEOUT_MS: {
    schema: int(1, 60_000),
    default: "1000",
    help: "a store call slower than this answers 503",
  },
  SHUTDOWN_DELAY_MS: {
    schema: int(0, 600_000),
    default: "0",
    help: "on SIGTERM, keep serving this long (readyz 503) before closing",
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: int(0, 600_000),
    default: "10000",
    help: "after closing, wait this long for in-flight requests",
  },
  EXIT_WITH_PARENT: {
    schema: bool,
    default: "false",
    help: "stop gracefully when the parent process is gone (the local mesh sets it, so no replica outlives it)",
  },
  LOG_LEVEL: {
    schema: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    default: "info",
    help: "pino log level",
  },
} as const;

type Vars = typeof VARIABLES;
/** Every environment variable the service reads: a pod in the local mesh is given these and no others. */
export const CONFIG_VARIABLES: ReadonlySet<string> = new Set(Object.keys(VARIABLES));

export type Config = { [K in keyof Vars]: z.output<Vars[K]["schema"]> };

/** Validates the environment once; the first bad variable becomes one ERR_CONFIG line naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(VARIABLES)) {
    const raw = env[name] ?? spec.default;
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? "invalid";
      throw new SessionAffinityError(
        "ERR_CONFIG",
        `${name}=${JSON.stringify(raw)}: ${describe(reason, spec)}`,
      );
    }
    out[name] = parsed.data;
  }
  const config = out as Config;
  if (config.SESSION_STORE === "redis" && config.SESSION_SECRET === "") {
    throw new SessionAffinityError(
      "ERR_CONFIG",
      "SESSION_SECRET: required when SESSION_STORE=redis, so every replica signs and accepts the same session ids",
    );
  }
  return config;
}

function describe(reason: string, spec: { help: string }): string {
  return `${reason} (${spec.help})`;
}

/** The config as it is safe to log: secrets redacted, credentials stripped from URLs. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    SESSION_SECRET: config.SESSION_SECRET ? "[redacted]" : "",
    REDIS_URL: config.REDIS_URL.replace(/\/\/[^@/]*@/, "//[redacted]@"),
  };
}

export function configHelp(): string {
  const width = Math.max(...Object.keys(VARIABLES).map((k) => k.length));
  return Object.entries(VARIABLES)
    .map(
      ([name, spec]) =>
        `  ${name.padEnd(width)}  ${spec.help} (default: ${spec.default === "" ? "empty" : spec.default})`,
    )
    .join("\n");
}
