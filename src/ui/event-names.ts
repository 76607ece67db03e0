// What a security event is called on the pages (the account page and the admin console): a
// sentence for each type the audit trail writes; an unknown type is shown by its name.

const eventNames: Readonly<Record<string, string>> = {
  'user.registered': 'Account created',
  'login.password_failed': 'Wrong password entered',
  'login.password_verified': 'Password accepted',
  'login.completed': 'Signed in',
  'mfa.failed': 'Wrong code entered',
  'mfa.replay_rejected': 'A used code was tried again',
  'mfa.attempts_exhausted': 'Too many wrong codes',
  'factor.enrolled': 'Factor setup started',
  'factor.activated': 'Factor added',
  'factor.removed': 'Factor removed',
  'factor.renamed': 'Factor renamed',
  'recovery_code.used': 'Recovery code used',
  'recovery_codes.issued': 'New recovery codes issued',
  'token.refresh_reuse_detected': 'A session was ended: its token was used twice',
  'token.refresh_grace_replay': 'A session renewal was repeated within seconds and answered again',
  'session.revoked': 'Session ended',
  'step_up.completed': 'Identity confirmed again',
  'oidc.login': 'Signed in to an application',
  'forward_auth.denied': 'Refused by an application’s access rules',
  'password.changed': 'Password changed',
  'password.removed': 'Password removed: passkey sign-in only',
  'password.set': 'Password set',
  'password.change_failed': 'Password change refused',
  'password.reset_requested': 'Password reset asked for',
  'password.reset': 'Password reset',
  'password.reset_failed': 'Wrong password reset code',
  'login.throttled': 'Sign-in attempt refused: too many failures',
  'account.locked': 'Account locked after too many failures',
  'admin.account_unlocked': 'Account unlocked by an administrator',
  'trusted_device.added': 'Browser remembered',
  'trusted_device.used': 'Signed in from a remembered browser',
  'trusted_device.revoked': 'Remembered browser forgotten',
  'challenge.sent': 'Code sent',
  'admin.factors_reset': 'Factors reset by an administrator',
  'webauthn.counter_regression': 'A passkey looked cloned and was refused',
  'email.verification_sent': 'Verification link sent',
  'email.verified': 'E-mail address confirmed',
  'email.changed': 'E-mail address changed',
  'send_budget.exhausted': 'Messages paused: too many were sent',
};

export function eventName(type: string): string {
  return eventNames[type] ?? type;
}
