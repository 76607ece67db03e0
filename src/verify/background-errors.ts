// Where failures of the verifier's background work go when the service gives no hook of its own:
// a Node process warning (stderr by default, or process.on('warning')), so a feed that stopped
// answering is never silent. Warnings carry the operator's text (the issuer URL, the cause) —
// they are logs, not answers to clients. The same text is repeated at most once a minute, so an
// issuer that stays down prints a line a minute, not one per poll.
import { performance } from 'node:perf_hooks';
import type { VerificationError } from './errors.js';

const repeatAfterMs = 60_000;

export function createWarningReporter(emit: (message: string) => void = (message) => process.emitWarning(message, { type: 'TwofoldVerifyWarning' })): (error: VerificationError) => void {
  let last: { text: string; at: number; suppressed: number } | undefined;
  return (error) => {
    const text = `twofold/verify: ${error.diagnostic}`;
    const now = performance.now();
    if (last !== undefined && last.text === text && now - last.at < repeatAfterMs) {
      last.suppressed += 1;
      return;
    }
    const repeated = last !== undefined && last.text === text && last.suppressed > 0 ? ` (${last.suppressed} more since the last warning)` : '';
    last = { text, at: now, suppressed: 0 };
    emit(`${text}${repeated}`);
  };
}
