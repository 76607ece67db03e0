// The hosted pages' Content-Security-Policy limits where a form may go (form-action), and browsers
// apply that to every redirect the form's answer starts. A sign-in for an application ends in such a
// chain — the verify form's answer goes on through the provider to the application's redirect URI
// — so, with the OpenID Provider on, the registered clients' redirect origins must be allowed
// there, or a real browser stops on the sign-in page (a fetch-driven test never notices). Only the
// operator's registered clients are added, read when a page is sent, so a client added with
// `twofold clients add` works at once.
import type { FlowContext } from '../flows/shared/context.js';
import { listOidcClients } from './clients.js';

export async function oidcRedirectOrigins(ctx: FlowContext): Promise<string[]> {
  const origins = new Set<string>();
  for (const client of await listOidcClients(ctx.db)) {
    for (const uri of client.redirectUris) origins.add(new URL(uri).origin);
  }
  return [...origins];
}
