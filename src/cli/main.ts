#!/usr/bin/env node
// The `twofold` command. Configuration comes from TWOFOLD_* environment variables (see the
// README); configuration mistakes are printed one line each, naming the variable to fix.
import { Command, Option } from 'commander';
import { ConfigError } from '../config/load.js';
import { TwofoldError } from '../errors.js';
import { StartupError } from '../twofold.js';
import { checkRulesFileCommand } from './commands/forward-auth.js';
import { encryptionStatusCommand, rotateEncryptionCommand } from './commands/encryption-keys.js';
import { listKeysCommand, rotateKeysCommand } from './commands/keys.js';
import { importCommand } from './commands/import.js';
import { migrateCommand } from './commands/migrate.js';
import { outboxCommand } from './commands/outbox.js';
import { serveCommand } from './commands/serve.js';
import { auditCommand, auditPruneCommand } from './commands/audit.js';
import { addClientCommand, listClientsCommand, removeClientCommand, rotateClientSecretCommand, showClientCommand, updateClientCommand } from './commands/clients.js';
import { clientOptionFlags } from './client-option-flags.js';
import { grantRoleCommand, listUsersCommand, resetFactorsCommand, revokeRoleCommand, showUserCommand, unlockCommand } from './commands/users.js';
import { twofoldVersion } from '../version.js';
import { limitOption } from './options.js';
import { printError } from './output.js';

const program = new Command('twofold')
  .description('Two-factor authentication server: password, then a second factor, then RFC 9068 access tokens.')
  .version(twofoldVersion)
  .showHelpAfterError()
  .addHelpText('after', '\nConfiguration is read from TWOFOLD_* environment variables; see README.md.');

const json = new Option('--json', 'print JSON instead of a table');

program.command('serve', { isDefault: true }).description('start the HTTP server (migrates the database first)').action(serveCommand);
program.command('migrate').description('apply pending database migrations and exit').action(migrateCommand);

const keys = program.command('keys').description('manage token signing keys and the encryption key');
keys.command('list').description('list signing keys and their state').addOption(json).action(listKeysCommand);
keys.command('rotate').description('make a new signing key current; the old one keeps verifying until its tokens expire').addOption(json).action(rotateKeysCommand);
keys
  .command('rotate-encryption')
  .description(
    're-seal every stored secret under the current encryption key (TWOFOLD_ENCRYPTION_KEY), so that the keys in TWOFOLD_PREVIOUS_ENCRYPTION_KEYS can be removed',
  )
  .option('--generate', 'development only: first write a new key to the data dir\'s encryption.key and keep the old one in encryption.previous-keys')
  .addOption(json)
  .action(rotateEncryptionCommand);
keys.command('encryption-status').description('how many stored secrets each encryption key id seals').addOption(json).action(encryptionStatusCommand);

const clients = program.command('clients').description('register the OpenID Provider\'s clients (TWOFOLD_OIDC)');
const addClient = clients
  .command('add')
  .description('register a client (public: PKCE, no secret; or --confidential: PKCE and a secret; or --service: client credentials only), or replace it')
  .requiredOption('--id <client id>', 'the client id the app sends')
  .option('--redirect-uri <uri...>', 'where codes may be sent: https, or http on localhost; compared exactly (needed but for --service)')
  .option('--post-logout-redirect-uri <uri...>', 'where the app may be sent back after signing out at /oidc/session/end; any other is refused')
  .option('--backchannel-logout-uri <uri>', 'where Twofold POSTs a logout token when a session the app logged in with ends')
  .option('--confidential', 'a confidential client: a secret is made, printed once, and stored sealed')
  .option('--auth-method <method>', 'how a confidential client authenticates: client_secret_basic (default), client_secret_post, or private_key_jwt (with --jwks-file or --jwks-uri)')
  .option('--first-party', 'the operator\'s own app: no consent page')
  .option('--grant <grant...>', 'grants beside authorization_code: refresh_token (refresh tokens for offline_access)')
  .option('--service', 'a service client: a secret, only the client_credentials grant, no redirect URI')
  .addOption(json)
  .action(addClientCommand);
clientOptionFlags(addClient);
const updateClient = clients
  .command('update')
  .description('change a registered client; what is not named stays, its secret too')
  .argument('<client id>')
  .option('--redirect-uri <uri...>', 'replace the redirect URIs')
  .option('--post-logout-redirect-uri <uri...>', 'replace the post-logout redirect URIs')
  .option('--first-party', 'the operator\'s own app: no consent page')
  .option('--no-first-party', 'a third-party app: consent is asked')
  .addOption(json)
  .action(updateClientCommand);
clientOptionFlags(updateClient, { negatable: true });
clients.command('list').description('list the registered clients (never their secrets)').addOption(json).action(listClientsCommand);
clients.command('show').description('show one client (never its secret)').argument('<client id>').addOption(json).action(showClientCommand);
clients.command('rotate-secret').description('give a confidential client a new secret, printed once; the old one stops working').argument('<client id>').addOption(json).action(rotateClientSecretCommand);
clients.command('remove').description('remove a client').argument('<client id>').addOption(json).action(removeClientCommand);

