// Requests Node's HTTP parser refuses before any route or hook runs — headers above Node's limit
// (16 KiB by default), a request that did not arrive within the server's timeout, bytes that are
// not HTTP — are answered by the server's `clientError` handler, not by Fastify's error handler.
// Fastify's default handler answers them in its own JSON shape; this one answers with the same
// problem+json documents and headers as every other error of the API, then closes the connection
// (after such an error the stream cannot be trusted to hold the next request).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { TwofoldError } from '../errors.js';
import { toProblemDocument } from './problem.js';
import { securityHeaders } from './security-headers.js';

interface ConnectionError extends Error {
  code?: string;
}

function problemFor(error: ConnectionError): TwofoldError {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return new TwofoldError('headers_too_large', 'The request headers (cookies included) are larger than this server accepts; send fewer or smaller headers.');
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new TwofoldError('request_timeout', 'The request did not arrive completely in time.');
  return new TwofoldError('invalid_request', 'The request is not valid HTTP.');
}

/** Fastify's `clientErrorHandler`: writes the problem document straight to the socket. */
export function createClientErrorHandler(options: { strictTransportSecurity: boolean }): (error: ConnectionError, socket: Socket) => void {
  const headers = securityHeaders(options);
  return (error, socket) => {
    // A reset connection has nobody left to answer (Node's and Fastify's own rule).
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    if (socket.writable) {
      const problem = problemFor(error);
      const body = JSON.stringify(toProblemDocument(problem));
      const lines = [
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`,
        'Content-Type: application/problem+json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
    }
    socket.destroy(error);
  };
}
