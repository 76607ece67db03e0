// Recovery codes, shown once (RC-01): copy (with script) and download as a text file (without).
import { html, type SafeHtml } from '../html.js';

export function renderRecoveryCodes(codes: string[], continueTo: string, serviceName: string): SafeHtml {
  const text = `${serviceName} recovery codes\nEach code works once. Keep them somewhere safe.\n\n${codes.join('\n')}\n`;
  return html`<p class="lead">If you lose your phone or passkey, each of these codes signs you in once. They are shown only now.</p>
<div class="card">
  <ol class="codes" id="recovery-codes">${codes.map((code) => html`<li>${code}</li>`)}</ol>
  <div class="row">
    <a class="button secondary" download="${serviceName.toLowerCase()}-recovery-codes.txt" href="${`data:text/plain;charset=utf-8,${encodeURIComponent(text)}`}">Download as text</a>
    <button type="button" class="secondary" data-copy-target="recovery-codes" hidden>Copy</button>
  </div>
</div>
<p><a class="button" href="${continueTo}">I saved them — continue</a></p>`;
}
