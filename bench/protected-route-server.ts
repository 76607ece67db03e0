// The protected-route benchmark's server, a process of its own: a Fastify app with the same
// handler twice — `/open` unguarded, `/guarded` behind twofold/verify's Fastify plugin — and a
// stand-in issuer. `GET /tokens` hands the load generator 200 distinct valid access tokens, as
// 200 signed-in users would send.
import { generateKeyPairSync } from 'node:crypto';
import Fastify from 'fastify';
import { createVerifier, twofoldAuth } from '../src/verify/index.js';
import { benchAudience, signBenchTokens, startLocalIssuer } from './local-issuer.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const { issuer } = await startLocalIssuer(publicKey);
const tokens = await signBenchTokens(privateKey, issuer, 200);
const verifier = createVerifier({ issuer, audience: benchAudience });
await verifier.ready();

const app = Fastify();
await app.register(twofoldAuth, { verifier });
const handler = async () => ({ orders: [] as string[] });
app.get('/open', handler);
app.get('/guarded', { preHandler: app.requireAuth({ acr: 'aal2' }) }, handler);
app.get('/tokens', async () => tokens);
await app.listen({ port: Number(process.env['PORT']), host: '127.0.0.1' });
process.stdout.write(`listening http://127.0.0.1:${process.env['PORT']}\n`);
