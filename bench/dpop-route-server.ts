// The DPoP route benchmark's server, a process of its own: one Fastify app, one handler, three
// routes — `/bearer` behind twofold/verify with bearer tokens, `/dpop` behind it with DPoP-bound
// tokens and a proof per request, and `/floor`: the bearer route plus one raw node:crypto ES256
// verification per request, the least a proof of possession can cost. `GET /tokens` hands the load
// generator 200 bearer tokens and 200 tokens bound to `?jkt=`.
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import Fastify from 'fastify';
import { createVerifier, twofoldAuth } from '../src/verify/index.js';
import { benchAudience, signBenchTokens, startLocalIssuer } from './local-issuer.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const { issuer } = await startLocalIssuer(publicKey);
const bearerTokens = await signBenchTokens(privateKey, issuer, 200);
const verifier = createVerifier({ issuer, audience: benchAudience });
await verifier.ready();

// The floor's extra work: one ES256 verification of a fixed signature per request.
const floorKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const floorInput = Buffer.from('a'.repeat(300));
const floorSignature = sign('sha256', floorInput, { key: floorKeys.privateKey, dsaEncoding: 'ieee-p1363' });
const floorKey = createPublicKey({ key: floorKeys.publicKey.export({ format: 'jwk' }), format: 'jwk' });

const app = Fastify();
await app.register(twofoldAuth, { verifier });
const handler = async () => ({ orders: [] as string[] });
app.get('/bearer', { preHandler: app.requireAuth({ acr: 'aal2' }) }, handler);
app.get('/dpop', { preHandler: app.requireAuth({ acr: 'aal2', dpop: 'required' }) }, handler);
app.get('/floor', { preHandler: app.requireAuth({ acr: 'aal2' }) }, async () => {
  if (!verify('sha256', floorInput, { key: floorKey, dsaEncoding: 'ieee-p1363' }, floorSignature)) throw new Error('the floor signature did not verify');
  return { orders: [] as string[] };
});
app.get<{ Querystring: { jkt: string } }>('/tokens', async (request) => ({ bearer: bearerTokens, bound: await signBenchTokens(privateKey, issuer, 200, { extra: { cnf: { jkt: request.query.jkt } }, prefix: 'bound-' }) }));
await app.listen({ port: Number(process.env['PORT']), host: '127.0.0.1' });
process.stdout.write(`listening http://127.0.0.1:${process.env['PORT']}\n`);
