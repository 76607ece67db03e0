// What Twofold's routes take from nobody: a Fastify plugin inherits its parent's content-type
// parsers, reply serializer, serializer compiler and log serializers, and `request.ip` follows the
// root's `trustProxy`. Mounted in another app, each of those would be the host's choice — a form
// parser that lets other sites post to the JSON API, a JSON parser whose errors are a 500, a zod
// serializer compiler that cannot read Twofold's schemas, a proxy setting that lets any client pick
// its own IP. Here each is set again, in Twofold's own encapsulated scope, the same way in the
// standalone server and in a host app.
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createClientIpResolver } from './client-ip.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's address by TWOFOLD_TRUSTED_PROXIES (src/http/client-ip.ts), never the host's trustProxy. */
    readonly twofoldClientIp: string | undefined;
  }
}

const buildSerializerCompiler = SerializerSelector();

/** Only JSON (HT-02): no form, no text/plain, whatever the host parses; the pages add forms in their own scope. */
export function registerOwnBodyParsing(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  // Fastify's own parser, with prototype and constructor poisoning refused whatever the host's
  // onProtoPoisoning says; its errors are Fastify's client errors, answered 400.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
}

/** Responses are written by Twofold's schemas (fast-json-stringify) or JSON.stringify, not by a host's serializers. */
export function registerOwnSerializers(app: FastifyInstance): void {
  app.setSerializerCompiler(buildSerializerCompiler({}, {}) as Parameters<FastifyInstance['setSerializerCompiler']>[0]);
  app.setReplySerializer((payload) => JSON.stringify(payload));
}

export function registerClientIp(app: FastifyInstance, trustedProxies: readonly string[]): void {
  const clientIpOf = createClientIpResolver(trustedProxies);
  app.decorateRequest('twofoldClientIp', {
    getter(this: FastifyRequest) {
      return clientIpOf(this.raw);
    },
  });
}

/** A request's log line as Twofold writes it (src/http/logger.ts): never the query string, the client by Twofold's rule. */
export function requestLogFields(request: FastifyRequest): Record<string, unknown> {
  return { method: request.method, path: request.url.split(/[?;]/)[0], remote_address: request.twofoldClientIp ?? request.ip };
}

/** A host's logger logs Twofold's requests with Twofold's fields: a token sent in a query string by mistake stays out of its log (LOG-01). */
export function registerOwnLogSerializers(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.logSerializers = Object.assign(Object.create(route.logSerializers ?? null) as object, { req: requestLogFields });
  });
}
