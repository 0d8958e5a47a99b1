/**
 * Envoy's cookie handling (source/common/http/utility.cc): `parseCookieValue` and
 * `makeSetCookieValue`. Parsing walks every Cookie header in order, splits on ';' (empty pieces
 * skipped), takes the name from the first non-space character to the first '=', strips one pair of
 * surrounding double quotes, and returns the first exact-name match even when it is empty.
 */

export type HeaderList = readonly (readonly [name: string, value: string])[];

export interface CookieAttribute {
  readonly name: string;
  readonly value?: string;
}

/** The cookie's value, or "" when absent (Envoy does not distinguish absent from empty). */
export function parseCookieValue(headers: HeaderList, name: string, headerName = "cookie"): string {
  for (const [key, headerValue] of headers) {
    if (key !== headerName) continue;
    for (const piece of headerValue.split(";")) {
      if (piece === "") continue;
      const equals = piece.indexOf("=");
      if (equals < 0) continue;
      let start = 0;
      while (piece[start] === " ") start++;
      if (piece.slice(start, equals) !== name) continue;
      const value = piece.slice(equals + 1);
      return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
    }
  }
  return "";
}

/**
 * A Set-Cookie value as Envoy writes it: quoted value, `Max-Age` unless 0, `Path` unless empty,
 * attributes in order (`; name` or `; name=value`), `HttpOnly` last when asked.
 */
export function makeSetCookieValue(
  name: string,
  value: string,
  path: string,
  maxAgeSeconds: number,
  httpOnly: boolean,
  attributes: readonly CookieAttribute[] = [],
): string {
  let out = `${name}="${value}"`;
  if (maxAgeSeconds !== 0) out += `; Max-Age=${maxAgeSeconds}`;
  if (path !== "") out += `; Path=${path}`;
  for (const attribute of attributes) {
    out += attribute.value ? `; ${attribute.name}=${attribute.value}` : `; ${attribute.name}`;
  }
  if (httpOnly) out += "; HttpOnly";
  return out;
}
