/**
 * Peer for the service benchmark: GET /user on bare node:http with an in-process Map and an unsigned
 * random id cookie. No signing, expiry, metrics or eviction, so it is the ceiling for a Node server.
 * Run: PORT=8080 node --import tsx bench/peers/bare-http.ts
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? "127.0.0.1";
const hostnameLine = `Hostname: ${process.env.POD_NAME || "bare-http"}<br>\n`;
const counts = new Map<string, number>();

function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  const suffix = ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

function sidFrom(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === "sid") return part.slice(eq + 1).trim();
  }
  return undefined;
}

createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.url !== "/user") {
    res.statusCode = 404;
    res.end("not found\n");
    return;
  }
  let id = sidFrom(req.headers.cookie);
  let count = id === undefined ? undefined : counts.get(id);
  if (id === undefined || count === undefined) {
    id = randomBytes(16).toString("base64url");
    count = 1;
    res.setHeader("Set-Cookie", `sid=${id}; Path=/; HttpOnly; SameSite=Lax`);
  } else {
    count += 1;
  }
  counts.set(id, count);
  const body = `${hostnameLine}${ordinal(count)} time access.\n`;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.setHeader("Cache-Control", "no-store");
  res.end(body);
}).listen(port, host);
