/**
 * Peer for the service benchmark: GET /user on fastify + @fastify/cookie + @fastify/session with its
 * default in-memory store and a signed `sid` cookie. rolling is off so an unchanged session would not
 * be re-sent, but @fastify/session saves and re-sets the cookie whenever the session is modified, and
 * counting modifies it, so unlike the service every response carries Set-Cookie.
 * Run: PORT=8080 node --import tsx bench/peers/fastify-session.ts
 */
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import Fastify from "fastify";

declare module "fastify" {
  interface Session {
    count?: number;
  }
}

const hostnameLine = `Hostname: ${process.env.POD_NAME || "fastify-session"}<br>\n`;

function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  const suffix = ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  cookieName: "sid",
  // @fastify/session refuses secrets shorter than 32 characters.
  secret: (process.env.SESSION_SECRET || "bench-secret-0123456789abcdef").padEnd(32, "-"),
  rolling: false,
  saveUninitialized: false,
  cookie: { path: "/", httpOnly: true, sameSite: "lax", secure: false },
});
app.get("/user", (request, reply) => {
  const count = (request.session.get("count") ?? 0) + 1;
  request.session.set("count", count);
  reply.header("Content-Type", "text/html; charset=utf-8").header("Cache-Control", "no-store");
  return reply.send(`${hostnameLine}${ordinal(count)} time access.\n`);
});
await app.listen({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? "127.0.0.1" });
