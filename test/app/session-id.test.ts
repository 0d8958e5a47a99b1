import assert from "node:assert/strict";
import { test } from "node:test";
import { SessionIdSigner } from "../../src/app/session-id.js";

test("minted ids carry 128 random bits and verify with the same secret only", () => {
  const signer = new SessionIdSigner("secret-one-0123456789");
  const other = new SessionIdSigner("secret-two-0123456789");
  const { id, cookieValue } = signer.mint();
  assert.equal(Buffer.from(id, "base64url").length, 16);
  assert.equal(signer.verify(cookieValue), id);
  assert.equal(other.verify(cookieValue), undefined);
});

test("ids do not repeat across 10,000 mints", () => {
  const signer = new SessionIdSigner("secret-one-0123456789");
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) ids.add(signer.mint().id);
  assert.equal(ids.size, 10_000);
});

test("every single-character change to a signed value is rejected", () => {
  const signer = new SessionIdSigner("secret-one-0123456789");
  const { cookieValue } = signer.mint();
  for (let i = 0; i < cookieValue.length; i++) {
    const c = cookieValue[i] === "A" ? "B" : "A";
    const tampered = cookieValue.slice(0, i) + c + cookieValue.slice(i + 1);
    assert.equal(signer.verify(tampered), undefined, `position ${i}`);
  }
});

test("malformed values are rejected without throwing", () => {
  const signer = new SessionIdSigner("secret-one-0123456789");
  const { cookieValue } = signer.mint();
  for (const value of [
    undefined,
    "",
    ".",
    cookieValue.replace(".", "!"),
    `${cookieValue}=`,
    "é".repeat(45),
    "x".repeat(10_000),
  ]) {
    assert.equal(signer.verify(value), undefined, JSON.stringify(value)?.slice(0, 40));
  }
});

test("a verified value is remembered, and a tampered one is still rejected after its original was cached", () => {
  const signer = new SessionIdSigner("secret-one-0123456789");
  const { id, cookieValue } = signer.mint();
  assert.equal(signer.verify(cookieValue), id);
  assert.equal(signer.verify(cookieValue), id);
  const last = cookieValue.at(-1) === "A" ? "B" : "A";
  assert.equal(signer.verify(cookieValue.slice(0, -1) + last), undefined);
});
