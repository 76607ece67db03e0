// Forgot password: always the same answer; the code arrives by e-mail or text message. Reset:
// username, code and a new password — it signs nobody in, and the second factor is still needed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestPasswordReset, resetPassword } from '../../flows/account/password-reset.js';
import { requestMeta } from '../../http/authenticate.js';
import { csrfField } from '../csrf.js';
import { errorsFrom, field, type FormErrors } from '../forms.js';
import { html } from '../html.js';
import { formValue, type PageKit } from '../kit.js';

export function passwordResetPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;
  const forgotForm = (csrf: string) => html`<form class="stack card" method="post" action="/forgot-password" novalidate>
  ${csrfField(csrf)}
  ${field({ label: 'Username', name: 'username', autocomplete: 'username', autofocus: true, maxlength: 256 })}
  <button type="submit">Send a reset code</button>
</form>`;
  const resetForm = (csrf: string, username: string, errors: FormErrors) => html`<form class="stack card" method="post" action="/reset-password" novalidate>
  ${csrfField(csrf)}
  ${errors.form === undefined ? '' : html`<p class="error" role="alert">${errors.form}</p>`}
  ${field({ label: 'Username', name: 'username', autocomplete: 'username', value: username, maxlength: 256 })}
  ${field({ label: 'Reset code', name: 'code', autocomplete: 'one-time-code', error: errors.fields['code'], hint: 'From the message we sent, like ABCDE-FGHJK-MNPQR-STVWX', maxlength: 64 })}
  ${field({ label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password', error: errors.fields['new_password'], hint: `At least ${ctx.config.password.minLength} characters.`, maxlength: 1024 })}
  <button type="submit">Set the new password</button>
</form>`;

  // TWOFOLD_PASSWORD_RESET=off: the pages say so instead of promising a code that never comes.
  const resetOffered = ctx.config.passwordResetChannels.length > 0;
  const notOffered = (request: FastifyRequest, reply: FastifyReply) =>
    kit.render(request, reply, { title: 'Password reset', signedIn: false, status: 403 }, () => html`<p class="error" role="alert">Password reset is not offered on this server; ask its administrator for help.</p><p><a href="/sign-in">Back to sign in</a></p>`);

  app.get('/forgot-password', async (request, reply) => (resetOffered ? kit.render(request, reply, { title: 'Forgot your password?', signedIn: false }, forgotForm) : notOffered(request, reply)));

  app.post('/forgot-password', async (request, reply) => {
    if (!resetOffered) return notOffered(request, reply);
    const result = await requestPasswordReset(ctx, { username: formValue(request, 'username') ?? '' }, requestMeta(request));
    return kit.render(request, reply, { title: 'Check your messages', signedIn: false, notice: { kind: 'info', text: result.message } }, () => html`<p><a class="button" href="/reset-password">I have a code</a></p>`);
  });

  app.get('/reset-password', async (request, reply) =>
    resetOffered ? kit.render(request, reply, { title: 'Set a new password', signedIn: false }, (csrf) => resetForm(csrf, '', { fields: {} })) : notOffered(request, reply),
  );

  app.post('/reset-password', async (request, reply) => {
    if (!resetOffered) return notOffered(request, reply);
    const username = formValue(request, 'username') ?? '';
    try {
      await resetPassword(ctx, { username, code: formValue(request, 'code') ?? '', newPassword: formValue(request, 'new_password') ?? '' }, requestMeta(request));
      return reply.redirect('/sign-in?done=password-reset', 303);
    } catch (error) {
      const errors = errorsFrom(error, 'new_password');
      const fields = (error as { code?: string }).code === 'invalid_code' ? { code: (error as Error).message } : errors.fields;
      return kit.render(request, reply, { title: 'Set a new password', signedIn: false, status: 400 }, (csrf) => resetForm(csrf, username, { fields, form: (error as { code?: string }).code === 'invalid_code' ? undefined : errors.form }));
    }
  });
}
