// The flags of a client's options (src/oidc/client-options.ts), shared by `clients add` and
// `clients update`; update also takes the --no- forms, to switch an option off again.
import { Option, type Command } from 'commander';

export function clientOptionFlags(command: Command, { negatable = false } = {}): Command {
  command
    .addOption(new Option('--require-acr <acr>', 'the level every login for this client needs: aal2 (a second factor each time, a remembered browser is not enough), phr (a passkey), phrh (a passkey proven a hardware key) or aal1 (default)').choices(['aal1', 'aal2', 'phr', 'phrh']))
    .addOption(new Option('--subject-type <type>', 'public (default: sub is the user id) or pairwise (a different, stable sub for this client)').choices(['public', 'pairwise']))
    .option('--require-par', 'accept authorization requests only pushed first (RFC 9126 PAR)')
    .option('--native', 'a native app (RFC 8252): an http loopback redirect URI accepts any port')
    .option('--jwks-file <path>', 'private_key_jwt: a JSON file with the client\'s public keys (a JWKS)')
    .option('--jwks-uri <uri>', 'private_key_jwt: an https URL of the client\'s public keys')
    .option('--dpop', 'DPoP required (RFC 9449): token requests without a proof are refused, tokens are bound to the client\'s key');
  if (negatable) command.option('--no-require-par', 'accept plain authorization requests again').option('--no-native', 'a web app: redirect URIs compared exactly').option('--no-dpop', 'bearer tokens allowed again (unless TWOFOLD_DPOP=required)');
  return command;
}
