// Interactive API documentation at /docs (Swagger UI over /openapi.json's document), served from
// the package — no CDN. The policy is the plugin's, tightened: scripts only from this origin,
// nothing from other origins, no framing, no validator service. Documentation only: no route
// here changes anything.
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const apiDocsPath = '/docs';

function tightenPolicy(header: string | number | string[]): string {
  return String(header)
    .replace("font-src 'self' https: data:", "font-src 'self' data:")
    .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
    .replace(" validator.swagger.io", '')
    // Swagger UI (React) sets style attributes at run time, which no hash can allow. Styles
    // cannot run code and this page holds no secret; scripts stay 'self' only.
    .replace("style-src 'self' https: ", "style-src 'self' 'unsafe-inline' ")
    .replace("base-uri 'self'", "base-uri 'none'")
    // Harmless behind TLS, but it breaks a development server on plain http://localhost.
    .replace(' upgrade-insecure-requests;', '')
    .concat(" connect-src 'self'; form-action 'none';");
}

export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, {
    routePrefix: apiDocsPath,
    uiConfig: { deepLinking: true, validatorUrl: null, tryItOutEnabled: false },
    staticCSP: true,
    transformStaticCSP: tightenPolicy,
  });
}
