#!/usr/bin/env node
// Finds test files under the given folders (default: test/) and runs them with node's test runner.
// Node 20's `node --test` does not expand globs, so this script does it.
//
// Files run two at a time (or as many as there are cores, at most four; PSRP_TEST_CONCURRENCY or a
// --test-concurrency argument overrides): most of the suite waits on real peers (pwsh, sshd, a KDC),
// and node's default of cores - 1 runs one file at a time on a 2-core machine. Two keeps the CPU busy
// there (the whole suite: 1,187 s one at a time, 820 s two at a time); three saturated it and made
// peers miss their timeouts.
import { availableParallelism } from 'node:os'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'))
if (!passThrough.some((a) => a.startsWith('--test-concurrency'))) {
  const given = Number(process.env['PSRP_TEST_CONCURRENCY'])
  const concurrency =
    Number.isSafeInteger(given) && given > 0 ? given : Math.min(4, Math.max(2, availableParallelism()))
  passThrough.push(`--test-concurrency=${concurrency}`)
}
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
