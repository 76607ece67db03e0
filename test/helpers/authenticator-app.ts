// An authenticator app for tests against a server on the real clock: each code works once (the
// account remembers the last step used, as the server does), and a code is handed out only while
// the server (window ±1 step) will still accept it when the request lands: the previous step only
// with 10 s of it left, and never more than one step ahead.
import { generateTotpCode } from '../../src/core/totp/verify.js';
import { acceptedSteps } from './totp-window.js';

export class AuthenticatorApp {
  private lastStep = 0;
  constructor(readonly secret: string) {}
  async nextCode(): Promise<string> {
    for (;;) {
      const { earliest, latest, msLeftInStep } = acceptedSteps(Date.now(), 10_000);
      const step = Math.max(earliest, this.lastStep + 1);
      if (step <= latest) {
        this.lastStep = step;
        return generateTotpCode(this.secret, step);
      }
      await new Promise((resolve) => setTimeout(resolve, msLeftInStep + 100));
    }
  }
}
