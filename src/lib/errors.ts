/**
 * Typed errors. Each knows its exit code (DESIGN.md "Output and exit codes"), a stable
 * machine-readable code for `-o json`, and an optional hint telling the user what to do.
 * Only src/main.ts turns them into an exit code.
 */

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  refused: 4,
  credentials: 5,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface LakeErrorOptions {
  hint?: string;
  cause?: unknown;
  /** AWS request id or similar, shown to the user so support can trace the call. */
  requestId?: string;
}

export class LakeError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.failed;
  readonly code: string = 'Failed';
  readonly hint?: string;
  readonly requestId?: string;

  constructor(message: string, options: LakeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.requestId = options.requestId;
  }
}

/** A bad flag, argument or combination of them. */
export class UsageError extends LakeError {
  override readonly exitCode = ExitCode.usage;
  override readonly code = 'UsageError';
}

/** lake.config.json missing or invalid. */
export class ConfigError extends LakeError {
  override readonly exitCode = ExitCode.usage;
  override readonly code = 'ConfigError';
}

/** Input the user gave us that cannot be read: a missing file, malformed data. */
export class InputError extends LakeError {
  override readonly exitCode = ExitCode.usage;
  override readonly code = 'InputError';
}

/** A service or engine failed the operation. */
export class ServiceError extends LakeError {
  override readonly exitCode = ExitCode.failed;
  override readonly code: string = 'ServiceError';
  readonly service?: string;
  constructor(message: string, options: LakeErrorOptions & { service?: string; code?: string } = {}) {
    super(message, options);
    this.service = options.service;
    if (options.code) this.code = options.code;
  }
}

/** Some records rejected or undelivered; error records found with --fail-on-errors. */
export class PartialError extends LakeError {
  override readonly exitCode = ExitCode.partial;
  override readonly code = 'Partial';
}

/** A cost guard refused the work before anything ran. */
export class RefusedError extends LakeError {
  override readonly exitCode = ExitCode.refused;
  override readonly code = 'Refused';
}

/** Missing, expired or insufficient credentials. */
export class CredentialsError extends LakeError {
  override readonly exitCode = ExitCode.credentials;
  override readonly code = 'CredentialsError';
}

/** The user pressed Ctrl-C; remote work was stopped or checkpointed first. */
export class InterruptedError extends LakeError {
  override readonly exitCode = ExitCode.interrupted;
  override readonly code = 'Interrupted';
}

/**
 * Result-carrying exit: a command that produced its result but must still exit non-zero
 * (e.g. `send` with rejected records prints its summary, then exits 3). The result has
 * already been printed when this is thrown.
 */
export class ExitWithResult extends LakeError {
  override readonly exitCode: ExitCodeValue;
  override readonly code: string;
  constructor(exitCode: ExitCodeValue, code: string, message: string, options: LakeErrorOptions = {}) {
    super(message, options);
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** Names of AWS errors that mean "your credentials are the problem". */
const CREDENTIAL_ERROR_NAMES = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AccessDeniedException',
  'NotAuthorized',
  'UnauthorizedOperation',
  'TokenRefreshRequired',
]);

interface SdkLikeError {
  name?: string;
  message?: string;
  $metadata?: { requestId?: string; httpStatusCode?: number };
  $fault?: string;
}

/**
 * Maps anything thrown (our errors, SDK errors, system errors) to a LakeError.
 * The one place where foreign errors get an exit code.
 */
export function toLakeError(err: unknown): LakeError {
  if (err instanceof LakeError) return err;
  if (err instanceof Error) {
    const sdk = err as Error & SdkLikeError;
    const requestId = sdk.$metadata?.requestId;
    if (err.name === 'AbortError') {
      return new InterruptedError('interrupted', { cause: err });
    }
    if (CREDENTIAL_ERROR_NAMES.has(err.name)) {
      const denied = /denied|NotAuthorized|Unauthorized/i.test(err.name);
      return new CredentialsError(
        denied ? `permission denied: ${err.message}` : `AWS credentials problem: ${err.message}`,
        {
          cause: err,
          requestId,
          hint: denied
            ? 'the identity in use lacks a permission this command needs; check its IAM policy'
            : 'set AWS_PROFILE or pass --profile, or run `aws sso login` / `aws configure`',
        },
      );
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      const path = (err as NodeJS.ErrnoException).path;
      return new InputError(path ? `cannot read ${path}: ${code}` : err.message, { cause: err });
    }
    if (sdk.$metadata) {
      return new ServiceError(`${err.name}: ${err.message}`, { cause: err, requestId, code: err.name });
    }
    return new LakeError(err.message, { cause: err });
  }
  return new LakeError(String(err));
}
