// Where a page may send a person: inside Twofold, a local path only (never "//host" or a scheme);
// outside, only an origin on TWOFOLD_ALLOWED_REDIRECTS. Nothing else ever redirects (no open
// redirect for phishing to borrow).

export function safeLocalPath(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || !/^\/(?![/\\])[A-Za-z0-9/_.~?=&%-]*$/.test(value) || value.length > 512) return fallback;
  return value;
}

export function allowedReturnTo(value: unknown, allowedOrigins: readonly string[]): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.username !== '' || url.password !== '') return undefined;
  return allowedOrigins.includes(url.origin) ? url.href : undefined;
}

/** A sign-in the OpenID Provider started returns to its interaction: a local path of that one shape. */
export function oidcInteractionReturn(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/oidc\/interaction\/[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}

/** The interaction id of such a return path. */
export function oidcInteractionUid(value: unknown): string | undefined {
  const target = oidcInteractionReturn(value);
  return target?.slice(target.lastIndexOf('/') + 1);
}

/** A sign-in forward-auth started returns to its own sign-in route (which checks rd again): a local path of that one shape. */
export function forwardAuthSignInReturn(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 4600 && /^\/v1\/forward-auth\/sign-in\?rd=[A-Za-z0-9_.~%-]+$/.test(value) ? value : undefined;
}

/** A sign-in for forward-auth's handoff to another parent domain returns to the handoff (which checks rd and state again). */
export function forwardAuthHandoffReturn(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 4700 && /^\/v1\/forward-auth\/sso\?rd=[A-Za-z0-9_.~%-]+&state=[A-Za-z0-9_-]{43}&hop=1$/.test(value) ? value : undefined;
}

/** A sign-in the admin console asked for returns to the console page that asked: a local path of one of its two shapes. */
export function adminConsoleReturn(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/admin(?:\/users\/[A-Za-z0-9_-]{1,64})?$/.test(value) ? value : undefined;
}

/** Where a page returns a person after signing in: an allow-listed origin, the admin console, or the provider's interaction that sent them (TWOFOLD_OIDC on). */
export function signInReturnTarget(value: unknown, settings: { allowedRedirectOrigins: readonly string[]; oidcEnabled: boolean; forwardAuthEnabled?: boolean }): string | undefined {
  return (
    allowedReturnTo(value, settings.allowedRedirectOrigins) ??
    adminConsoleReturn(value) ??
    (settings.oidcEnabled ? oidcInteractionReturn(value) : undefined) ??
    (settings.forwardAuthEnabled === true ? (forwardAuthSignInReturn(value) ?? forwardAuthHandoffReturn(value)) : undefined)
  );
}
