// The page a verification link opens: it shows a button and changes nothing by itself — mail
// scanners and link previews that fetch the URL must not verify an address on the owner's behalf —
// and the button POSTs the token (with the form's CSRF token) to verify the address.
import type { FastifyInstance } from 'fastify';
import { TwofoldError } from '../../errors.js';
import { verifyEmail } from '../../flows/account/email-verification.js';
import { requestMeta } from '../../http/authenticate.js';
import { csrfField } from '../csrf.js';
import { html } from '../html.js';
import { formValue, type PageKit } from '../kit.js';

const tokenShape = /^tfv_[A-Za-z0-9_-]{43}$/;

export function verifyEmailPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;

  app.get('/verify-email', async (request, reply) => {
    const token = (request.query as Record<string, unknown> | undefined)?.['token'];
    if (typeof token !== 'string' || !tokenShape.test(token)) {
      return kit.render(request, reply, { title: 'This link is incomplete', signedIn: false, status: 400 }, () => html`<p class="error" role="alert">Open the link exactly as it is in the message, or ask for a new one from your account page.</p>`);
    }
    return kit.render(request, reply, { title: 'Confirm your e-mail address', signedIn: false }, (csrf) => html`<form class="stack card" method="post" action="/verify-email" novalidate>
  ${csrfField(csrf)}
  <input type="hidden" name="token" value="${token}">
  <p>Press the button to confirm that this address is yours. Until you do, ${ctx.config.serviceName} sends nothing else to it.</p>
  <button type="submit">Confirm my address</button>
</form>`);
  });

  app.post('/verify-email', async (request, reply) => {
    try {
      await verifyEmail(ctx, { token: formValue(request, 'token') ?? '' }, requestMeta(request));
    } catch (error) {
      if (!(error instanceof TwofoldError) || error.code !== 'invalid_code') throw error;
      return kit.render(request, reply, { title: 'That did not work', signedIn: false, status: 400 }, () => html`<p class="error" role="alert">${error.message}</p><p><a href="/account">Go to your account</a></p>`);
    }
    return kit.render(request, reply, { title: 'Your address is confirmed', signedIn: false, notice: { kind: 'ok', text: 'Thank you: password reset codes and security notices can now reach you there.' } }, () => html`<p><a class="button" href="/account">Go to your account</a></p>`);
  });
}
