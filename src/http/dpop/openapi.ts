// What the OpenAPI document says about DPoP (RFC 9449) when it is on: the `dpop` security scheme
// next to `bearer` on the access-token routes (its description covers their proof), and on the
// token routes the DPoP request header and their two error codes. Documentation only (a swagger transform): the
// header is not validated by the schema — the proof checker answers for it, never a schema error.
import type { FastifySchema, RouteOptions } from 'fastify';
import type { TwofoldConfig } from '../../config/schema.js';
import { problemSchema } from '../schemas/common.js';

export const dpopSecurityScheme = {
  type: 'http',
  scheme: 'DPoP',
  description: 'A DPoP-bound access token (RFC 9449): `Authorization: DPoP <token>`, with a proof of its key for this request (carrying `ath`) in the DPoP header.',
} as const;

const proofOnTokenRoute =
  'A DPoP proof (RFC 9449) for this request: the tokens are then bound to its key (`token_type` "DPoP", `cnf.jkt`); a session it signs in is bound for good. `htu` is TWOFOLD_PUBLIC_URL\'s origin and this path. Required when TWOFOLD_DPOP=required; with TWOFOLD_DPOP_NONCE=required it must carry the nonce of the `DPoP-Nonce` response header.';
const tokenRouteErrors =
  '`invalid_dpop_proof`: the DPoP proof is malformed, replayed, too old, for another request or key (a bound session refreshes only with its own key; the refresh token is then not spent), or missing where required; `use_dpop_nonce`: the proof must carry the server nonce given in the `DPoP-Nonce` header of this answer';

type Documented = { schema: FastifySchema; url: string; route: RouteOptions };

export function documentDpop(config: TwofoldConfig, { schema, url, route }: Documented): { schema: FastifySchema; url: string } {
  if (config.dpop.mode === 'off' || schema === undefined) return { schema, url };
  if (route.config?.issuesTokens !== true) return { schema, url };
  const responses = { ...(schema.response as Record<string, Record<string, unknown>> | undefined) };
  const existing = responses['400'];
  const description = typeof existing?.['description'] === 'string' ? `${existing['description']}; ${tokenRouteErrors}` : tokenRouteErrors;
  responses['400'] = { ...(existing ?? problemSchema), description };
  const headers = { type: 'object', properties: { DPoP: { type: 'string', description: proofOnTokenRoute } } };
  return { schema: { ...schema, headers, response: responses }, url };
}
