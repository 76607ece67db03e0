// What an authorization request demands of the sign-in behind it (OpenID Connect Core 3.1.2.1):
// prompt=login (a fresh sign-in), max_age (a sign-in no older than that), acr_values or an
// essential acr claim asking for aal2 (a second factor). A demand is met by sending the person
// through a factor, never by believing the parameter: the interaction compares it with what the
// Twofold session proves.
import { claimsParameter } from './claims-parameter.js';

export interface AuthenticationDemand {
  freshSignIn: boolean;
  maxAgeSeconds: number | undefined;
  secondFactor: boolean;
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
  // aal2 is Twofold's highest level: asked for at all (first choice or not), it is what is given.
  const secondFactor = acrValues.includes('aal2') || acrDemanded(params['claims']).includes('aal2');
  return { freshSignIn: prompts.includes('login'), maxAgeSeconds: Number.isInteger(maxAge) && maxAge >= 0 ? maxAge : undefined, secondFactor };
}
