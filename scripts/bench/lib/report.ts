/** The report model every suite returns, and its Markdown rendering. */

export interface Table {
  caption?: string;
  headers: string[];
  rows: string[][];
}

/** One headline figure: ours next to the reference measured in the same run. */
export interface Headline {
  metric: string;
  ours: string;
  reference: string;
  /** What the reference is (e.g. "sharp 0.35 / libvips 8.18"). */
  referenceName: string;
  ratio: string;
  target?: string;
  /** Whether the target is met; undefined when there is no target. */
  met?: boolean;
}

export interface SuiteReport {
  id: string;
  title: string;
  /** What was measured and how, in a sentence or two. */
  method: string;
  headlines: Headline[];
  tables: Table[];
  notes: string[];
}

export function markdownTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${t.headers.map(esc).join(' | ')} |`, `|${t.headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)];
  return (t.caption ? `${t.caption}\n\n` : '') + lines.join('\n');
}

export function headlineTable(hs: Headline[]): Table {
  return {
    headers: ['metric', 'ours', 'reference', 'ratio', 'target', 'met'],
    rows: hs.map((h) => [h.metric, h.ours, `${h.reference} (${h.referenceName})`, h.ratio, h.target ?? '', h.met === undefined ? '' : h.met ? 'yes' : 'no']),
  };
}

export function suiteMarkdown(s: SuiteReport): string {
  const parts = [`## ${s.title}`, s.method];
  if (s.headlines.length) parts.push(markdownTable(headlineTable(s.headlines)));
  for (const t of s.tables) parts.push(markdownTable(t));
  if (s.notes.length) parts.push(s.notes.map((n) => `- ${n}`).join('\n'));
  return parts.join('\n\n');
}
