// A test Twofold reachable over real HTTP on 127.0.0.1, with its issuer (TWOFOLD_PUBLIC_URL) set to
// that address, for clients that discover and fetch: twofold/verify, twofold/client, the examples.
import { findFreePort } from './process.js';
import { startTestTwofold, type TestTwofold, type TestTwofoldOptions } from './twofold.js';

export interface ListeningTwofold extends TestTwofold {
  baseUrl: string;
}

export async function startListeningTwofold(options: TestTwofoldOptions = {}): Promise<ListeningTwofold> {
  const port = await findFreePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const t = await startTestTwofold({ ...options, env: { TWOFOLD_PUBLIC_URL: baseUrl, ...options.env } });
  await t.app.listen({ port, host: '127.0.0.1' });
  return { ...t, baseUrl };
}
