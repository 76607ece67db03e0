// A web app with "Sign in with Twofold": the OpenID Connect authorization code flow with PKCE
// (S256), state and nonce, through openid-client, a server-side session behind an HttpOnly cookie,
// and logout through Twofold's end_session endpoint. With API_RESOURCE it also asks Twofold (RFC
// 8707 `resource`, at authorization and at the code exchange) for an access token for that API —
// an RFC 9068 JWT the API checks with twofold/verify — keeps it in the server-side session (never
// in the browser) and calls the API with it on /api. Run Twofold with TWOFOLD_OIDC=on (and the API
// in TWOFOLD_OIDC_RESOURCES), register the app, then:
//   npm run twofold -- clients add --id web-app --confidential --first-party \
//     --redirect-uri http://localhost:5000/callback --post-logout-redirect-uri http://localhost:5000/
//   TWOFOLD_ISSUER=http://localhost:3000 CLIENT_ID=web-app CLIENT_SECRET=<printed once> \
//     API_RESOURCE=http://localhost:4002 API_SCOPE=orders:read \
//     node examples/oidc-web-app/server.mjs          # then open http://localhost:5000
import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import * as client from 'openid-client';

/** Sessions live in this process (a real app keeps them in its own store); the cookie holds only a random id. */
const sessionCookie = 'web_app_session';
const pendingCookie = 'web_app_sign_in';

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * Discovery, then the client as Twofold signs its ID tokens (the first algorithm it offers).
 * Plain http is allowed only for a development issuer on this machine.
 */
async function discoverTwofold(issuer, clientId, clientSecret) {
  const url = new URL(issuer);
  const insecure = url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const options = insecure ? { execute: [client.allowInsecureRequests] } : undefined;
  const authentication = clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret);
  const discovered = await client.discovery(url, clientId, undefined, authentication, options);
  const algorithm = discovered.serverMetadata().id_token_signing_alg_values_supported?.[0];
  const config = new client.Configuration(discovered.serverMetadata(), clientId, { id_token_signed_response_alg: algorithm }, authentication);
  if (insecure) client.allowInsecureRequests(config);
  return config;
}

/**
 * The API's answers to this session's access token, one per route: its status and its JSON body.
 * A refusal (401 with its Bearer challenge) is shown too — e.g. once the token has expired.
 */
