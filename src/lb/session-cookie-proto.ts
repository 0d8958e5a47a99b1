/**
 * The protobuf Envoy's stateful-session cookie carries (source/extensions/http/stateful_session/
 * cookie/cookie.proto, proto3): `string address = 1; uint64 expires = 2;`. Parsing follows the
 * protobuf wire rules closely enough to agree with Envoy on which legacy `ip:port` byte strings
 * happen to parse as a (useless) proto: unknown fields and groups are skipped, bad wire types,
 * truncation, field 0 and invalid UTF-8 in the string fail the parse.
 */

export interface SessionCookie {
  readonly address: string;
  readonly expires: bigint;
}

function varint(value: bigint): string {
  let out = "";
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out += String.fromCharCode(byte);
  } while (v > 0n);
  return out;
}

/** Serialises like protobuf: default values (empty address, expires 0) are omitted. */
export function encodeSessionCookie(cookie: SessionCookie): string {
  const utf8 = String.fromCharCode(...new TextEncoder().encode(cookie.address));
  let out = "";
  if (utf8 !== "") out += `\x0a${varint(BigInt(utf8.length))}${utf8}`;
  if (cookie.expires !== 0n) out += `\x10${varint(cookie.expires)}`;
  return out;
}

/** Parses the byte string, or returns undefined when protobuf would report a parse failure. */
export function decodeSessionCookie(bytes: string): SessionCookie | undefined {
  let pos = 0;
  let address = "";
  let expires = 0n;
  const readVarint = (): bigint | undefined => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= bytes.length) return undefined;
      const byte = bytes.charCodeAt(pos++);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    return undefined;
  };
  const skip = (wireType: number, field: bigint, depth: number): boolean => {
    switch (wireType) {
      case 0:
        return readVarint() !== undefined;
      case 1:
        pos += 8;
        return pos <= bytes.length;
      case 2: {
        const length = readVarint();
        if (length === undefined || BigInt(bytes.length - pos) < length) return false;
        pos += Number(length);
        return true;
      }
      case 5:
        pos += 4;
        return pos <= bytes.length;
      case 3: {
        if (depth > 100) return false;
        for (;;) {
          const tag = readVarint();
          if (tag === undefined) return false;
          const inner = Number(tag & 7n);
          const innerField = tag >> 3n;
          if (innerField === 0n) return false;
          if (inner === 4) return innerField === field;
          if (!skip(inner, innerField, depth + 1)) return false;
        }
      }
      default:
        return false;
    }
  };
  while (pos < bytes.length) {
    const tag = readVarint();
    if (tag === undefined || tag > 0xffffffffn) return undefined;
    const wireType = Number(tag & 7n);
    const field = tag >> 3n;
    if (field === 0n || wireType === 4) return undefined;
    if (field === 1n && wireType === 2) {
      const length = readVarint();
      if (length === undefined || BigInt(bytes.length - pos) < length) return undefined;
      const raw = bytes.slice(pos, pos + Number(length));
      pos += Number(length);
      try {
        address = new TextDecoder("utf-8", { fatal: true }).decode(
          Uint8Array.from(raw, (c) => c.charCodeAt(0)),
        );
      } catch {
        return undefined;
      }
    } else if (field === 2n && wireType === 0) {
      const value = readVarint();
      if (value === undefined) return undefined;
      expires = value;
    } else if (!skip(wireType, field, 0)) {
      return undefined;
    }
  }
  return { address, expires };
}
