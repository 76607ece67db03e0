// `twofold migrate`: apply pending migrations and exit (start-up does the same).
import { printLines } from '../output.js';
import { withTwofold } from './with-twofold.js';

export async function migrateCommand(): Promise<void> {
  await withTwofold(async (twofold) => {
    const applied = twofold.migrationsApplied;
    printLines(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'database is up to date');
  });
}
