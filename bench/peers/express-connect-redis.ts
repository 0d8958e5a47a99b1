/**
 * Peer for the service benchmark: the express-session peer with connect-redis on the `redis` client
 * instead of the MemoryStore; sessions expire after 1800 s like the service's default TTL.
 * Run: PORT=8080 REDIS_URL=redis://127.0.0.1:6390 node --import tsx bench/peers/express-connect-redis.ts
 */
import { createRequire } from "node:module";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";
import { type ExpressFactory, type SessionFactory, sessionOptions, userHandler } from "./express-common.js";

const require = createRequire(import.meta.url);
const express = require("express") as ExpressFactory;
const session = require("express-session") as SessionFactory;

const url = process.env.REDIS_URL;
if (!url) throw new Error("REDIS_URL is required");
const client = createClient({ url });
client.on("error", (err: unknown) => console.error("redis:", err));
await client.connect();

const app = express();
app.disable("x-powered-by");
app.set("etag", false);
app.use(session(sessionOptions(new RedisStore({ client, prefix: "sess:", ttl: 1800 }))));
app.get("/user", userHandler(process.env.POD_NAME || "express-connect-redis"));
app.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? "127.0.0.1");
