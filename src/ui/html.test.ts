import { describe, expect, it } from 'vitest';
import { escapeHtml, html, trustedMarkup } from './html.js';

describe('html``', () => {
  it('escapes every interpolated value', () => {
    const name = '<script>alert("x")</script> & \'quotes\'';
    expect(html`<p title="${name}">${name}</p>`.toString()).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;</p>',
    );
  });

  it('keeps nested templates and trusted markup as markup, and drops null, undefined and false', () => {
    const inner = html`<b>${'a<b'}</b>`;
    expect(html`<div>${inner}${trustedMarkup('<svg/>')}${null}${undefined}${false}${0}</div>`.toString()).toBe('<div><b>a&lt;b</b><svg/>0</div>');
    expect(html`<ul>${['x', 'y'].map((item) => html`<li>${item}</li>`)}</ul>`.toString()).toBe('<ul><li>x</li><li>y</li></ul>');
  });

  it('escapeHtml() covers the five characters that matter', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});
