// The admin API's times (ISO 8601, or null for "never") as the pages show times: in the reader's zone (local-time.ts).
import type { SafeHtml } from '../../html.js';
import { localTime } from '../../local-time.js';

export function adminTime(value: string | null, never = ''): SafeHtml | string {
  return value === null ? never : localTime(value);
}
