// The AAD an OpenID Provider client's secret is sealed with, bound to the client id (a sealed secret
// moved to another client's row does not open). Here, beside the other sealed values' AADs, because
// both the provider (src/oidc/clients.ts) and the encryption-key rotation use it.
import { secretBoxAad } from '../../core/crypto/secretbox.js';

export function oidcClientSecretAad(clientId: string): string {
  return secretBoxAad('oidc-client-secret', clientId);
}
