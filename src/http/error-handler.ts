// The one error handler. Known failures become their problem document; Fastify's own client
// errors (bad JSON, wrong content type, body too large, schema violations) are mapped to stable
// codes, with schema violations said in words (src/http/validation-messages.ts); anything else
// is a bug — logged with its stack, answered as an opaque 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError, type ErrorCode } from '../errors.js';
import { dependencyUnavailable, isDependencyUnavailable } from '../flows/shared/errors.js';
import { isDataException } from '../store/connect.js';
import { sendProblem } from './problem.js';
import { describeValidationFailure, readableValidationErrors } from './validation-messages.js';

const fastifyCodeToErrorCode: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
  FST_ERR_VALIDATION: 'invalid_request',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_MAX_PARAM_LENGTH: 'invalid_request',
};

const statusToErrorCode: Readonly<Record<number, ErrorCode>> = {
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_attempts',
  503: 'server_busy',
};

export function toTwofoldError(error: FastifyError | Error): TwofoldError | undefined {
  if (error instanceof TwofoldError) return error;
  if (isDependencyUnavailable(error)) return dependencyUnavailable(error);
  if (isDataException(error)) return new TwofoldError('invalid_request', 'The request contains a value that cannot be stored.', { cause: error });
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) {
    const errors = readableValidationErrors(fastifyError.validation, fastifyError.validationContext);
    return new TwofoldError('invalid_request', describeValidationFailure(errors, fastifyError.validationContext), { extensions: { errors }, cause: error });
  }
  const mapped = fastifyError.code === undefined ? undefined : fastifyCodeToErrorCode[fastifyError.code];
  // The catalogue's status, not Fastify's (it answers 414 for a long path parameter).
  if (mapped !== undefined) return new TwofoldError(mapped, clientMessage(fastifyError), { cause: error });
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new TwofoldError(statusToErrorCode[status] ?? 'invalid_request', clientMessage(fastifyError), { cause: error, status });
  }
  return undefined;
}

/** Fastify's messages for client errors are safe to show; they never contain body values. */
function clientMessage(error: FastifyError): string {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'The request body is larger than this server accepts.';
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'Send the body as application/json.';
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return 'The body is not valid JSON.';
  if (error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH') return 'The request URL is malformed.';
  return error.message;
}

export function registerErrorHandling(app: FastifyInstance, options: { notFoundHandler: boolean }): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = toTwofoldError(error);
    if (known !== undefined) {
      if (known.status >= 500) request.log.warn({ code: known.code, err: known.cause }, known.message);
      return sendProblem(reply, known);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, new TwofoldError('internal_error', 'Something went wrong on our side; the request was not applied.'));
  });

  if (!options.notFoundHandler) return;
  // A path that exists with other methods is 405 with an Allow header, not 404 (RFC 9110 §15.5.6).
  const routes: Array<{ method: string; pattern: RegExp }> = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}$`);
    for (const method of [route.method].flat()) routes.push({ method, pattern });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method))];
    if (allowed.length > 0) {
      return sendProblem(reply, new TwofoldError('method_not_allowed', `${request.method} is not allowed here; use ${allowed.join(', ')}.`, { headers: { Allow: allowed.join(', ') } }));
    }
    return sendProblem(reply, new TwofoldError('not_found', `No route ${request.method} ${path.slice(0, 200)}.`));
  });
}
