import { createHmac, randomBytes, randomFillSync, timingSafeEqual } from "node:crypto";

/** 16 random bytes = 128 bits from the OS CSPRNG, base64url without padding (22 characters). */
const ID_BYTES = 16;
const ID_LENGTH = 22;
/** HMAC-SHA256 truncated to 128 bits: forging one needs ~2^128 guesses. */
const SIG_BYTES = 16;
const SIG_LENGTH = 22;
export const SIGNED_ID_LENGTH = ID_LENGTH + 1 + SIG_LENGTH;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Mints and checks signed session ids `<id>.<signature>`; the store only ever sees `<id>`. */
/** Cookie values already verified, so a returning session costs a Map lookup instead of an HMAC. */
const VERIFIED_CACHE_SIZE = 65_536;

export class SessionIdSigner {
  readonly #secret: Buffer;
  // Keyed by the whole signed value: a hit only ever skips re-checking a signature that passed.
  readonly #verified = new Map<string, string>();

  constructor(secret: string | Buffer) {
    this.#secret = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
  }

  /** A fresh id and the cookie value that carries it. */
  mint(): { id: string; cookieValue: string } {
    const id = nextRandomId();
    return { id, cookieValue: `${id}.${this.#sign(id)}` };
  }

  /** The id in a cookie value, or undefined when it is malformed, oversized, unsigned or tampered. */
  verify(cookieValue: string | undefined): string | undefined {
    if (cookieValue === undefined || cookieValue.length !== SIGNED_ID_LENGTH) return undefined;
    const known = this.#verified.get(cookieValue);
    if (known !== undefined) return known;
    if (cookieValue.charCodeAt(ID_LENGTH) !== 0x2e /* . */ || !BASE64URL.test(cookieValue.replace(".", ""))) {
      return undefined;
    }
    const id = cookieValue.slice(0, ID_LENGTH);
    // Compared as text, not decoded bytes: base64url's spare low bits would let two spellings match.
    const given = Buffer.from(cookieValue.slice(ID_LENGTH + 1), "latin1");
    const expected = Buffer.from(this.#sign(id), "latin1");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    // Fresh copies, so neither the store nor the cache pins the whole request header in memory.
    const ownId = Buffer.from(id, "latin1").toString("latin1");
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.#verified.keys().next();
      if (!oldest.done) this.#verified.delete(oldest.value);
    }
    this.#verified.set(Buffer.from(cookieValue, "latin1").toString("latin1"), ownId);
    return ownId;
  }

  #sign(id: string): string {
    return createHmac("sha256", this.#secret)
      .update(id)
      .digest()
      .subarray(0, SIG_BYTES)
      .toString("base64url");
  }
}

// Ids come from a CSPRNG-filled pool: one getrandom call per 256 ids instead of one per id, which
// halves the cost of a new session. Each id's bytes are used once and never handed out again.
const POOL = Buffer.alloc(ID_BYTES * 256);
let poolOffset = POOL.length;

function nextRandomId(): string {
  if (poolOffset === POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const id = POOL.toString("base64url", poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return id;
}

/** A per-process secret for the memory store when none is configured. */
export function randomSecret(): Buffer {
  return randomBytes(32);
}
