/** Tests pick ports the way the mesh does. */
export { freeLoopbackPort as freePort } from "../../src/mesh/free-port.js";
