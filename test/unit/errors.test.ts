import { describe, expect, it } from 'vitest';
import { CredentialsError, InputError, InterruptedError, LakeError, PartialError, RefusedError, ServiceError, UsageError, toLakeError } from '../../src/lib/errors.js';

function sdkError(name: string, message: string, requestId = 'req-123'): Error {
  const err = new Error(message);
  err.name = name;
  Object.assign(err, { $metadata: { requestId, httpStatusCode: 400 }, $fault: 'client' });
  return err;
}

describe('exit codes', () => {
  it.each([
    [new UsageError('x'), 2],
    [new InputError('x'), 2],
    [new ServiceError('x'), 1],
    [new PartialError('x'), 3],
    [new RefusedError('x'), 4],
    [new CredentialsError('x'), 5],
    [new InterruptedError('x'), 130],
    [new LakeError('x'), 1],
  ] as const)('%s exits %d', (err, code) => {
    expect(err.exitCode).toBe(code);
  });
});

describe('toLakeError', () => {
  it('maps a missing-credentials error from the SDK chain to exit 5 with a hint', () => {
    const err = new Error('Could not load credentials from any providers');
    err.name = 'CredentialsProviderError';
    const mapped = toLakeError(err);
    expect(mapped).toBeInstanceOf(CredentialsError);
    expect(mapped.exitCode).toBe(5);
    expect(mapped.message).toBe('AWS credentials problem: Could not load credentials from any providers');
    expect(mapped.hint).toBe('set AWS_PROFILE or pass --profile, or run `aws sso login` / `aws configure`');
  });

  it('maps an expired token to exit 5 and keeps the request id', () => {
    const mapped = toLakeError(sdkError('ExpiredTokenException', 'The security token included in the request is expired'));
    expect(mapped.exitCode).toBe(5);
    expect(mapped.requestId).toBe('req-123');
  });

  it('maps AccessDenied to exit 5 as a permission problem', () => {
    const mapped = toLakeError(sdkError('AccessDeniedException', 'User: arn:aws:iam::1:user/x is not authorized to perform: glue:GetTable'));
    expect(mapped.exitCode).toBe(5);
    expect(mapped.message).toBe('permission denied: User: arn:aws:iam::1:user/x is not authorized to perform: glue:GetTable');
    expect(mapped.hint).toBe("the identity in use lacks a permission this command needs; check its IAM policy");
  });

  it('maps other service errors to exit 1 with their name as code', () => {
    const mapped = toLakeError(sdkError('ResourceNotFoundException', 'Firehose weblogs not found'));
    expect(mapped).toBeInstanceOf(ServiceError);
    expect(mapped.exitCode).toBe(1);
    expect(mapped.code).toBe('ResourceNotFoundException');
    expect(mapped.message).toBe('ResourceNotFoundException: Firehose weblogs not found');
  });

  it('maps a missing file to an input error (exit 2) naming the path', () => {
    const err = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/data/in.csv' });
    const mapped = toLakeError(err);
    expect(mapped.exitCode).toBe(2);
    expect(mapped.message).toBe('cannot read /data/in.csv: ENOENT');
  });

  it('maps an abort to exit 130', () => {
    expect(toLakeError(new DOMException('stop', 'AbortError')).exitCode).toBe(130);
  });

  it('passes lake errors through unchanged', () => {
    const err = new RefusedError('too expensive', { hint: 'add a partition filter' });
    expect(toLakeError(err)).toBe(err);
  });
});
