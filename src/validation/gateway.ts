/**
 * istiod's ValidateGateway (istio/istio pkg/config/validation/validation.go, Istio 1.30): the
 * gateway's name, each server (validateServer: hosts, port, bind, TLS options), unique port names
 * and the httpsRedirect warning, with Istio's messages and in its order.
 *
 * jsonpb decodes a `null` entry of a list of messages as an empty message, never a nil one, so
 * Istio's "cannot have nil server" and "server may not be nil" cannot happen for a decoded
 * object: a `null` server is checked as an empty one.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import { type AdmissionFinding, Findings } from "./findings.js";
import { checkServerTls } from "./gateway-tls.js";
import { isDns1123Label, isIpAddress, portProblem, wildcardDomainProblem } from "./istio-names.js";
import { checkMetadata } from "./object-checks.js";

/** Set on gateways istiod derives from Gateway API objects (constants.InternalGatewaySemantics). */
const GATEWAY_SEMANTICS_ANNOTATION = "internal.istio.io/gateway-semantics";
const UNIX_ADDRESS_PREFIX = "unix://";

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const isSet = (v: unknown) => v !== undefined && v !== null;

type Protocol =
  | "TCP"
  | "UDP"
  | "GRPC"
  | "GRPC-Web"
  | "HTTP"
  | "HTTP_PROXY"
  | "HTTP2"
  | "HTTPS"
  | "TLS"
  | "other";

const PROTOCOLS: Readonly<Record<string, Protocol>> = {
  tcp: "TCP",
  udp: "UDP",
  grpc: "GRPC",
  "grpc-web": "GRPC-Web",
  http: "HTTP",
  http_proxy: "HTTP_PROXY",
  http2: "HTTP2",
  https: "HTTPS",
  tls: "TLS",
  mongo: "other",
  redis: "other",
  mysql: "other",
};

/** protocol.Parse, case-insensitive; undefined for Unsupported. */
function parseProtocol(value: string): Protocol | undefined {
  return Object.hasOwn(PROTOCOLS, value.toLowerCase()) ? PROTOCOLS[value.toLowerCase()] : undefined;
}

/** protocol.Instance.IsHTTP. */
const isHttp = (p: Protocol | undefined) =>
  p === "HTTP" || p === "HTTP2" || p === "HTTP_PROXY" || p === "GRPC" || p === "GRPC-Web";
/** protocol.Instance.IsTLS. */
const isTls = (p: Protocol | undefined) => p === "HTTPS" || p === "TLS";

export function validateGateway(object: unknown, namespace: string, name: string): AdmissionFinding[] {
  const out = new Findings();
  if (checkMetadata(out, object, namespace, name)) return [...out.list];
  const gatewaySemantics = get(object, "metadata", "annotations", GATEWAY_SEMANTICS_ANNOTATION) === "gateway";
  // A gateway is referred to as namespace/name, so its name may not contain dots.
  if (!isDns1123Label(name) && !gatewaySemantics)
    out.error(["metadata", "name"], `invalid gateway name: ${JSON.stringify(name)}`);
  const servers = asArray(get(object, "spec", "servers"));
  if (servers.length === 0) out.error(["spec", "servers"], "gateway must have at least one server");
  for (const [i, server] of servers.entries())
    checkServer(out, ["spec", "servers", i], server, gatewaySemantics);

  const portNames = new Set<string>();
  for (const [i, server] of servers.entries()) {
    const port = get(server, "port");
    if (!isSet(port)) continue;
    const portName = str(get(port, "name"));
    if (portNames.has(portName)) {
      out.error(
        ["spec", "servers", i, "port", "name"],
        `port names in servers must be unique: duplicate name ${portName}`,
      );
    }
    portNames.add(portName);
    if (!isHttp(parseProtocol(str(get(port, "protocol")))) && get(server, "tls", "httpsRedirect") === true) {
      out.warn(
        ["spec", "servers", i, "tls", "httpsRedirect"],
        "tls.httpsRedirect should only be used with http servers",
      );
    }
  }
  return [...out.list];
}

/** validateServer. */
function checkServer(out: Findings, path: FieldPath, server: unknown, gatewaySemantics: boolean): void {
  const hosts = asArray(get(server, "hosts"));
  if (hosts.length === 0) out.error([...path, "hosts"], "server config must contain at least one host");
  for (const [j, host] of hosts.entries()) {
    for (const problem of gatewayHostProblems(str(host), gatewaySemantics))
      out.error([...path, "hosts", j], problem);
  }
  const port = get(server, "port");
  const bind = str(get(server, "bind"));
  const before = out.errorCount;
  checkServerPort(out, [...path, "port"], port, bind);
  const portValid = out.errorCount === before;
  checkServerBind(out, path, port, bind);
  const tls = get(server, "tls");
  checkServerTls(out, [...path, "tls"], tls);
  if (!portValid) return;
  const protocol = parseProtocol(str(get(port, "protocol")));
  if (isTls(protocol) && !isSet(tls)) {
    out.error([...path, "tls"], "server must have TLS settings for HTTPS/TLS protocols");
  } else if (!isTls(protocol) && isSet(tls)) {
    if (isHttp(protocol)) {
      // A plain HTTP server may carry a TLS block only to redirect to HTTPS (gateway.IsPassThroughServer).
      const mode = str(get(tls, "mode")) || "PASSTHROUGH";
      const passthrough = mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH";
      const certificates = ["caCertificates", "privateKey", "serverCertificate"].some(
        (key) => str(get(tls, key)) !== "",
      );
      if (!passthrough || certificates)
        out.error([...path, "tls"], "server cannot have TLS settings for plain text HTTP ports");
    } else {
      out.error([...path, "tls"], "server cannot have TLS settings for non HTTPS/TLS ports");
    }
  }
}

