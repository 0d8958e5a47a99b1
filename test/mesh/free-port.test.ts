import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { describe, it } from "node:test";
import { freeLoopbackPort, loopbackPortFree } from "../../src/mesh/free-port.js";

describe("loopback ports", () => {
  it("tells a port something listens on from one that is free again", async () => {
    const holder = createServer();
    holder.listen(0, "127.0.0.1");
    await once(holder, "listening");
    const { port } = holder.address() as AddressInfo;
    assert.equal(await loopbackPortFree(port), false, "taken while the holder listens");
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    assert.equal(await loopbackPortFree(port), true, "free once it closed");
  });

  it("hands out a port that can be bound", async () => {
    assert.equal(await loopbackPortFree(await freeLoopbackPort()), true);
  });
});
