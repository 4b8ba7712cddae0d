/**
 * The documentation cannot drift from the code:
 *
 * - docs/troubleshooting.md has one `### ERR_…` section per code of `PsrpErrorCode` (src/errors.ts),
 *   and none for a code that does not exist, and names every error class src/errors.ts exports;
 * - docs/cli.md is what `scripts/docs-cli.mjs` writes from the CLI's `--help` today;
 * - typedoc.json documents exactly the subpaths package.json exports, and renders every guide in docs/;
 * - every relative link in README.md and docs/*.md points at a file that exists, and every `#anchor`
 *   at a heading of that file.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../../..')
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8')
const GUIDES = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`)

/** The members of `export type PsrpErrorCode = | 'A' | 'B' …` in src/errors.ts. */
function errorCodes(): string[] {
  const src = read('src/errors.ts')
  const m = /export type PsrpErrorCode =([^;]*?)(?:\n\n|\n\/)/.exec(src)
  assert.ok(m !== null, 'PsrpErrorCode not found in src/errors.ts')
  return [...m[1]!.matchAll(/'(ERR_[A-Z_]+)'/g)].map((x) => x[1]!)
}

test('troubleshooting.md has a section for every PsrpErrorCode and no other', () => {
  const codes = errorCodes()
  assert.ok(codes.length >= 10, `codes read: ${codes.join(', ')}`)
  const sections = [...read('docs/troubleshooting.md').matchAll(/^### (ERR_[A-Z_]+)\s*$/gm)].map((x) => x[1]!)
  assert.deepEqual([...sections].sort(), [...codes].sort())
  assert.equal(new Set(sections).size, sections.length, 'a code has two sections')
})

test('troubleshooting.md names every error class of src/errors.ts', () => {
  const classes = [...read('src/errors.ts').matchAll(/^export class (\w+)/gm)].map((x) => x[1]!)
  assert.ok(classes.includes('PsrpError') && classes.length >= 10, classes.join(', '))
  const text = read('docs/troubleshooting.md')
  assert.deepEqual(
    classes.filter((c) => !new RegExp(`\\b${c}\\b`).test(text)),
    [],
    'classes troubleshooting.md does not name',
  )
})

test('docs/cli.md is what scripts/docs-cli.mjs writes from --help', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'docs-cli.mjs'), '--check'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  })
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
})

test('typedoc.json covers every exported subpath and renders every guide', () => {
  const pkg = JSON.parse(read('package.json')) as { exports: Record<string, unknown> }
  const fromExports = Object.values(pkg.exports)
    .map((t) => (typeof t === 'object' && t !== null ? (t as { types?: string }).types : undefined))
    .filter((t): t is string => t !== undefined)
    .map((t) => t.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts'))
  const config = JSON.parse(read('typedoc.json')) as { entryPoints: string[]; projectDocuments: string[] }
  assert.deepEqual([...config.entryPoints].sort(), [...fromExports].sort())
  for (const e of config.entryPoints) assert.ok(existsSync(join(ROOT, e)), e)
  const rendered = new Set(config.projectDocuments)
  for (const g of GUIDES.filter((g) => g !== 'docs/clixml-contract.md'))
    assert.ok(rendered.has(g), `${g} is not in typedoc.json projectDocuments`)
  for (const d of rendered) assert.ok(existsSync(join(ROOT, d)), `${d} does not exist`)
})

/** GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_ -]/gu, '')
    .replace(/ /g, '-')
}

function anchors(markdown: string): Set<string> {
  const out = new Set<string>()
  let inFence = false
  for (const line of markdown.split('\n')) {
    if (/^```/.test(line)) inFence = !inFence
    const h = inFence ? null : /^#{1,6}\s+(.*)$/.exec(line)
    if (h !== null) out.add(slug(h[1]!))
  }
  return out
}

test('relative links in README.md and docs/ resolve, anchors included', () => {
  const problems: string[] = []
  for (const doc of ['README.md', ...GUIDES]) {
    const text = read(doc).replace(/^```[\s\S]*?^```/gm, '')
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1]!
      if (/^[a-z]+:/i.test(href)) continue
      const [path, anchor] = href.split('#') as [string, string | undefined]
      const target = path === '' ? doc : join(dirname(doc), path)
      if (!existsSync(join(ROOT, target))) {
        problems.push(`${doc}: ${href} (no ${target})`)
        continue
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchors(read(target)).has(anchor))
        problems.push(`${doc}: ${href} (no heading #${anchor} in ${target})`)
    }
  }
  assert.deepEqual(problems, [])
})
