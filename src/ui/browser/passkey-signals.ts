// The WebAuthn Signal API, where the browser has it: the server tells the person's passkey provider
// what it no longer accepts, so the provider stops offering it (a passkey removed on the account
// page, a credential the sign-in did not know). Feature-detected and best effort — a browser
// without it loses nothing, and a failed signal changes nothing on the server.
import { sendSignal } from '@simplewebauthn/browser';

type SignalName = 'signalUnknownCredential' | 'signalAllAcceptedCredentials' | 'signalCurrentUserDetails';

function browserHas(name: SignalName): boolean {
  const api = (globalThis as unknown as { PublicKeyCredential?: Record<string, unknown> }).PublicKeyCredential;
  return typeof api?.[name] === 'function';
}

/** Reads the signal the server wrote on an element (data-* attributes) and sends it. */
export async function sendPasskeySignal(element: HTMLElement): Promise<void> {
  const data = element.dataset;
  const rpID = data['rpId'] ?? '';
  const sent: string[] = [];
  try {
    if (data['passkeySignal'] === 'unknown-credential' && browserHas('signalUnknownCredential')) {
      await sendSignal({ signalName: 'unknownCredential', rpID, credentialID: data['credentialId'] ?? '' });
      sent.push('unknownCredential');
    }
    if (data['passkeySignal'] === 'accepted-credentials') {
      const userID = data['userId'] ?? '';
      if (browserHas('signalAllAcceptedCredentials')) {
        const accepted = (data['acceptedCredentialIds'] ?? '').split(' ').filter((id) => id !== '');
        await sendSignal({ signalName: 'allAcceptedCredentials', rpID, userID, allAcceptedCredentialIDs: accepted });
        sent.push('allAcceptedCredentials');
      }
      if (browserHas('signalCurrentUserDetails')) {
        await sendSignal({ signalName: 'currentUserDetails', rpID, userID, userName: data['userName'] ?? '', userDisplayName: data['userName'] ?? '' });
        sent.push('currentUserDetails');
      }
    }
  } catch {
    // Best effort: the passkey provider may refuse or ignore it.
  }
  // What was sent, for whoever inspects the page (and the browser tests).
  element.dataset['signalsSent'] = sent.join(' ') || 'none';
}
