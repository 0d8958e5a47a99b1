/**
 * istiod's validateTLSOptions for a Gateway server's ServerTLSSettings (istio/istio
 * pkg/config/validation/validation.go, Istio 1.30), and the cipher-suite test it relies on
 * (pkg/config/security: IsValidCipherSuite), with Istio's messages. An unset `mode` is
 * PASSTHROUGH, the enum's zero value.
 */
import { asArray, get } from "../manifests/json-path.js";
import type { FieldPath } from "../manifests/types.js";
import type { Findings } from "./findings.js";

/** BoringSSL's suites Envoy accepts for a gateway listener (security.ValidCipherSuites). */
const VALID_CIPHER_SUITES = new Set([
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-AES128-SHA",
  "ECDHE-RSA-AES128-SHA",
  "ECDHE-ECDSA-AES256-SHA",
  "ECDHE-RSA-AES256-SHA",
  "AES128-GCM-SHA256",
  "AES256-GCM-SHA384",
  "AES128-SHA",
  "AES256-SHA",
  "DES-CBC3-SHA",
]);

const text = (v: unknown): string => (typeof v === "string" ? v : "");

/**
 * IsValidCipherSuite: empty, ALL, a known suite, or anything not starting with a letter or digit
 * (BoringSSL operators such as `-X` and `+X`, which Istio lets through unparsed). Go tests the
 * first byte as a rune, so a multi-byte first character is judged by its leading UTF-8 byte.
 */
export function isValidCipherSuite(suite: string): boolean {
  if (suite === "" || suite === "ALL") return true;
  const firstByte = Buffer.from(suite, "utf8")[0] ?? 0;
  if (!/^[\p{L}\p{N}]$/u.test(String.fromCharCode(firstByte))) return true;
  return VALID_CIPHER_SUITES.has(suite);
}

/** Go's `%v` of a sorted []string: `[a b]`. */
const goList = (items: Iterable<string>) =>
  `[${[...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(" ")}]`;

/** validateTLSOptions. `tls` is the server's `tls` block; an absent one is valid. */
export function checkServerTls(out: Findings, path: FieldPath, tls: unknown): void {
  if (tls === undefined || tls === null) return;
  const field = (key: string) => text(get(tls, key));
  const mode = field("mode") || "PASSTHROUGH";
  const cipherSuites = asArray(get(tls, "cipherSuites")).map(text);
  const tlsCertificates = asArray(get(tls, "tlsCertificates"));
  const credentialNames = asArray(get(tls, "credentialNames"));
  const serverCertificate = field("serverCertificate");
  const privateKey = field("privateKey");
  const caCertificates = field("caCertificates");
  const credentialName = field("credentialName");
  const caCrl = field("caCrl");

  const minVersion = field("minProtocolVersion");
  if ((minVersion === "TLSV1_0" || minVersion === "TLSV1_1") && cipherSuites.length === 0) {
    out.warn(
      [...path, "minProtocolVersion"],
      "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.",
    );
  }
  const invalid = new Set<string>();
  const valid = new Set<string>();
  const duplicate = new Set<string>();
  for (const suite of cipherSuites) {
    if (!isValidCipherSuite(suite)) invalid.add(suite);
    else if (valid.has(suite)) duplicate.add(suite);
    else valid.add(suite);
  }
  if (invalid.size > 0)
    out.warn([...path, "cipherSuites"], `ignoring invalid cipher suites: ${goList(invalid)}`);
  if (duplicate.size > 0)
    out.warn([...path, "cipherSuites"], `ignoring duplicate cipher suites: ${goList(duplicate)}`);

  if (mode === "ISTIO_MUTUAL") {
    // Istio's own workload certificates are used; any other certificate source is a mistake.
    const forbidden: readonly [boolean, string, string][] = [
      [serverCertificate !== "", "serverCertificate", "server certificate"],
      [privateKey !== "", "privateKey", "private key"],
      [caCertificates !== "", "caCertificates", "CA bundle"],
      [tlsCertificates.length > 0, "tlsCertificates", "tlsCertificates"],
      [credentialName !== "", "credentialName", "credentialName"],
      [credentialNames.length > 0, "credentialNames", "credentialNames"],
    ];
    for (const [set, key, what] of forbidden)
      if (set) out.error([...path, key], `ISTIO_MUTUAL TLS cannot have associated ${what}`);
    return;
  }

  if (mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH") {
    const anyCertificate =
      caCrl !== "" ||
      serverCertificate !== "" ||
      privateKey !== "" ||
      caCertificates !== "" ||
      tlsCertificates.length > 0 ||
      credentialName !== "" ||
      credentialNames.length > 0;
    // A warning, not an error: older Istio accepted these and they were always ignored.
    if (anyCertificate) out.warn(path, `${mode} mode does not use certificates, they will be ignored`);
  }

  const sources = [
    serverCertificate !== "" && privateKey !== "",
    credentialName !== "",
    credentialNames.length > 0,
    tlsCertificates.length > 0,
  ].filter(Boolean).length;
  if (sources > 1) {
    out.error(
      path,
      "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified",
    );
  }

  const terminates = mode === "SIMPLE" || mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL";
  // With a credential the certificates come from a secret at runtime; nothing more to check here.
  if (terminates && (credentialName !== "" || credentialNames.length > 0)) return;

  if (terminates) {
    const prefix = mode === "SIMPLE" ? "SIMPLE TLS" : "MUTUAL TLS";
    if (mode !== "SIMPLE" && caCertificates === "")
      out.error([...path, "caCertificates"], `${prefix} requires a client CA bundle`);
    if (tlsCertificates.length > 2)
      out.warn([...path, "tlsCertificates"], `${prefix} can support up to 2 server certificates`);
    // The list when given, else the server's own certificate/key pair.
    const certificates: [FieldPath, unknown][] =
      tlsCertificates.length > 0
        ? tlsCertificates.map((c, i) => [[...path, "tlsCertificates", i], c])
        : [[path, tls]];
    for (const [at, certificate] of certificates) {
      if (text(get(certificate, "serverCertificate")) === "")
        out.error([...at, "serverCertificate"], `${prefix} requires a server certificate`);
      if (text(get(certificate, "privateKey")) === "")
        out.error([...at, "privateKey"], `${prefix} requires a private key`);
    }
  }
  if (caCrl !== "") {
    if (credentialName !== "") {
      out.error(
        [...path, "caCrl"],
        "CRL is not supported with credentialName. CRL has to be specified in the credential",
      );
    }
    if (mode === "SIMPLE") out.error([...path, "caCrl"], "CRL is not supported with SIMPLE TLS");
  }
}
