// What the account page calls a session's or a remembered browser's device: "Chrome on Linux"
// instead of the raw User-Agent header. It is still only what the browser says about itself (a
// client picks its User-Agent freely), so the page labels it as such and keeps the raw text in a
// tooltip; it never decides anything. Parsed with bowser (MIT).
import Bowser from 'bowser';

/** How much of an unrecognised User-Agent is shown (it is stored up to 512 characters). */
const shownRawLength = 60;

export function deviceName(userAgent: string | null | undefined): string {
  const claimed = userAgent?.trim() ?? '';
  if (claimed === '') return 'A browser that did not say';
  let parsed: Bowser.Parser.ParsedResult;
  try {
    parsed = Bowser.parse(claimed);
  } catch {
    return shortened(claimed);
  }
  const browser = parsed.browser.name ?? '';
  // On an iPhone or iPad the model says more than "iOS"; elsewhere the system's name.
  const model = parsed.platform.vendor === 'Apple' && (parsed.platform.type === 'mobile' || parsed.platform.type === 'tablet') ? parsed.platform.model : undefined;
  const system = model ?? parsed.os.name ?? '';
  if (browser !== '' && system !== '') return `${browser} on ${system}`;
  if (browser !== '') return browser;
  if (system !== '') return `A browser on ${system}`;
  return shortened(claimed);
}

function shortened(text: string): string {
  return text.length <= shownRawLength ? text : `${text.slice(0, shownRawLength - 1)}…`;
}
