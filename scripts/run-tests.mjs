#!/usr/bin/env node
// Finds test files under the given folders (default: test/) and runs them with node's test runner.
// Node 20's `node --test` does not expand globs, so this script does it.
//
// Two lanes run side by side, each a `node --test` process:
// - the heavy lane: files whose source has a line `// test-lane: heavy` (they keep a pwsh busy the
//   whole time: big transfers, many CLI runs, the README snippets), one at a time (half the cores on
//   a bigger machine);
// - the light lane: every other file, two at a time (as many as there are cores, at most four;
//   PSRP_TEST_CONCURRENCY or a --test-concurrency argument overrides). Most of them wait on peers
//   (a KDC, sshd, timeouts) more than they compute.
// On two cores a single lane of two files at a time took 728 s with the machine saturated whenever
// two heavy files met (a third file made pwsh miss its timeouts); the lanes keep the heavy files
// apart and fill the gaps with waiting ones. PSRP_TEST_LANES=1 runs everything in one lane.
import { availableParallelism } from 'node:os'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'))
const cores = availableParallelism()
let lightConcurrency = Math.min(4, Math.max(2, cores))
const given = Number(process.env['PSRP_TEST_CONCURRENCY'])
if (Number.isSafeInteger(given) && given > 0) lightConcurrency = given
const explicit = passThrough.find((a) => a.startsWith('--test-concurrency'))
const heavyConcurrency = Math.max(1, Math.floor(cores / 2))

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

const HEAVY = /^\/\/ test-lane: heavy\b/m
const heavy =
  process.env['PSRP_TEST_LANES'] === '1' ? [] : files.filter((f) => HEAVY.test(readFileSync(f, 'utf8')))
const light = files.filter((f) => !heavy.includes(f))

/** Runs one lane; resolves to its exit status. */
function lane(laneFiles, concurrency) {
  const args = ['--import', 'tsx', '--test', '--test-reporter=spec', ...passThrough]
  if (explicit === undefined) args.push(`--test-concurrency=${concurrency}`)
  const child = spawn(process.execPath, [...args, ...laneFiles], { stdio: 'inherit' })
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)))
    child.on('error', () => resolve(1))
  })
}

const lanes = [light.length > 0 ? lane(light, lightConcurrency) : Promise.resolve(0)]
if (heavy.length > 0) lanes.push(lane(heavy, heavyConcurrency))
const statuses = await Promise.all(lanes)
if (heavy.length > 0)
  console.log(
    `run-tests: light lane (${light.length} files, ${lightConcurrency} at a time) exit ${statuses[0]}; ` +
      `heavy lane (${heavy.length} files, ${heavyConcurrency} at a time) exit ${statuses[1]}`,
  )
process.exit(statuses.every((s) => s === 0) ? 0 : 1)
