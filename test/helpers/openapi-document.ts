// The OpenAPI document a default server (http://localhost:3000) serves at /openapi.json, built
// from a throwaway instance — the one source of docs/openapi.json and of its staleness test.
import { startTestTwofold } from './twofold.js';

export const documentedPublicUrl = 'http://localhost:3000';

export async function openApiDocument(): Promise<unknown> {
  const t = await startTestTwofold({ env: { TWOFOLD_PUBLIC_URL: documentedPublicUrl } });
  try {
    return (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  } finally {
    await t.close();
  }
}
