// What an authorization request demands of the sign-in behind it (OpenID Connect Core 3.1.2.1):
// prompt=login (a fresh sign-in), max_age (a sign-in no older than that), acr_values or the claims
// parameter's acr asking for a level (aal2: a second factor; phr: a passkey; phrh: an attested
// hardware passkey). A demand is met by sending the person through a factor, never by believing
// the parameter: the interaction compares it with what the Twofold session proves.
import { acrSatisfies, isAssuranceLevel, strongestAssuranceLevel, type AssuranceLevel } from '../core/tokens/assurance-levels.js';
import { claimsParameter } from './claims-parameter.js';

export interface AuthenticationDemand {
  freshSignIn: boolean;
  maxAgeSeconds: number | undefined;
  /** The acr values asked for: acr_values and the claims parameter's acr together. */
  acrValues: string[];
}

function acrDemanded(claims: unknown): string[] {
  const acr = claimsParameter(claims).id_token?.acr;
  if (acr === undefined || acr === null) return [];
  const values = Array.isArray(acr.values) ? acr.values : [acr.value];
  return values.filter((value): value is string => typeof value === 'string');
}

export function authenticationDemand(params: Record<string, unknown>): AuthenticationDemand {
  const prompts = typeof params['prompt'] === 'string' ? params['prompt'].split(' ') : [];
  const maxAge = typeof params['max_age'] === 'string' || typeof params['max_age'] === 'number' ? Number(params['max_age']) : Number.NaN;
  const acrValues = typeof params['acr_values'] === 'string' ? params['acr_values'].split(' ') : [];
  return {
    freshSignIn: prompts.includes('login'),
    maxAgeSeconds: Number.isInteger(maxAge) && maxAge >= 0 ? maxAge : undefined,
    acrValues: [...acrValues, ...acrDemanded(params['claims'])].filter((value) => value !== ''),
  };
}

export interface DemandedLevel {
  /** What the sign-in must prove, or undefined when nothing is asked. */
  level: AssuranceLevel | undefined;
  /** The request asks only for levels this account cannot reach (phr / phrh without such a passkey). */
  unmet: boolean;
}

/**
 * The level the login must prove: the strongest of Twofold's levels the request asks for (first
 * choice or not, a level asked for at all is what is given) that the account can reach —
 * `reachable`, the best its passkeys allow (aal2 without one; assumed phrh until looked up) — and
 * never less than the client's required level. A request whose levels are all out of reach is
 * `unmet`; values Twofold does not know ask for nothing.
 */
export function demandedAssuranceLevel(demand: AuthenticationDemand, clientRequiredAcr: string | undefined, reachable: AssuranceLevel = 'phrh'): DemandedLevel {
  const asked = demand.acrValues.filter(isAssuranceLevel);
  const withinReach = asked.filter((level) => acrSatisfies(reachable, [level]));
  // The client's own requirement has no next choice: out of reach, nothing the person does meets it.
  const requiredOutOfReach = clientRequiredAcr !== undefined && isAssuranceLevel(clientRequiredAcr) && !acrSatisfies(reachable, [clientRequiredAcr]);
  return {
    level: strongestAssuranceLevel(clientRequiredAcr === undefined ? withinReach : [...withinReach, clientRequiredAcr]),
    unmet: (asked.length > 0 && withinReach.length === 0) || requiredOutOfReach,
  };
}

/** phr and phrh: only a passkey proves them. */
export function isPhishingResistantLevel(level: AssuranceLevel | undefined): level is 'phr' | 'phrh' {
  return level === 'phr' || level === 'phrh';
}

/**
 * The ID token's acr: the session's own (aal1 or aal2), raised to the strongest level the request
 * (or the client's registration) asked for that the sign-in proves — so `phr` / `phrh` appear only
 * when asked for and earned.
 */
export function reportedAcr(session: { acr: string; proven: AssuranceLevel | undefined }, demand: AuthenticationDemand, clientRequiredAcr?: string): string {
  const wanted = clientRequiredAcr === undefined ? demand.acrValues : [...demand.acrValues, clientRequiredAcr];
  const earned = wanted.filter((value) => isAssuranceLevel(value) && session.proven !== undefined && acrSatisfies(session.proven, [value]));
  return strongestAssuranceLevel([session.acr, ...earned]) ?? session.acr;
}
