/**
 * Responses the gateway writes straight to a client's socket, outside Node's HTTP server: upgrade
 * answers and the gateway's own replies on connections that cannot carry another request.
 */
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";

/**
 * An HTTP/1.1 response head (and body) written straight to a socket, which then closes once written,
 * whatever the peer does with its own side: the connection cannot carry another request.
 */
export function writeRawResponse(
  socket: Socket,
  status: number,
  headers: readonly string[],
  body?: Buffer | string,
): void {
  if (socket.destroyed) return;
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  socket.write(`${text}\r\n`, "latin1");
  if (body !== undefined) {
    if (body.length > 0) socket.write(body);
    socket.destroySoon();
  }
}

/** A reply of the gateway itself to an upgrade request; Envoy closes the connection after it (the request never ended). */
export function writeLocalReply(socket: Socket, status: number, body: string): void {
  writeRawResponse(
    socket,
    status,
    [
      "content-length",
      String(Buffer.byteLength(body)),
      ...(body ? ["content-type", "text/plain"] : []),
      "date",
      new Date().toUTCString(),
      "server",
      "istio-envoy",
      "connection",
      "close",
    ],
    body,
  );
}
