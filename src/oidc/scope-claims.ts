// Which claims each scope gives (the provider's `claims` setting): acr, amr and auth_time with
// openid — every ID token says how the person signed in — and the address with email. The provider
// keeps only the claims the granted scopes allow; the first-party grant (first-party-grant.ts)
// grants exactly these scopes.
export const scopeClaims = { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'] };
