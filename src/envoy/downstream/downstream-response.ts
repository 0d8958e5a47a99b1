/**
 * What the gateway needs of a response to its client. Node's `ServerResponse` is one; the gateway's
 * own `RawResponse` is the other, for the requests its own reader takes.
 */
export interface DownstreamResponse {
  /** Whether `writeHead` has run. */
  readonly headersSent: boolean;
  /** Whether the whole response has been handed to the socket. */
  readonly writableFinished: boolean;
  /** Set to false before `writeHead`: the response says `Connection: close` and the connection ends. */
  shouldKeepAlive: boolean;
  writeHead(status: number, headers: string[]): unknown;
  /** Sends the head now, before any body. */
  flushHeaders(): void;
  /** False when the socket's buffer is full: wait for `drain`. */
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer | string): unknown;
  destroy(): unknown;
  once(event: "drain" | "close", listener: () => void): unknown;
}
