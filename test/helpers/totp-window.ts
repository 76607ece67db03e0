// Which TOTP steps a server with the default window (±1 step) still accepts when a request sent
// now lands: the previous step only while at least `marginMs` of the current one is left (it is
// refused once the current step ends), the current step, and one step ahead.
import { totpParameters } from '../../src/core/totp/secret.js';
import { totpStepAt } from '../../src/core/totp/verify.js';

export interface AcceptedSteps {
  earliest: number;
  latest: number;
  /** Until the current step ends, when `earliest` and `latest` move on. */
  msLeftInStep: number;
}

export function acceptedSteps(nowMs: number, marginMs: number): AcceptedSteps {
  const current = totpStepAt(nowMs);
  const msLeftInStep = (current + 1) * totpParameters.periodSeconds * 1000 - nowMs;
  return { earliest: msLeftInStep > marginMs ? current - 1 : current, latest: current + 1, msLeftInStep };
}
