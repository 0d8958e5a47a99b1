/** What one /user answer says: the pod that served it and the session's counter. */
export interface Answer {
  readonly hostname: string;
  readonly count: number;
}

// `1th` is the walkthrough's own form; correct ordinals (1st, 2nd, 3rd, 11th…) are accepted too.
const TEXT = /^Hostname:\s*(\S+?)\s*(?:<br\s*\/?>)?\s*$\s*^(\d+)\s*(?:st|nd|rd|th)\s+time access\.?\s*$/im;

/** Parses the service's text or JSON answer; undefined when the body is neither. */
export function parseAnswer(body: string): Answer | undefined {
  const trimmed = body.trimStart();
  if (trimmed.startsWith("{")) {
    try {
      const value = JSON.parse(trimmed) as { hostname?: unknown; count?: unknown };
      if (typeof value.hostname === "string" && Number.isSafeInteger(value.count)) {
        return { hostname: value.hostname, count: value.count as number };
      }
    } catch {
      return undefined;
    }
    return undefined;
  }
  const match = TEXT.exec(body);
  if (!match?.[1] || !match[2]) return undefined;
  return { hostname: match[1], count: Number(match[2]) };
}
