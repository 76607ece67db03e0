// RFC 9457 problem documents: every error response of the API, from one function. The body
// is built from the error's code alone (plus its detail and extensions), so two errors with
// the same code and detail are byte-identical whatever path produced them.
import type { FastifyReply } from 'fastify';
import type { TwofoldError } from '../errors.js';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extension: string]: unknown;
}

export function toProblemDocument(error: TwofoldError): ProblemDocument {
  return {
    type: `urn:twofold:error:${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    detail: error.message,
    ...error.extensions,
  };
}

export function sendProblem(reply: FastifyReply, error: TwofoldError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply
    .code(error.status)
    .header('Cache-Control', 'no-store')
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(toProblemDocument(error)));
}
