/**
 * The public surface is reviewed: api/*.api.md (written by `npm run api:update`) must equal what the
 * build publishes for every package.json subpath, so an unintended change to an exported name or
 * signature fails here with the diff; every exported name has a TSDoc comment. The comparison itself
 * is checked too: a committed report that lacks a line, has one too many or is missing is a
 * difference. The reports are generated once (one declaration build, ~10 s of CPU) for all tests.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = resolve(import.meta.dirname, '../..')
const API_DIR = join(ROOT, 'api')

interface ApiReportModule {
  reportName(pkgName: string, subpath: string): string
  generateReports(): Map<string, string>
  compareReports(generated: Map<string, string>, dir: string): string
  writeReports(generated: Map<string, string>, dir: string): void
}

// a non-literal specifier: the script is plain JavaScript without a declaration file
const script = pathToFileURL(join(ROOT, 'scripts', 'api-report.mjs')).href
const api = (await import(script)) as ApiReportModule
const generated = api.generateReports()

test('api/ holds one report per package.json subpath, and nothing else', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    name: string
    exports: Record<string, unknown>
  }
  const expected = Object.keys(pkg.exports)
    .filter((k) => k !== './package.json')
    .map((k) => api.reportName(pkg.name, k))
    .sort()
  assert.deepEqual([...generated.keys()].sort(), expected)
  assert.deepEqual(
    readdirSync(API_DIR)
      .filter((n) => n.endsWith('.api.md'))
      .sort(),
    expected,
  )
})

test('the committed API report matches the build (else: npm run api:update, review, commit)', () => {
  const diff = api.compareReports(generated, API_DIR)
  assert.equal(diff, '', `the public surface changed:\n${diff}`)
})

test('every exported name has a TSDoc comment', () => {
  for (const [name, text] of generated)
    assert.doesNotMatch(text, /## Undocumented/, `${name} lists names without TSDoc`)
})

test('a changed, added or removed declaration is a difference, shown as a diff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'psrp-api-'))
  try {
    const [first, second] = [...generated.keys()].sort() as [string, string]
    api.writeReports(generated, dir)
    assert.equal(api.compareReports(generated, dir), '')

    // a signature that changed in the build: the committed report still has the old line
    const original = generated.get(first) as string
    const changed = original.replace(
      /\n```ts\n/,
      '\n```ts\nexport declare function removedLater(): void;\n\n',
    )
    assert.notEqual(changed, original)
    writeFileSync(join(dir, first), changed)
    const diff = api.compareReports(generated, dir)
    assert.match(diff, /^-export declare function removedLater\(\): void;$/m)
    assert.match(diff, new RegExp(first.replace(/\./g, '\\.')))

    // a subpath whose report was never committed
    api.writeReports(generated, dir)
    rmSync(join(dir, second))
    assert.match(api.compareReports(generated, dir), /^\+# API report/m)

    // a report left behind by a removed subpath
    api.writeReports(generated, dir)
    cpSync(join(dir, first), join(dir, 'psrp-gone.api.md'))
    assert.match(api.compareReports(generated, dir), /psrp-gone\.api\.md/)
    // and update removes it
    api.writeReports(generated, dir)
    assert.ok(!readdirSync(dir).includes('psrp-gone.api.md'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
