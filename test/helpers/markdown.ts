// Just enough Markdown to check links: the links a reader can click and the anchors a heading gets
// (GitHub's rule), ignoring what sits in code, where `[text](target)` is only text.

export interface MarkdownLink {
  target: string;
  line: number;
}

/** The text with fenced code blocks and inline code blanked out (lengths and lines kept). */
function withoutCode(markdown: string): string {
  const blank = (code: string) => code.replace(/[^\n]/g, ' ');
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank).replace(/`[^`\n]*`/g, blank);
}

/** Inline links and images: `[text](target)`, `![alt](target "title")`. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const prose = withoutCode(markdown);
  return [...prose.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => ({
    target: match[1]!,
    line: prose.slice(0, match.index).split('\n').length,
  }));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a link can name in this document: its headings (repeats get -1, -2, …) and `<a id>`s. */
export function markdownAnchors(markdown: string): Set<string> {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of prose.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const slug = headingSlug(match[1]!);
    const repeats = seen.get(slug) ?? 0;
    seen.set(slug, repeats + 1);
    anchors.add(repeats === 0 ? slug : `${slug}-${repeats}`);
  }
  for (const match of prose.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  return anchors;
}

/** The contents of the fenced code blocks of one language (```apache … ```), in order. */
export function fencedBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm)].filter((match) => match[1]!.trim() === language).map((match) => match[2]!);
}