/** validateServerPort. */
function checkServerPort(out: Findings, path: FieldPath, port: unknown, bind: string): void {
  if (!isSet(port)) {
    out.error(path, "port is required");
    return;
  }
  const protocol = str(get(port, "protocol"));
  if (parseProtocol(protocol) === undefined) {
    out.error(
      [...path, "protocol"],
      `invalid protocol ${JSON.stringify(protocol)}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP`,
    );
  }
  const number = num(get(port, "number"));
  // A unix domain socket listener has no port number.
  if (number > 0 || !bind.startsWith(UNIX_ADDRESS_PREFIX)) {
    const problem = portProblem(number);
    if (problem) out.error([...path, "number"], problem);
  }
  if (num(get(port, "targetPort")) > 0)
    out.error([...path, "targetPort"], "targetPort has no impact on Gateways");
  if (str(get(port, "name")) === "") out.error([...path, "name"], `port name must be set: ${portText(port)}`);
}

/** validateServerBind: a unix socket path, or an IP address. */
function checkServerBind(out: Findings, path: FieldPath, port: unknown, bind: string): void {
  if (bind.startsWith(UNIX_ADDRESS_PREFIX)) {
    const problem = unixAddressProblem(bind.slice(UNIX_ADDRESS_PREFIX.length));
    if (problem) out.error([...path, "bind"], problem);
    if (isSet(port) && num(get(port, "number")) !== 0) {
      out.error(
        [...path, "port", "number"],
        `port number must be 0 for unix domain socket: ${portText(port)}`,
      );
    }
  } else if (bind !== "" && !isIpAddress(bind)) {
    out.error([...path, "bind"], `${bind} is not a valid IP`);
  }
}

/** ValidateUnixAddress: an absolute file path, or an abstract socket (`@name`). */
function unixAddressProblem(address: string): string | undefined {
  if (address === "") return "unix address must not be empty";
  if (address.startsWith("@")) return undefined;
  if (!address.startsWith("/") || address.endsWith("/"))
    return `${address} is not an absolute path to a file`;
  return undefined;
}

/**
 * Go's `%v` of a Port message: protobuf's compact text format, fields in field-number order, zero
 * values left out. Go inserts random extra spaces into this text on purpose; here it has none.
 */
function portText(port: unknown): string {
  const parts: string[] = [];
  const number = num(get(port, "number"));
  if (number !== 0) parts.push(`number:${number}`);
  for (const key of ["protocol", "name"]) {
    const value = str(get(port, key));
    if (value !== "") parts.push(`${key}:${JSON.stringify(value)}`);
  }
  const targetPort = num(get(port, "targetPort"));
  if (targetPort !== 0) parts.push(`target_port:${targetPort}`);
  return parts.join(" ");
}

/**
 * ValidateNamespaceSlashWildcardHostname for a gateway (isGateway = true): `host` or
 * `namespace/host`, where the namespace is `*`, `.`, a DNS label, or `~` for gateways derived
 * from Gateway API objects.
 */
export function gatewayHostProblems(hostname: string, gatewaySemantics: boolean): string[] {
  const slash = hostname.indexOf("/");
  if (slash === -1) return hostnamePartProblems(hostname);
  const namespace = hostname.slice(0, slash);
  const dnsName = hostname.slice(slash + 1);
  const out: string[] = [];
  if (namespace === "" || dnsName === "")
    out.push("config namespace and dnsName in host entry cannot be empty");
  const special = namespace === "*" || namespace === "." || (namespace === "~" && gatewaySemantics);
  if (!special && !isDns1123Label(namespace))
    out.push(`invalid namespace value ${JSON.stringify(namespace)} in gateway`);
  out.push(...hostnamePartProblems(dnsName));
  return out;
}

/** validateSidecarOrGatewayHostnamePart for a gateway: IP addresses are hosts too. */
function hostnamePartProblems(hostname: string): string[] {
  const out: string[] = [];
  if (hostname !== "*" && !hostname.includes(".")) out.push("short names (non FQDN) are not allowed");
  const domain = wildcardDomainProblem(hostname);
  if (domain && !isIpAddress(hostname)) out.push(domain);
  // ValidatePartialWildCard: a wildcard only as the whole first label.
  if (hostname.includes("*") && hostname.length !== 1 && !hostname.startsWith("*."))
    out.push(`partial wildcard ${JSON.stringify(hostname)} not allowed`);
  return out;
}
