// `twofold migrate`: apply pending migrations and exit (start-up does the same).
import { withTwofold } from './with-twofold.js';

export async function migrateCommand(): Promise<void> {
  await withTwofold(async (twofold) => {
    const applied = twofold.migrationsApplied;
    process.stdout.write(applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  });
}
