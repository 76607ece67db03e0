// Times on the pages, in the reader's time zone. The server does not know that zone, so it writes
// a <time> element with the instant (ISO 8601, UTC) and a UTC text that stands until the page
// script (browser/app.ts) rewrites it with Intl in the browser's own zone and locale — and without
// JavaScript the UTC text is what stays, saying that it is UTC.
import { html, type SafeHtml } from './html.js';

/** `precision` "minute": date and time; "day": the date alone (an expiry, say). */
export function localTime(iso: string, precision: 'minute' | 'day' = 'minute'): SafeHtml {
  const fallback = precision === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${iso}" data-local="${precision}">${fallback}</time>`;
}
