/**
 * The documentation a newcomer finds their way in: README.md stays short, and every relative link
 * in it, in docs/*.md and in the packages' READMEs reaches a file that exists and, with a
 * `#fragment`, a heading of that file (GitHub's anchors). External links (http:, https:,
 * mailto:) are not followed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** README.md's budget: what it is, install, the quick start, clients in brief, the map of docs/. */
export const README_MAX_LINES = 250;

/** Pages linked from the map that other work is still writing; they may be missing on a branch. */
const PENDING_PAGES = new Set(['docs/s3-object-lock.md', 'docs/s3-lifecycle.md', 'docs/s3-acl.md']);

/** Markdown without its fenced code blocks and inline code spans, where no link is a link. */
function prose(markdown: string): string {
  return markdown
    .replace(/^```[\s\S]*?^```[^\n]*$/gm, '')
    .replace(/`[^`\n]*`/g, (span) => ' '.repeat(span.length));
}

/** GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to '-'. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a page offers, with GitHub's -1, -2 suffixes for repeated headings. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```[^\n]*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = githubSlug(match[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative links of a page: [text](target) and [text]: target, outside code. */
export function relativeLinks(markdown: string): string[] {
  const text = prose(markdown);
  const targets = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), ...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f));
  const packages = readdirSync(join(ROOT, 'packages'))
    .map((p) => join(ROOT, 'packages', p, 'README.md'))
    .filter((f) => existsSync(f));
  return [join(ROOT, 'README.md'), ...docs, ...packages];
}

/** The problems with one page's links: a missing file or a missing anchor, named. */
export function brokenLinks(page: string, read: (file: string) => string | undefined): string[] {
  const problems: string[] = [];
  const markdown = read(page)!;
  for (const link of relativeLinks(markdown)) {
    const [path, fragment] = link.split('#') as [string, string | undefined];
    const target = path === '' ? page : resolve(dirname(page), decodeURI(path));
    const shown = `${relative(ROOT, page)}: ${link}`;
    const rel = relative(ROOT, target);
    if (PENDING_PAGES.has(rel) && read(target) === undefined) continue;
    const content = read(target);
    if (content === undefined && !existsSync(target)) {
      problems.push(`${shown}: no file ${rel}`);
      continue;
    }
    if (fragment === undefined || fragment === '') continue;
    if (content === undefined || !target.endsWith('.md')) {
      problems.push(`${shown}: an anchor into ${rel}, which is not a Markdown page`);
      continue;
    }
    if (!anchors(content).has(decodeURIComponent(fragment))) problems.push(`${shown}: no heading #${fragment} in ${rel}`);
  }
  return problems;
}

const readIfPresent = (file: string) => (existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined);

describe('the documentation', () => {
  it(`README.md stays under ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('README.md maps every page of docs/, and every page is linked from it', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const linked = new Set(relativeLinks(readme).map((l) => l.split('#')[0]));
    const onDisk = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
    expect(onDisk.filter((p) => !linked.has(p))).toEqual([]);
    for (const pending of PENDING_PAGES) expect(linked.has(pending)).toBe(true);
  });

  it('every relative link in README.md, docs/ and the packages\' READMEs reaches a file and an anchor', () => {
    const all = pages();
    expect(all.length).toBeGreaterThan(15);
    expect(all.flatMap((page) => brokenLinks(page, readIfPresent))).toEqual([]);
  });

  it('the checker itself: a wrong file or anchor is reported, code is not read as links', () => {
    const page = join(ROOT, 'docs', 'example.md');
    const files: Record<string, string> = {
      [page]: [
        '# Example',
        '## `sealbox seed`: seed a running Sealbox',
        '## Twice',
        '## Twice',
        'See [a](#sealbox-seed-seed-a-running-sealbox), [b](#twice-1), [c](#nowhere), [d](kms.md#operations),',
        '[e](kms.md#no-such-heading), [f](missing.md), [g](https://example.com/x.md), `[h](in-code.md)`.',
        '```sh',
        'echo [i](in-a-block.md)',
        '```',
      ].join('\n'),
    };
    const problems = brokenLinks(page, (f) => files[f] ?? readIfPresent(f));
    expect(problems).toEqual([
      'docs/example.md: #nowhere: no heading #nowhere in docs/example.md',
      'docs/example.md: kms.md#no-such-heading: no heading #no-such-heading in docs/kms.md',
      'docs/example.md: missing.md: no file docs/missing.md',
    ]);
  });
});
