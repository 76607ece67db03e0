// For the client SDK's suites: a real Twofold listening on an ephemeral port (the SDK talks HTTP
// over a socket, not app.inject), a fetch that records what the SDK sent, and the software
// authenticator behind the SDK's WebAuthnCeremonies interface.
import { createTwofoldClient, type TwofoldClient, type TwofoldClientOptions, type WebAuthnCeremonies } from '../../src/client/index.js';
import type { SoftAuthenticator } from './soft-authenticator.js';
import { startListeningTwofold as startListening, type ListeningTwofold } from './listening-twofold.js';
import { testPublicUrl, type TestTwofoldOptions } from './twofold.js';

export type { ListeningTwofold } from './listening-twofold.js';

/** Keeps the public URL (the WebAuthn origin) the software authenticator signs for. */
export function startListeningTwofold(options: TestTwofoldOptions = {}): Promise<ListeningTwofold> {
  return startListening({ ...options, env: { TWOFOLD_PUBLIC_URL: testPublicUrl, ...options.env } });
}

export interface RecordedCall {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Headers;
  body: string | undefined;
  status: number;
}

export interface RecordingFetch {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  calls: RecordedCall[];
  /** "METHOD /path status" for each call, in order. */
  summary(): string[];
  paths(): string[];
}

export function createRecordingFetch(): RecordingFetch {
  const calls: RecordedCall[] = [];
  return {
    calls,
    async fetch(input, init) {
      const response = await fetch(input, init);
      const url = new URL(input);
      calls.push({
        method: init.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        headers: new Headers(init.headers),
        body: typeof init.body === 'string' ? init.body : undefined,
        status: response.status,
      });
      return response;
    },
    summary: () => calls.map((call) => `${call.method} ${call.path} ${call.status}`),
    paths: () => calls.map((call) => call.path),
  };
}

/** The software authenticator as the SDK's passkey prompts (what a browser plus a platform authenticator do). */
export function softWebAuthn(authenticator: SoftAuthenticator): WebAuthnCeremonies {
  return {
    startRegistration: async ({ optionsJSON }) => authenticator.register(optionsJSON),
    startAuthentication: async ({ optionsJSON }) => authenticator.authenticate(optionsJSON),
  };
}

/**
 * The software authenticator behind a browser that offers conditional mediation: a modal prompt
 * answers at once, a conditional one (useBrowserAutofill) waits until the test "picks" the passkey
 * in the autofill — or until the SDK cancels the prompt, which then rejects with an AbortError as
 * @simplewebauthn/browser's does.
 */
export interface ConditionalSoftWebAuthn {
  ceremonies: WebAuthnCeremonies;
  /** Resolves when a conditional prompt is waiting for a pick. */
  waiting(): Promise<void>;
  /** The person picks the passkey in the autofill. */
  pick(): void;
  /** useBrowserAutofill of each prompt, in order. */
  readonly prompts: boolean[];
  cancellations(): number;
}

export function conditionalSoftWebAuthn(authenticator: SoftAuthenticator, options: { available?: boolean } = {}): ConditionalSoftWebAuthn {
  const prompts: boolean[] = [];
  let cancelled = 0;
  let pending: { pick: () => void; cancel: () => void } | undefined;
  let announceWaiting: (() => void) | undefined;
  let waiting = new Promise<void>((resolve) => (announceWaiting = resolve));
  return {
    prompts,
    waiting: () => waiting,
    pick: () => pending?.pick(),
    cancellations: () => cancelled,
    ceremonies: {
      startRegistration: async ({ optionsJSON }) => authenticator.register(optionsJSON),
      startAuthentication: async ({ optionsJSON, useBrowserAutofill = false }) => {
        prompts.push(useBrowserAutofill);
        if (!useBrowserAutofill) return authenticator.authenticate(optionsJSON);
        const picked = new Promise<void>((resolve, reject) => {
          pending = { pick: resolve, cancel: () => reject(Object.assign(new Error('Manually cancelling existing WebAuthn API call'), { name: 'AbortError' })) };
        });
        announceWaiting?.();
        waiting = new Promise<void>((resolve) => (announceWaiting = resolve));
        await picked;
        return authenticator.authenticate(optionsJSON);
      },
      cancelCeremony: () => {
        cancelled += 1;
        pending?.cancel();
      },
      isConditionalMediationAvailable: async () => options.available ?? true,
    },
  };
}

export interface TestClient {
  client: TwofoldClient;
  recorder: RecordingFetch;
}

/** A client of `t` on the test's clock (so it sees token expiry as the server does), recording its requests. */
export function createTestClient(t: ListeningTwofold, options: Partial<TwofoldClientOptions> = {}): TestClient {
  const recorder = createRecordingFetch();
  const client = createTwofoldClient({ baseUrl: t.baseUrl, fetch: recorder.fetch, now: t.clock.now, ...options });
  return { client, recorder };
}
