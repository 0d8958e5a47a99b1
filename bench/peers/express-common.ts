/** What the two express peers share: the few express / express-session types they use and /user. */
import type { IncomingMessage, ServerResponse } from "node:http";

export interface SessionRequest extends IncomingMessage {
  session: { count?: number };
}

export interface ExpressResponse extends ServerResponse {
  set(name: string, value: string): ExpressResponse;
  send(body: string): void;
}

type Handler = (req: SessionRequest, res: ExpressResponse, next: (err?: unknown) => void) => void;

export interface ExpressApp {
  disable(setting: string): void;
  set(setting: string, value: unknown): void;
  use(handler: Handler): void;
  get(path: string, handler: Handler): void;
  listen(port: number, host: string): unknown;
}

export type ExpressFactory = () => ExpressApp;

export interface SessionOptions {
  name: string;
  secret: string;
  resave: boolean;
  saveUninitialized: boolean;
  cookie: { path: string; httpOnly: boolean; sameSite: "lax"; secure: boolean };
  store?: unknown;
}

export type SessionFactory = ((options: SessionOptions) => Handler) & { Store: unknown };

export function sessionOptions(store?: unknown): SessionOptions {
  return {
    name: "sid",
    secret: process.env.SESSION_SECRET || "bench-secret-0123456789abcdef",
    resave: false,
    saveUninitialized: false,
    cookie: { path: "/", httpOnly: true, sameSite: "lax", secure: false },
    ...(store === undefined ? {} : { store }),
  };
}

function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  const suffix = ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

export function userHandler(hostname: string): Handler {
  const hostnameLine = `Hostname: ${hostname}<br>\n`;
  return (req, res) => {
    const count = (req.session.count ?? 0) + 1;
    // Modifying the session is what makes express-session save it and, for a new one, set the cookie.
    req.session.count = count;
    res.set("Content-Type", "text/html; charset=utf-8").set("Cache-Control", "no-store");
    res.send(`${hostnameLine}${ordinal(count)} time access.\n`);
  };
}
