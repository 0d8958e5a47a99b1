import { pino } from "pino";

export type Logger = pino.Logger;

/** JSON lines on stdout; `pod` on every line so logs from many replicas can be told apart. */
export function createLogger(level: string, pod: string): Logger {
  return pino({ level, base: { pod }, timestamp: pino.stdTimeFunctions.isoTime });
}
