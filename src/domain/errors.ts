/**
 * Domain errors with a closed set of stable codes (SPEC §15). The HTTP layer maps each
 * code to a status and renders RFC 9457 problem+json.
 */
export type ErrorCode =
  | 'validation_failed'
  | 'not_found'
  | 'conflict'
  | 'conflict_cycle'
  | 'unknown_premise'
  | 'unauthorized'
  | 'forbidden'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/** One located problem: where (a JSON pointer, a line number) and why. */
export interface ErrorDetail {
  /** JSON pointer into the request body, or `line N` for tabular input. */
  pointer?: string;
  line?: number;
  message: string;
  code?: string;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly errors?: ErrorDetail[];
  /** Extra members rendered on the problem document (e.g. `cycle`). */
  readonly extra?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { errors?: ErrorDetail[]; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.errors = opts.errors;
    this.extra = opts.extra;
  }
}
