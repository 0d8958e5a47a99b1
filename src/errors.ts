/**
 * One error type for the whole project. Codes are stable (documented in docs/errors.md and checked by
 * test/errors.test.ts); user errors are things the caller can fix, system errors are faults around us.
 */
export const USER_ERROR_CODES = {
  /** An environment variable has a value outside what is allowed. */
  ERR_CONFIG: "invalid configuration",
  /** A command-line flag or argument is missing, unknown or malformed. */
  ERR_USAGE: "invalid command-line usage",
  /** A manifest file cannot be read, parsed or validated. */
  ERR_MANIFEST: "invalid manifest",
  /** A load-balancer setting is outside what Envoy accepts. */
  ERR_LB_CONFIG: "invalid load-balancer configuration",
  /** An Envoy configuration (an xDS resource or a config dump) is malformed or not one Envoy accepts. */
  ERR_XDS: "invalid Envoy configuration",
  /** A control API request came without the mesh's token (or with another mesh's). */
  ERR_UNAUTHORIZED: "missing or wrong admin token",
} as const;

export const SYSTEM_ERROR_CODES = {
  /** The session store did not answer (connection refused, timeout, cluster down). */
  ERR_STORE_UNAVAILABLE: "session store unavailable",
  /** A child process, port or socket the project needs could not be set up. */
  ERR_RUNTIME: "runtime failure",
} as const;

export type UserErrorCode = keyof typeof USER_ERROR_CODES;
export type SystemErrorCode = keyof typeof SYSTEM_ERROR_CODES;
export type ErrorCode = UserErrorCode | SystemErrorCode;

export class SessionAffinityError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SessionAffinityError";
    this.code = code;
  }

  get isUserError(): boolean {
    return this.code in USER_ERROR_CODES;
  }
}

export function isUserError(err: unknown): err is SessionAffinityError {
  return err instanceof SessionAffinityError && err.isUserError;
}