const users = program.command('users').description('inspect and help users');
users
  .command('list')
  .description('list users')
  .addOption(limitOption('at most this many', 50))
  .option('--after <user id>', 'the next page: users after this id (the last of the previous page)')
  .addOption(json)
  .action(listUsersCommand);
users.command('show').description('show a user, their factors and counters').argument('<user>', 'username or user id').addOption(json).action(showUserCommand);
users.command('unlock').description('lift the lock of an account locked after too many failed attempts').argument('<user>', 'username or user id').addOption(json).action(unlockCommand);
users
  .command('reset-factors')
  .description('remove all factors and recovery codes of a user who lost them all, and end their sessions')
  .argument('<user>', 'username or user id')
  .option('--yes', 'confirm')
  .addOption(json)
  .action(resetFactorsCommand);
users
  .command('grant-role')
  .description('give a user an admin role: support (reads /v1/admin), admin (also acts), superadmin (also acts on other admins)')
  .argument('<user>', 'username or user id')
  .argument('<role>', 'admin, support or superadmin')
  .addOption(json)
  .action(grantRoleCommand);
users.command('revoke-role').description('take an admin role from a user').argument('<user>', 'username or user id').argument('<role>', 'admin, support or superadmin').addOption(json).action(revokeRoleCommand);

program
  .command('import')
  .description('bring users in from another system, with their password hashes (re-hashed to argon2id at their next sign-in) and TOTP secrets (README: Importing users)')
  .argument('<file>', 'the export file: a Better Auth SQLite database (or its PostgreSQL or MySQL database\'s URL, postgres:// or mysql://; a password from PGPASSWORD or MYSQL_PWD, not the URL), a Supabase CSV, Auth0 NDJSON, a Keycloak realm JSON, or Twofold CSV')
  .requiredOption('--from <source>', 'better-auth, supabase, auth0, keycloak or csv')
  .option('--dry-run', 'check every record and report what would happen; nothing is written')
  .option('--report <file>', 'write one entry per record (imported, or skipped and why): JSON lines, or CSV when the name ends in .csv')
  .option('--secret-env <name>', 'the environment variable holding the secret that opens TOTP secrets: Better Auth\'s auth secret (default BETTER_AUTH_SECRET), or the decryption keys of a Supabase project with database encryption on (default GOTRUE_SECURITY_DB_ENCRYPTION_DECRYPTION_KEYS)')
  .option('--quiet', 'no progress line')
  .addOption(json)
  .action((file: string, options: Parameters<typeof importCommand>[1]) => importCommand(file, options));

const audit = program
  .command('audit')
  .description('security events of the audit trail, newest first')
  .option('--user <user>', 'only this username or user id')
  .option('--type <type>', 'only this event type, e.g. login.password_failed')
  .option('--since <date>', 'only events at or after this date (ISO 8601)')
  .addOption(limitOption('at most this many', 50))
  .option('--before <event id>', 'the next page: events before this id (the last of the previous page)')
  .addOption(json)
  .action(auditCommand);
audit
  .command('prune')
  .description('run the upkeep now: events older than TWOFOLD_AUDIT_RETENTION_DAYS and beyond TWOFOLD_AUDIT_EVENTS_PER_USER removed, timed-out sessions retired')
  .action(auditPruneCommand);

program
  .command('outbox')
  .description('show the SMS and e-mail messages of the development outbox (TWOFOLD_SMS_PROVIDER / TWOFOLD_EMAIL_PROVIDER = outbox)')
  .option('--channel <channel>', 'sms or email')
  .option('--to <destination>', 'only messages to this phone number or address')
  .addOption(limitOption('at most this many, newest first', 20))
  .addOption(json)
  .action(outboxCommand);

const forwardAuth = program.command('forward-auth').description('the rules reverse proxies are answered by (TWOFOLD_FORWARD_AUTH_RULES; docs/forward-auth-rules.md)');
forwardAuth
  .command('check')
  .description('check a rules file as the server would read it: prints OK and the number of rules, or each mistake as FILE:line:column: reason and exits with 1')
  .argument('<file>', 'the YAML rules file')
  .action(checkRulesFileCommand);

// `serve` is the default command, so commander would read `twofold bogus` as `serve bogus` and
// answer "too many arguments for 'serve'": a mistyped command is named as such, with the list.
const [firstArgument] = process.argv.slice(2);
const commandNames = ['help', ...program.commands.flatMap((command) => [command.name(), ...command.aliases()])];
if (firstArgument !== undefined && !firstArgument.startsWith('-') && !commandNames.includes(firstArgument)) {
  printError(`error: unknown command '${firstArgument}'`, '');
  program.outputHelp({ error: true });
  process.exit(1);
}

program.parseAsync().catch((error: unknown) => {
  // Messages can quote what was typed or stored (a username, a value from the database): escaped.
  // Every mistake of the environment at once, one line each.
  if (error instanceof ConfigError) printError(...error.problems.map((problem) => `twofold: configuration error: ${problem.message}`));
  else if (error instanceof StartupError || error instanceof TwofoldError) printError(`twofold: ${error.message}`);
  else printError(...`twofold: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`.split('\n'));
  process.exit(1);
});
