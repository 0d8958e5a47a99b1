/**
 * IP and socket-address text exactly as Envoy prints it (`Address::Instance::asString()` and
 * `Ip::addressAsString()`): IPv4 dotted quad, IPv6 in inet_ntop form (lower case, longest run of
 * zero groups compressed, IPv4-mapped as `::ffff:a.b.c.d`), and `[v6]:port` for socket addresses.
 * These strings are hashed (useSourceIp, generated cookies), so one differing character moves a
 * session.
 */

export interface SocketAddress {
  readonly ip: string;
  readonly port: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

/** Parses IPv6 text into eight 16-bit groups, or undefined if it is not IPv6. */
export function parseIpv6(text: string): number[] | undefined {
  let body = text;
  const zone = body.indexOf("%");
  if (zone >= 0) body = body.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(body) || !body.includes(":")) return undefined;
  const lastColon = body.lastIndexOf(":");
  const maybeV4 = body.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    // An embedded IPv4 tail is two groups; rewrite it as hex and parse the rest uniformly.
    if (!isIpv4(maybeV4)) return undefined;
    const [a, b, c, d] = maybeV4.split(".").map(Number) as [number, number, number, number];
    body = `${body.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parts = body.split("::");
  if (parts.length > 2) return undefined;
  const toGroups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const groups: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(Number.parseInt(g, 16));
    }
    return groups;
  };
  const head = toGroups(parts[0] ?? "");
  const rest = parts.length === 2 ? toGroups(parts[1] ?? "") : [];
  if (!head || !rest) return undefined;
  const explicit = head.length + rest.length;
  if (parts.length === 1) return explicit === 8 ? head : undefined;
  if (explicit > 7) return undefined;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
}

/** inet_ntop's IPv6 text for eight groups. */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  const embedsV4 =
    bestStart === 0 &&
    (bestLength === 6 || (bestLength === 7 && groups[7] !== 1) || (bestLength === 5 && groups[5] === 0xffff));
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += "::";
      i += bestLength - 1;
      continue;
    }
    if (embedsV4 && i === 6) {
      if (!out.endsWith(":")) out += ":";
      const hi = groups[6] as number;
      const lo = groups[7] as number;
      out += `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
      break;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += (groups[i] as number).toString(16);
  }
  return out;
}

/** The canonical text of an IP address, or undefined if `text` is not an IP address. */
export function canonicalIp(text: string): string | undefined {
  if (isIpv4(text)) return text;
  const groups = parseIpv6(text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text);
  return groups ? formatIpv6(groups) : undefined;
}

/** `ip:port` or `[ip]:port`, as Envoy's `asString()`. */
export function formatSocketAddress(address: SocketAddress): string {
  const ip = canonicalIp(address.ip) ?? address.ip;
  return ip.includes(":") ? `[${ip}]:${address.port}` : `${ip}:${address.port}`;
}

/** Parses `ip:port` / `[v6]:port` into its canonical parts, or undefined when malformed. */
export function parseSocketAddress(text: string): SocketAddress | undefined {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:\]]+):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const ip = canonicalIp(match[1] as string);
  const port = Number(match[2]);
  if (ip === undefined || port > 65535) return undefined;
  if (match[0].startsWith("[") !== ip.includes(":")) return undefined;
  return { ip, port };
}
