import { createConnection } from "node:net";

export interface RawResponse {
  /** The status code, or 0 when the server closed without answering. */
  status: number;
  text: string;
  ms: number;
}

/**
 * Sends bytes exactly as given (no client-side validation, unlike fetch) and reads until the server
 * closes or `timeoutMs` passes — for hostile-input tests. With `firstOnly`, stops as soon as one whole
 * response (headers and declared body) is in.
 */
function exchange(
  port: number,
  payload: string | Buffer,
  timeoutMs: number,
  firstOnly: boolean,
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = createConnection({ host: "127.0.0.1", port });
    let data = "";
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: match ? Number(match[1]) : 0, text: data, ms: Date.now() - started });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      if (!firstOnly) return;
      const end = data.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(data);
      if (end !== -1 && length && data.length >= end + 4 + Number(length[1])) finish();
    });
    socket.on("end", finish);
    socket.on("close", finish);
    socket.on("error", finish);
    socket.write(payload);
  });
}

/** One request, one response: stops once the first response is complete. */
export function rawRequest(port: number, payload: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return exchange(port, payload, timeoutMs, true);
}

/** Keeps everything the server sends until it closes: every response to pipelined or smuggled requests shows up. */
export function rawExchange(port: number, payload: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return exchange(port, payload, timeoutMs, false);
}
