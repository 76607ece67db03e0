// Messages that carry a one-time code to a person, and the one interface every provider
// implements. A provider that refuses a message (bad number, rejected credentials) is a
// DeliveryError of kind "rejected" (502); one that cannot be reached in time is "unavailable"
// (503). Either way the caller learns it at once — a code is never silently lost.

export type MessageChannel = 'sms' | 'email';

export interface OutgoingMessage {
  channel: MessageChannel;
  to: string;
  subject?: string | undefined;
  text: string;
  purpose: 'enroll' | 'login' | 'step_up' | 'password_reset' | 'notice' | 'email_verification';
  expiresAt: number;
}

export interface MessageSender {
  readonly provider: string;
  send(message: OutgoingMessage): Promise<void>;
}

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly kind: 'rejected' | 'unavailable',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Runs `attempt` up to `tries` times with doubling pauses while it fails as "unavailable". */
export async function withRetries<T>(tries: number, firstPauseMs: number, attempt: () => Promise<T>): Promise<T> {
  for (let index = 1; ; index += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (index >= tries || !(error instanceof DeliveryError) || error.kind !== 'unavailable') throw error;
      await new Promise((resolve) => setTimeout(resolve, firstPauseMs * 2 ** (index - 1)));
    }
  }
}
