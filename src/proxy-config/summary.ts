/**
 * istioctl's `proxy-config all`: every section in turn, reproduced from istio/istio
 * istioctl/pkg/writer/envoy/configdump/configdump.go (PrintFullSummary, PrintBootstrapSummary),
 * istioctl/pkg/writer/compare/sds/{util,writer}.go (the secrets table) and
 * istioctl/pkg/proxyconfig/proxyconfig.go (allConfigCmd: names shown, verbose tables, which flags
 * reach which section).
 */
import { X509Certificate } from "node:crypto";
import { SessionAffinityError } from "../errors.js";
import {
  type ConfigDump,
  type DumpSecret,
  dumpBootstrapNode,
  dumpSecrets,
  field,
  isObject,
  num,
  objects,
  str,
} from "./config-dump.js";
import { type EndpointFilter, edsTable } from "./endpoints.js";
import { tabwrite } from "./go-text.js";
import {
  type ClusterFilter,
  clustersTable,
  type ListenerFilter,
  listenersTable,
  NARROW,
  type RouteFilter,
  routesTable,
  row,
  WIDE,
} from "./tables.js";

/** Istio and Envoy versions from the bootstrap node's metadata and user_agent_build_version. */
export function bootstrapSummary(dump: ConfigDump): string {
  const node = dumpBootstrapNode(dump);
  const metadata = isObject(node.metadata) ? node.metadata : {};
  const istioVersion = str(metadata.ISTIO_VERSION);
  // pilot-agent sets ISTIO_PROXY_SHA to "istio-proxy:<sha>".
  const shaParts = str(metadata.ISTIO_PROXY_SHA).split(":");
  const sha = shaParts.length > 1 ? (shaParts[1] ?? "") : (shaParts[0] ?? "");
  const build = field(node, "userAgentBuildVersion");
  const v = (k: string) => num(field(build, "version", k));
  let envoy = `${v("majorNumber")}.${v("minorNumber")}.${v("patch")}`;
  const md = field(build, "metadata");
  const labels: [string, string][] = [
    ["build.label", "-"],
    ["revision.status", "/"],
    ["build.type", "/"],
    ["ssl.version", "/"],
  ];
  for (const [key, sep] of labels) if (isObject(md) && key in md) envoy += `${sep}${str(md[key])}`;
  let text = "";
  if (istioVersion) text += row("Istio Version:", istioVersion);
  if (sha) text += row("Istio Proxy Version:", sha);
  text += row("Envoy Version:", envoy);
  return tabwrite(text, NARROW);
}

interface SecretItem {
  readonly name: string;
  readonly state: string;
  readonly type: string;
  readonly valid: boolean;
  readonly serial: string;
  readonly notAfter: string;
  readonly notBefore: string;
  readonly trustDomain: string;
}

const SPIFFE_VALIDATOR =
  "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig";

/** proto `bytes` in JSON: base64. */
const bytesField = (value: unknown): Buffer => Buffer.from(str(value), "base64");

/** RFC 3339 in UTC, as Go formats an x509 time. */
const rfc3339 = (date: string) => new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The first PEM block's certificate, read as Go's pem.Decode + x509.ParseCertificate would. */
function certificateMeta(pem: Buffer, trustDomain: string, now: number) {
  const block = /-----BEGIN [^-\n]*-----\r?\n([\s\S]*?)-----END [^-\n]*-----/.exec(pem.toString("latin1"));
  if (!block) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from((block[1] ?? "").replace(/\s+/g, ""), "base64"));
  } catch {
    return undefined;
  }
  let domain = trustDomain;
  if (domain === "") {
    for (const entry of (cert.subjectAltName ?? "").split(", ")) {
      if (!entry.startsWith("URI:")) continue;
      const raw = entry.slice(4);
      try {
        const uri = new URL(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
        if (uri.protocol === "spiffe:") domain = uri.host;
      } catch {
        // Not a URL Go would parse either: no trust domain from it.
      }
    }
  }
  const [notBefore, notAfter] = [Date.parse(cert.validFrom), Date.parse(cert.validTo)];
  return {
    type: cert.ca ? "CA" : "Cert Chain",
    valid: now > notBefore && now < notAfter,
    serial: BigInt(`0x${cert.serialNumber}`).toString(16).padStart(32, "0"),
    notAfter: rfc3339(cert.validTo),
    notBefore: rfc3339(cert.validFrom),
    trustDomain: domain,
  };
}

