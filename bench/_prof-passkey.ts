import { createSoftAuthenticator } from '../test/helpers/soft-authenticator.js';
import { post, startInstances } from './full-flow.js';
const publicUrl = 'http://twofold.bench';
const instances = await startInstances('sqlite', 1, { TWOFOLD_PUBLIC_URL: publicUrl, NODE_OPTIONS: process.env.PROF ? '--require /work/notes/cpuprof.cjs' : '' });
try {
  const url = instances.urls[0]!;
  const users = [];
  for (let i = 0; i < 16; i++) {
    const authenticator = createSoftAuthenticator({ rpId: 'twofold.bench', origin: publicUrl });
    const r = await post(url, '/v1/register', { username: `pk-${process.pid}-${i}`, password: 'a benchmark passphrase' });
    const e = await post(url, '/v1/factors', { type: 'webauthn' }, r.body.mfa_token);
    const c = await post(url, `/v1/factors/${e.body.factor_id}/verify`, { credential: authenticator.register(e.body.options), challenge_id: e.body.challenge_id }, r.body.mfa_token);
    if (c.status !== 200) throw new Error('x');
    users.push(authenticator);
  }
  let n = 0; const lat: number[] = [];
  const deadline = Date.now() + Number(process.env.SECS ?? 8) * 1000; const t0 = Date.now();
  await Promise.all(users.map(async (a) => { while (Date.now() < deadline) { const s = performance.now(); const o = await post(url, '/v1/passkeys/authenticate/options', {}); const r = await post(url, '/v1/passkeys/authenticate', { challenge_id: o.body.challenge_id, credential: a.authenticate(o.body.options) }); if (r.status === 200) { n++; lat.push(performance.now() - s); } } }));
  lat.sort((x, y) => x - y);
  process.stdout.write(`flows/s ${(n / ((Date.now() - t0) / 1000)).toFixed(0)} p50 ${lat[Math.floor(lat.length / 2)]!.toFixed(1)} p99 ${lat[Math.floor(lat.length * 0.99)]!.toFixed(1)}\n`);
} finally { await instances.stop(); }