async function callApi(api, accessToken) {
  const answers = [];
  for (const path of ['/me', '/admin']) {
    const response = await fetch(`${api.url.replace(/\/$/, '')}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
    answers.push({ path, status: response.status, body: await response.text() });
  }
  return answers;
}

/**
 * @param {{ issuer: string, clientId: string, clientSecret?: string, baseUrl: string, api?: { resource: string, scope: string, url?: string } }} options
 *   baseUrl: where this app is reached; the redirect URI is `${baseUrl}/callback`, the post-logout one `${baseUrl}/`.
 *   api: the protected API to call — its resource URI as registered in TWOFOLD_OIDC_RESOURCES (the
 *   access token's audience), the scope to ask for, and where to reach it (its resource URI by default).
 */
export async function createApp(options) {
  const config = await discoverTwofold(options.issuer, options.clientId, options.clientSecret);
  const redirectUri = `${options.baseUrl}/callback`;
  const api = options.api === undefined ? undefined : { ...options.api, url: options.api.url ?? options.api.resource };
  // RFC 8707: the same resource at the authorization and the token endpoint, so the token's audience is the API.
  const resourceParameters = api === undefined ? {} : { resource: api.resource };
  const secure = new URL(options.baseUrl).protocol === 'https:';
  const cookieOptions = { httpOnly: true, sameSite: 'lax', secure, path: '/' };
  /** @type {Map<string, { verifier: string, state: string, nonce: string }>} */
  const pending = new Map();
  /** @type {Map<string, { sub: string, acr: unknown, amr: unknown, idToken: string, accessToken: string }>} */
  const sessions = new Map();

  const app = Fastify();
  await app.register(cookie);

  app.get('/', async (request, reply) => {
    const session = sessions.get(request.cookies[sessionCookie] ?? '');
    reply.type('text/html; charset=utf-8');
    if (session === undefined) return '<!doctype html><title>Web app</title><h1>Web app</h1><p><a href="/login">Sign in with Twofold</a></p>';
    return `<!doctype html><title>Web app</title><h1>Web app</h1><p>Signed in as <strong data-sub>${escapeHtml(session.sub)}</strong> (acr <span data-acr>${escapeHtml(session.acr)}</span>, amr <span data-amr>${escapeHtml(JSON.stringify(session.amr))}</span>).</p>${api === undefined ? '' : '<p><a href="/api">Call the API</a></p>'}<form method="post" action="/logout"><button>Sign out</button></form>`;
  });

  // The sign-in starts here: a fresh PKCE verifier, state and nonce, kept server-side for the callback.
  app.get('/login', async (_request, reply) => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const id = randomBytes(32).toString('base64url');
    pending.set(id, { verifier, state, nonce });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: ['openid', 'email', api?.scope ?? ''].join(' ').trim(),
      ...resourceParameters,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    reply.setCookie(pendingCookie, id, { ...cookieOptions, maxAge: 600 });
    return reply.redirect(url.href, 302);
  });

  // Twofold sends the browser back here: openid-client checks state, iss, the code exchange (with the
  // verifier) and the ID token (signature, issuer, audience, expiry, nonce).
  app.get('/callback', async (request, reply) => {
    const id = request.cookies[pendingCookie] ?? '';
    const started = pending.get(id);
    pending.delete(id);
    reply.clearCookie(pendingCookie, cookieOptions);
    if (started === undefined) return reply.code(400).type('text/html; charset=utf-8').send('<!doctype html><p>This sign-in has expired. <a href="/login">Start again</a>.</p>');
    const currentUrl = new URL(request.url, options.baseUrl);
    let tokens;
    try {
      tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: started.verifier, expectedState: started.state, expectedNonce: started.nonce }, resourceParameters);
    } catch (error) {
      request.log.warn({ error: error?.error ?? error?.code }, 'sign-in refused');
      return reply.code(400).type('text/html; charset=utf-8').send('<!doctype html><p>The sign-in did not work. <a href="/login">Try again</a>.</p>');
    }
    const claims = tokens.claims();
    const sessionId = randomBytes(32).toString('base64url');
    sessions.set(sessionId, { sub: claims.sub, acr: claims.acr, amr: claims.amr, idToken: tokens.id_token, accessToken: tokens.access_token });
    reply.setCookie(sessionCookie, sessionId, cookieOptions);
    return reply.redirect('/', 303);
  });

  // The API called with the session's access token, server to server; the page shows its answers.
  if (api !== undefined) {
    app.get('/api', async (request, reply) => {
      const session = sessions.get(request.cookies[sessionCookie] ?? '');
      if (session === undefined) return reply.redirect('/', 303);
      let answers;
      try {
        answers = await callApi(api, session.accessToken);
      } catch (error) {
        request.log.warn({ error: error?.code ?? error?.message }, 'the API could not be reached');
        return reply.code(502).type('text/html; charset=utf-8').send('<!doctype html><p>The API could not be reached. <a href="/">Back</a>.</p>');
      }
      const rows = answers.map((answer) => `<h2>GET ${escapeHtml(answer.path)}</h2><p>status <span data-status="${escapeHtml(answer.path)}">${answer.status}</span></p><pre data-answer="${escapeHtml(answer.path)}">${escapeHtml(answer.body)}</pre>`);
      return reply.type('text/html; charset=utf-8').send(`<!doctype html><title>Web app</title><h1>The API answers</h1>${rows.join('')}<p><a href="/">Back</a></p>`);
    });
  }

  // Sign out here, then at Twofold: its end_session endpoint, back to this app's home page.
  app.post('/logout', async (request, reply) => {
    const sessionId = request.cookies[sessionCookie] ?? '';
    const session = sessions.get(sessionId);
    sessions.delete(sessionId);
    reply.clearCookie(sessionCookie, cookieOptions);
    if (session === undefined) return reply.redirect('/', 303);
    const endSession = client.buildEndSessionUrl(config, { id_token_hint: session.idToken, post_logout_redirect_uri: `${options.baseUrl}/` });
    return reply.redirect(endSession.href, 303);
  });

  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 5000);
  const app = await createApp({
    issuer: process.env.TWOFOLD_ISSUER ?? 'http://localhost:3000',
    clientId: process.env.CLIENT_ID ?? 'web-app',
    clientSecret: process.env.CLIENT_SECRET,
    baseUrl: process.env.BASE_URL ?? `http://localhost:${port}`,
    api: process.env.API_RESOURCE === undefined ? undefined : { resource: process.env.API_RESOURCE, scope: process.env.API_SCOPE ?? '', url: process.env.API_URL },
  });
  await app.listen({ port, host: '127.0.0.1' });
  console.log(`example web app on http://localhost:${port}`);
}
