/**
 * The two request fields the service reads, Cookie and Accept, taken from Node's raw header list in
 * one pass. `req.headers` would build an object holding every field on first access, which on the
 * hot path costs more than the handler's own work. Repeated fields are joined as Node joins them:
 * Cookie with "; ", Accept with ", ".
 */
export interface RequestFields {
  readonly cookie: string | undefined;
  readonly accept: string | undefined;
}

export function requestFields(rawHeaders: readonly string[]): RequestFields {
  let cookie: string | undefined;
  let accept: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    // Both names have six letters: only those are lower-cased and compared.
    if (name.length !== 6) continue;
    const lower = name.toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (lower === "cookie") cookie = cookie === undefined ? value : `${cookie}; ${value}`;
    else if (lower === "accept") accept = accept === undefined ? value : `${accept}, ${value}`;
  }
  return { cookie, accept };
}
