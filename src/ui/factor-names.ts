// What each kind of second factor is called on the pages (the account page and the admin console).
export const factorNames: Readonly<Record<string, string>> = { totp: 'Authenticator app', sms: 'Text messages', email: 'E-mail codes', webauthn: 'Passkey' };
