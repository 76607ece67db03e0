// Sign up: username and password (and an optional e-mail), then straight to choosing the first
// second factor. The password rules are the API's (PW-01..PW-05), shown next to the field.
import type { FastifyInstance } from 'fastify';
import { register } from '../../flows/sign-in/register.js';
import { requestMeta } from '../../http/authenticate.js';
import { csrfField } from '../csrf.js';
import { errorsFrom, field, type FormErrors } from '../forms.js';
import { html } from '../html.js';
import { formValue, type PageKit } from '../kit.js';
import { setPending, signedInSession } from '../page-session.js';

export function signUpPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;
  const form = (csrf: string, values: { username?: string; email?: string }, errors: FormErrors) => html`<form class="stack card" method="post" action="/sign-up" novalidate>
  ${csrfField(csrf)}
  ${errors.form === undefined ? '' : html`<p class="error" role="alert">${errors.form}</p>`}
  ${field({ label: 'Username', name: 'username', autocomplete: 'username', value: values.username, error: errors.fields['username'], hint: '3–64 letters, digits, ".", "_" or "-"', autofocus: true, maxlength: 64 })}
  ${field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password', error: errors.fields['password'], hint: `At least ${ctx.config.password.minLength} characters; a passphrase of a few words works well.`, maxlength: 1024 })}
  ${field({ label: 'E-mail (optional)', name: 'email', type: 'email', autocomplete: 'email', value: values.email, error: errors.fields['email'], required: false, maxlength: 320 })}
  <button type="submit">Create account</button>
</form>
<p class="muted">Already have an account? <a href="/sign-in">Sign in</a></p>`;

  app.get('/sign-up', async (request, reply) => {
    if ((await signedInSession(ctx, request, reply)) !== undefined) return reply.redirect('/account', 303);
    return kit.render(request, reply, { title: 'Create your account', signedIn: false }, (csrf) => form(csrf, {}, { fields: {} }));
  });

  app.post('/sign-up', async (request, reply) => {
    const username = formValue(request, 'username') ?? '';
    const email = formValue(request, 'email') || undefined;
    try {
      const result = await register(ctx, { username, password: formValue(request, 'password') ?? '', email }, requestMeta(request));
      setPending(ctx, reply, result.mfa_token);
      return reply.redirect('/enroll', 303);
    } catch (error) {
      return kit.render(request, reply, { title: 'Create your account', signedIn: false, status: 400 }, (csrf) => form(csrf, { username, email }, errorsFrom(error)));
    }
  });
}
