/**
 * The value of the first cookie called `name` in a Cookie header, or undefined. Malformed pieces are
 * skipped rather than rejected: a broken cookie header must only ever mean "no session".
 */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join("; ") : header;
  let from = 0;
  while (from < text.length) {
    let end = text.indexOf(";", from);
    if (end === -1) end = text.length;
    const eq = text.indexOf("=", from);
    if (eq !== -1 && eq < end && text.slice(from, eq).trim() === name) {
      let value = text.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    from = end + 1;
  }
  return undefined;
}
