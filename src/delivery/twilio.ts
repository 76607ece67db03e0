// SMS through Twilio's Messages API: POST {api}/2010-04-01/Accounts/{AccountSid}/Messages.json,
// HTTP Basic auth with the account SID and auth token, form-encoded To, From (or
// MessagingServiceSid) and Body; 201 with the message resource on success.
import { DeliveryError, withRetries, type MessageSender } from './message.js';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  apiUrl: string;
  timeoutMs: number;
  tries?: number;
  firstPauseMs?: number;
}

export function createTwilioSender(options: TwilioOptions): MessageSender {
  const endpoint = `${options.apiUrl}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  return {
    provider: 'twilio',
    send: (message) =>
      withRetries(options.tries ?? 3, options.firstPauseMs ?? 250, async () => {
        const form = new URLSearchParams({ To: message.to, Body: message.text });
        if (options.messagingServiceSid !== undefined) form.set('MessagingServiceSid', options.messagingServiceSid);
        else if (options.from !== undefined) form.set('From', options.from);
        let response: Response;
        try {
          response = await fetch(endpoint, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
            body: form.toString(),
            signal: AbortSignal.timeout(options.timeoutMs),
          });
        } catch (cause) {
          throw new DeliveryError('unavailable', 'Twilio could not be reached', { cause });
        }
        const text = await response.text();
        if (response.status === 201 || response.status === 200) return;
        // Twilio explains refusals as {code, message}; the code is safe to log, the number is not repeated.
        let twilioCode: unknown;
        try {
          twilioCode = (JSON.parse(text) as { code?: unknown }).code;
        } catch {
          twilioCode = undefined;
        }
        const retryable = response.status === 429 || response.status >= 500;
        throw new DeliveryError(retryable ? 'unavailable' : 'rejected', `Twilio answered ${response.status}${twilioCode === undefined ? '' : ` (error ${String(twilioCode)})`}`);
      }),
  };
}
