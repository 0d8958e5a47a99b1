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
    // Piece by piece with indexOf: the Cookie header is read on every hashed request, and a split
    // would copy every piece of it.
    for (let from = 0; from < headerValue.length; ) {
      let end = headerValue.indexOf(";", from);
      if (end < 0) end = headerValue.length;
      const equals = headerValue.indexOf("=", from);
      if (equals >= 0 && equals < end) {
        let start = from;
        while (headerValue.charCodeAt(start) === 0x20) start++;
        if (equals - start === name.length && headerValue.startsWith(name, start)) {
          const quoted =
            end - equals > 2 &&
            headerValue.charCodeAt(equals + 1) === 0x22 &&
            headerValue.charCodeAt(end - 1) === 0x22;
          return quoted ? headerValue.slice(equals + 2, end - 1) : headerValue.slice(equals + 1, end);
        }
      }
      from = end + 1;
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