function secretItem(name: string, state: string, data: Buffer, trustDomain: string, now: number): SecretItem {
  const meta = data.length > 0 ? certificateMeta(data, trustDomain, now) : undefined;
  const none = { type: "", valid: false, serial: "", notAfter: "", notBefore: "", trustDomain: "" };
  return { name, state, ...(meta ?? none) };
}

/** A dynamic secret's items: its certificate chain, else its CA, else one per SPIFFE trust domain. */
function secretItems(s: DumpSecret, state: string, now: number): SecretItem[] {
  const chain = bytesField(field(s.secret, "tlsCertificate", "certificateChain", "inlineBytes"));
  const ca = bytesField(field(s.secret, "validationContext", "trustedCa", "inlineBytes"));
  if (chain.length > 0) return [secretItem(s.name, state, chain, "", now)];
  if (ca.length > 0) return [secretItem(s.name, state, ca, "", now)];
  const validator = field(s.secret, "validationContext", "customValidatorConfig", "typedConfig");
  if (isObject(validator) && validator["@type"] === SPIFFE_VALIDATOR) {
    return objects(validator.trustDomains).map((td) =>
      secretItem(s.name, state, bytesField(field(td, "trustBundle", "inlineBytes")), str(td.name), now),
    );
  }
  return [secretItem(s.name, state, Buffer.alloc(0), "", now)];
}

/** The SDS secrets table; `now` (epoch ms) decides VALID CERT. */
export function secretsSummary(dump: ConfigDump, now: number, withNames = false): string {
  const { active, warming } = dumpSecrets(dump);
  if (active.length === 0 && warming.length === 0) return "No active or warming secrets found.\n";
  const items = [
    ...warming.flatMap((s) => secretItems(s, "WARMING", now)),
    ...active.flatMap((s) => secretItems(s, "ACTIVE", now)),
  ];
  if (items.length === 0) return "No secret items to show.\n";
  // Trust domains are shown only when every secret has one (trust domain federation).
  const domains = items.every((i) => i.trustDomain !== "");
  const head = ["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"];
  let text = row(...head, ...(domains ? ["TRUST DOMAIN"] : []));
  for (const i of items) {
    const cells = [withNames ? `secret/${i.name}` : i.name, i.type, i.state, String(i.valid), i.serial];
    text += row(...cells, i.notAfter, i.notBefore, ...(domains ? [i.trustDomain] : []));
  }
  return tabwrite(text, WIDE);
}

export interface AllOptions {
  readonly clusters?: ClusterFilter;
  readonly listeners?: ListenerFilter;
  readonly routes?: RouteFilter;
  readonly endpoints?: EndpointFilter;
  /** `--with-headers`: a `------ CLUSTER INFO ------` line before each section. */
  readonly withHeaders?: boolean;
  /** Epoch ms, for the secrets' VALID CERT. */
  readonly now: number;
}

/**
 * `proxy-config all`: bootstrap, clusters, listeners, routes, secrets and EDS endpoints, names
 * prefixed by kind. istioctl stops at the first section it cannot print, after printing the ones
 * before it, so the text so far comes back with the error.
 */
export function allSummary(
  dump: ConfigDump,
  options: AllOptions,
): { text: string; error?: SessionAffinityError } {
  const sections: [string, () => string][] = [
    ["BOOTSTRAP INFO", () => bootstrapSummary(dump)],
    ["CLUSTER INFO", () => clustersTable(dump, options.clusters, true)],
    ["LISTENER INFO", () => listenersTable(dump, options.listeners, true)],
    ["ROUTE INFO", () => routesTable(dump, options.routes, true)],
    ["SECRET INFO", () => secretsSummary(dump, options.now, true)],
    ["ENDPOINTS INFO", () => edsTable(dump, options.endpoints, true)],
  ];
  let text = "";
  for (const [i, [title, render]] of sections.entries()) {
    if (i > 0) text += "\n";
    if (options.withHeaders) text += `------ ${title} ------\n\n`;
    try {
      text += render();
    } catch (err) {
      if (err instanceof SessionAffinityError) return { text, error: err };
      throw err;
    }
  }
  return { text };
}

/** `proxy-config all -o json`: the dump exactly as read, and a newline. */
export const allJson = (raw: string): string => `${raw}\n`;
