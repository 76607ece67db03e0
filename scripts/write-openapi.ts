// Writes docs/openapi.json: the OpenAPI 3.1 document generated from the route schemas, as a
// server at the default address serves it. `npm run openapi` after changing a route; the test
// test/docs/openapi.test.ts fails while the committed file is stale.
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../test/helpers/openapi-document.js';

const document = await openApiDocument();
writeFileSync(new URL('../docs/openapi.json', import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
process.stdout.write('wrote docs/openapi.json\n');
