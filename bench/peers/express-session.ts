/**
 * Peer for the service benchmark: GET /user on express + express-session with its default
 * MemoryStore and a signed `sid` cookie, set only when a session is created (no maxAge, no rolling),
 * like the service. ETag and X-Powered-By are off because the service sends neither.
 * Run: PORT=8080 node --import tsx bench/peers/express-session.ts
 */
import { createRequire } from "node:module";
import { type ExpressFactory, type SessionFactory, sessionOptions, userHandler } from "./express-common.js";

// express and express-session ship no type declarations and @types packages are not installed.
const require = createRequire(import.meta.url);
const express = require("express") as ExpressFactory;
const session = require("express-session") as SessionFactory;

const app = express();
app.disable("x-powered-by");
app.set("etag", false);
app.use(session(sessionOptions()));
app.get("/user", userHandler(process.env.POD_NAME || "express-session"));
app.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? "127.0.0.1");
