// The provider's bounds: oidc-provider alone, as its own process, with its in-memory adapter, one
// client and accounts that need no lookup — no database, no Twofold code.
// - Userinfo: its rate is the most any provider built on oidc-provider's request pipeline can
//   answer on this machine; `GET /token` hands the load generator an access token for it.
// - Login: the leanest two-factor login a provider on that pipeline can have — authorize, a login
//   page, the password (argon2id at Twofold's production parameters, on the same two hashes in
//   flight) answered with the code form, the TOTP code, resume, the code exchange: six requests
//   with no CSRF token, no session of its own, no audit, no lockout, no store write. `POST /users`
//   takes the people (username, TOTP secret) the load generator signs in (oidc-login.ts).
// - With TWOFOLD_API_URL, the same login made of Twofold's own JSON API instead: the password step
//   is `POST /v1/login`, the code step `POST /v1/mfa/verify` (its lockout, replay claim, session,
//   audit and tokens). oidc-provider's pipeline plus Twofold's login, joined in the cheapest way a
//   provider could: the least an OpenID Provider doing Twofold's login on oidc-provider costs here.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hash, verify } from '@node-rs/argon2';
import { Secret, TOTP } from 'otpauth';
import Provider from 'oidc-provider';
import { defaultArgon2Parameters, defaultHashConcurrency } from '../src/config/schema.js';
import { createWorkLimiter } from '../src/core/concurrency/work-limiter.js';
import { post } from './full-flow.js';

const port = Number(process.env['PORT']);
const issuer = `http://127.0.0.1:${port}/oidc`;
const password = 'a benchmark passphrase';
const twofoldApi = process.env['TWOFOLD_API_URL'];
const provider = new Provider(issuer, {
  clients: [{ client_id: 'bench-app', token_endpoint_auth_method: 'none', redirect_uris: ['https://bench-app.example/callback'] }],
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['a bench cookie key that is long enough'] },
});
const callback = provider.callback();

async function mintAccessToken(): Promise<string> {
  const grant = new provider.Grant({ accountId: 'bench-person', clientId: 'bench-app' });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  const client = await provider.Client.find('bench-app');
  if (client === undefined) throw new Error('the bench client is missing');
  const token = new provider.AccessToken({ accountId: 'bench-person', client, grantId, scope: 'openid', gty: 'authorization_code' });
  return token.save();
}

/** A sign-in's password step and code step; what the first proves is what the second is given. */
interface Login {
  password(username: string, candidate: string): Promise<{ username: string; mfaToken?: string } | undefined>;
  code(checked: { username: string; mfaToken?: string }, code: string): Promise<boolean>;
}

const secrets = new Map<string, string>();
/** Interactions whose password was right, by uid: what the code step is given. */
const passwordChecked = new Map<string, { username: string; mfaToken?: string }>();

/**
 * Its own: every person has the same password (one stored hash, each check a full argon2id
 * verify, as many in flight as Twofold allows and the rest queued) and their TOTP secret from `POST /users`.
 */
function ownLogin(): Login {
  const storedHash = hash(password, { algorithm: 2, memoryCost: defaultArgon2Parameters.memoryKib, timeCost: defaultArgon2Parameters.timeCost, parallelism: defaultArgon2Parameters.parallelism });
  const hashes = createWorkLimiter({ maxInFlight: defaultHashConcurrency(), maxQueued: Number.POSITIVE_INFINITY });
  return {
    async password(username, candidate) {
      return secrets.has(username) && (await hashes.run(async () => verify(await storedHash, candidate))) ? { username } : undefined;
    },
    async code({ username }, code) {
      const secret = secrets.get(username);
      return secret !== undefined && new TOTP({ secret: Secret.fromBase32(secret) }).validate({ token: code, window: 1 }) !== null;
    },
  };
}

/** Twofold's JSON API at `api`: POST /v1/login, then POST /v1/mfa/verify with its mfa_token. */
function twofoldLogin(api: string): Login {
  return {
    async password(username, candidate) {
      const login = await post(api, '/v1/login', { username, password: candidate });
      return login.status === 200 && typeof login.body.mfa_token === 'string' ? { username, mfaToken: login.body.mfa_token } : undefined;
    },
    async code({ mfaToken }, code) {
      return mfaToken !== undefined && (await post(api, '/v1/mfa/verify', { code }, mfaToken)).status === 200;
    },
  };
}

const login = twofoldApi === undefined ? ownLogin() : twofoldLogin(twofoldApi);

async function body(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

function page(response: ServerResponse, html: string): void {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(`<!doctype html><html><body>${html}</body></html>`);
}

async function interaction(request: IncomingMessage, response: ServerResponse, uid: string, step: string | undefined): Promise<void> {
  const details = await provider.interactionDetails(request, response);
  if (details.uid !== uid) return void response.writeHead(400).end('not this interaction');
  if (step === undefined) return page(response, `<form method="post" action="/interaction/${uid}/password"><input name="username"><input name="password" type="password"><button>Sign in</button></form>`);
  const form = new URLSearchParams(await body(request));
  if (step === 'password') {
    const checked = await login.password(form.get('username') ?? '', form.get('password') ?? '');
    if (checked === undefined) return void response.writeHead(401).end('wrong');
    passwordChecked.set(uid, checked);
    return page(response, `<form method="post" action="/interaction/${uid}/otp"><input name="code" inputmode="numeric"><button>Verify</button></form>`);
  }
  const checked = passwordChecked.get(uid);
  if (checked === undefined) return void response.writeHead(401).end('no password first');
  if (!(await login.code(checked, form.get('code') ?? ''))) return void response.writeHead(401).end('wrong code');
  passwordChecked.delete(uid);
  const grant = new provider.Grant({ accountId: checked.username, clientId: String(details.params['client_id']) });
  grant.addOIDCScope(String(details.params['scope']));
  await provider.interactionFinished(request, response, { login: { accountId: checked.username }, consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: false });
}

createServer((request, response) => {
  const fail = (error: unknown) => {
    if (!response.headersSent) response.writeHead(500);
    response.end(String(error));
  };
  if (request.url === '/token') return void mintAccessToken().then((token) => response.end(token), fail);
  if (request.url === '/users' && request.method === 'POST') {
    return void body(request).then((text) => {
      for (const { username, secret } of JSON.parse(text) as Array<{ username: string; secret: string }>) secrets.set(username, secret);
      response.end('ok');
    }, fail);
  }
  const interactionPath = /^\/interaction\/([^/?]+)(?:\/(password|otp))?$/.exec(request.url ?? '');
  if (interactionPath !== null) return void interaction(request, response, interactionPath[1]!, interactionPath[2]).catch(fail);
  request.url = request.url?.replace(/^\/oidc/, '') ?? '/';
  callback(request, response);
}).listen(port, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${port}\n`));
