#!/usr/bin/env node
// Finds test files under the given folders (default: test/) and runs them with node's test runner.
// Node 20's `node --test` does not expand globs, so this script does it.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'))
const files = []
function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.ts')) files.push(p)
  }
}
for (const root of roots.length > 0 ? roots : ['test']) {
  if (statSync(root).isDirectory()) walk(root)
  else files.push(root)
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...passThrough, ...files],
  { stdio: 'inherit' },
)
process.exit(result.status ?? 1)
