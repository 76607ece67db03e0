// The OpenID Connect `claims` request parameter (Core 5.5), read once for everything that looks at
// it: which claims a request names, and what it demands of `acr`. Malformed JSON reads as nothing —
// the provider itself refuses malformed claims before any interaction.
export interface ClaimsParameter {
  id_token?: Record<string, { value?: unknown; values?: unknown; essential?: unknown } | null>;
  userinfo?: Record<string, unknown>;
}

export function claimsParameter(claims: unknown): ClaimsParameter {
  if (typeof claims !== 'string') return {};
  try {
    const parsed = JSON.parse(claims) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as ClaimsParameter) : {};
  } catch {
    return {};
  }
}

/** Every claim the parameter names, for the ID token or userinfo. */
export function claimNamesRequested(claims: unknown): string[] {
  const parameter = claimsParameter(claims);
  return [...Object.keys(parameter.id_token ?? {}), ...Object.keys(parameter.userinfo ?? {})];
}
