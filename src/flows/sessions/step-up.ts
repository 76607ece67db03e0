// RFC 9470 step-up: a sensitive change needs a recent second factor. The challenge tells the
// client what to do (authenticate again within max_age) instead of only saying no.
import { isAtLeastAal2 } from '../../core/tokens/authentication-methods.js';
import { TwofoldError } from '../../errors.js';
import type { AccessAuthentication } from './authenticate.js';
import { isRecentAuthentication } from './authenticate.js';
import type { FlowContext } from '../shared/context.js';

export function requireRecentAuthentication(ctx: FlowContext, auth: AccessAuthentication): void {
  // A session that began with an e-mail code is not AAL2 and cannot manage factors (OB-05).
  if ((JSON.parse(auth.session.amr) as string[]).includes('email')) {
    throw new TwofoldError('forbidden', 'This session was not established with a second factor strong enough to change factors; verify another factor first.');
  }
  // An aal1 session (a remembered browser) or an old second factor: prove a factor now (RFC 9470).
  if (isAtLeastAal2(auth.session.acr) && isRecentAuthentication(ctx, auth.session)) return;
  const maxAge = ctx.config.sessions.stepUpMaxAgeSeconds;
  throw new TwofoldError('insufficient_authentication', `This change needs a second factor proven in the last ${maxAge} seconds.`, {
    headers: {
      'WWW-Authenticate': `Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=${maxAge}, acr_values="aal2"`,
    },
    extensions: { max_age: maxAge, acr_values: 'aal2' },
  });
}
