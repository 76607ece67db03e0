// The assurance levels (`acr`) Twofold issues, weakest first: NIST's aal1 and aal2, then the
// phishing-resistant levels of OpenID's registry (https://openid.net/specs/openid-connect-eap-acr-values-1_0.html):
// `phr` for a passkey (its signature is bound to the origin, so a look-alike site cannot relay it)
// and `phrh` for a passkey whose attestation proves a hardware key. Each level implies the ones
// before it, so a demand for a level is met by that level or a stronger one. This order is kept
// here only: `twofold/verify`, the OpenID Provider and the token issuers all read it.

export const assuranceLevels = ['aal1', 'aal2', 'phr', 'phrh'] as const;

export type AssuranceLevel = (typeof assuranceLevels)[number];

export function isAssuranceLevel(value: string): value is AssuranceLevel {
  return (assuranceLevels as readonly string[]).includes(value);
}

/** The level's rank (0 for aal1), or undefined for a value Twofold does not order. */
function rankOf(acr: string): number | undefined {
  const rank = assuranceLevels.indexOf(acr as AssuranceLevel);
  return rank === -1 ? undefined : rank;
}

/**
 * True when a sign-in at `presentedAcr` meets one of the `acceptable` levels: the same value, or a
 * stronger level of Twofold's order. Values outside that order (another issuer's URNs) match only
 * themselves.
 */
export function acrSatisfies(presentedAcr: string, acceptable: readonly string[]): boolean {
  const presentedRank = rankOf(presentedAcr);
  return acceptable.some((wanted) => {
    if (wanted === presentedAcr) return true;
    const wantedRank = rankOf(wanted);
    return presentedRank !== undefined && wantedRank !== undefined && presentedRank >= wantedRank;
  });
}

/** The strongest of Twofold's levels among `values`, or undefined when none is one. */
export function strongestAssuranceLevel(values: readonly string[]): AssuranceLevel | undefined {
  const ranks = values.map(rankOf).filter((rank): rank is number => rank !== undefined);
  return ranks.length === 0 ? undefined : assuranceLevels[Math.max(...ranks)];
}

/**
 * The strongest level a sign-in proves, from what the server verified (its `acr` and `amr`), never
 * from what was asked: a two-factor sign-in (aal2) whose latest proof was a passkey — alone with
 * user verification, or after the password — is phishing resistant (`phr`), since that proof
 * cannot be relayed from a look-alike site; `phrh` when the passkey is a proven hardware key
 * (`hwk`, from a verified attestation). A remembered browser or an e-mail code stays at its own
 * level whatever else the session holds.
 */
export function provenAssuranceLevel(signIn: { acr: string; amr: readonly string[] }): AssuranceLevel | undefined {
  if (!acrSatisfies(signIn.acr, ['aal2'])) return isAssuranceLevel(signIn.acr) ? signIn.acr : undefined;
  if (signIn.amr.includes('hwk')) return 'phrh';
  if (signIn.amr.includes('swk')) return strongestAssuranceLevel([signIn.acr, 'phr']);
  return isAssuranceLevel(signIn.acr) ? signIn.acr : undefined;
}
