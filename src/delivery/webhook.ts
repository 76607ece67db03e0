// SMS through your own gateway: a JSON POST {to, text, purpose, expires_at} to a URL you run,
// signed so the receiver can tell it came from Twofold: the header
//   Twofold-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// (the timestamp lets the receiver refuse replays). Each try is bounded by a timeout; network
// errors, 408, 429 and 5xx are retried with backoff, other 4xx are final.
import { createHmac } from 'node:crypto';
import { DeliveryError, withRetries, type MessageSender } from './message.js';

export const signatureHeader = 'Twofold-Signature';

export function signWebhookBody(secret: string, timestampSeconds: number, body: string): string {
  const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${signature}`;
}

export function createWebhookSender(options: { url: string; secret: string; timeoutMs: number; tries?: number; firstPauseMs?: number }): MessageSender {
  return {
    provider: 'webhook',
    send: (message) =>
      withRetries(options.tries ?? 3, options.firstPauseMs ?? 250, async () => {
        const body = JSON.stringify({ to: message.to, text: message.text, purpose: message.purpose, expires_at: new Date(message.expiresAt).toISOString() });
        let response: Response;
        try {
          response = await fetch(options.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', [signatureHeader]: signWebhookBody(options.secret, Math.floor(Date.now() / 1000), body) },
            body,
            signal: AbortSignal.timeout(options.timeoutMs),
            // A redirect is not followed (the signed body must not go elsewhere): it is a refusal.
            redirect: 'manual',
          });
        } catch (cause) {
          throw new DeliveryError('unavailable', 'the SMS webhook could not be reached', { cause });
        }
        await response.body?.cancel();
        if (response.ok) return;
        if (response.status >= 300 && response.status < 400) throw new DeliveryError('rejected', `the SMS webhook answered with a redirect (${response.status})`);
        const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
        throw new DeliveryError(retryable ? 'unavailable' : 'rejected', `the SMS webhook answered ${response.status}`);
      }),
  };
}
