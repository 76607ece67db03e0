// The userinfo bound: oidc-provider alone, as its own process, with its in-memory adapter, one
// client and an account that needs no lookup — no database, no Twofold code. Its userinfo rate is
// the most any provider built on oidc-provider's request pipeline can answer on this machine;
// `GET /token` hands the load generator an access token for it (oidc-login.ts).
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env['PORT']);
const issuer = `http://127.0.0.1:${port}/oidc`;
const provider = new Provider(issuer, {
  clients: [{ client_id: 'bench-app', token_endpoint_auth_method: 'none', redirect_uris: ['https://bench-app.example/callback'] }],
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  features: { devInteractions: { enabled: false } },
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

createServer((request, response) => {
  if (request.url === '/token') {
    mintAccessToken().then((token) => response.end(token), (error: unknown) => response.writeHead(500).end(String(error)));
    return;
  }
  request.url = request.url?.replace(/^\/oidc/, '') ?? '/';
  callback(request, response);
}).listen(port, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${port}\n`));
