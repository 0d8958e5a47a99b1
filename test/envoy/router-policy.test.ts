import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { upstreamFailureReply } from "../../src/envoy/router-policy.js";

describe("router policy: the local reply for a failed attempt", () => {
  it("words each failure as Envoy's reset reasons, flags it UF, UC or UPE and answers a protocol error 502", () => {
    const prefix = "upstream connect error or disconnect/reset before headers.";
    assert.deepEqual(upstreamFailureReply("connect-failure", "ECONNREFUSED", false), {
      status: 503,
      body: `${prefix} reset reason: remote connection failure, transport failure reason: delayed connect error: ECONNREFUSED`,
      flags: "UF",
    });
    assert.deepEqual(upstreamFailureReply("connect-failure", "ETIMEDOUT", true), {
      status: 503,
      body: `${prefix} retried and the latest reset reason: connection timeout`,
      flags: "UF",
    });
    assert.deepEqual(upstreamFailureReply("reset", "ECONNRESET", false), {
      status: 503,
      body: `${prefix} reset reason: connection termination`,
      flags: "UC",
    });
    assert.deepEqual(upstreamFailureReply("protocol-error", "bad", true), {
      status: 502,
      body: `${prefix} retried and the latest reset reason: protocol error`,
      flags: "UPE",
    });
  });
});
