#!/usr/bin/env node
// Finds test files under the given folders (default: test/) and runs them in processes of its own,
// each a plain `node --import tsx <file>` (node:test runs a file's tests when the file is run, and
// reports with the spec reporter); Node 20's `node --test` does not expand globs.
//
// Where the time goes on 2 cores: the suite keeps both cores busy (vmstat: 2% idle), about half of the
// CPU in pwsh and half in node, and a node process spends about a second of CPU loading tsx and src/
// before its first test. Hence:
// - unit, fuzz and replay files run several to a process (scripts/test-group.mjs; rules below): those
//   123 files took 153 s (295 s of CPU) one per process, two at a time, and take 80 s (147 s) so;
// - integration files run one per process: a file is "busy" (most of its time is CPU, ours or pwsh's) or
//   "waiting" (CPU under 40% of its wall time alone). As many busy files run as there are CPU slots
//   (cores, at least 2 and at most 4; PSRP_TEST_CONCURRENCY or --test-concurrency=N overrides), and one
//   waiting file runs beside them without taking a slot (a second one would);
// - the longest files start first, so that the short ones fill the end.
// Each process's report is printed, whole, when it ends; totals and the slowest processes come last.
import { availableParallelism } from 'node:os'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { spawn } from 'node:child_process'

/**
 * Files that mostly wait: CPU (theirs and their children's) under 40% of their wall time, measured one
 * at a time on 2 cores (wall / CPU seconds).
 */
const WAITING = new Set([
  'test/integration/auth-credssp.test.ts', // 19 / 8
  'test/integration/auth-kerberos.test.ts', // 39 / 16
  'test/integration/fleet.test.ts', // 37 / 9
  'test/integration/named-pipe.test.ts', // 27 / 7
  'test/integration/network-faults.test.ts', // 41 / 4
  'test/integration/ssh.test.ts', // 38 / 11
  'test/integration/winrm-bridge-psrp.test.ts', // 24 / 4
  'test/integration/wsman-pwsh.test.ts', // 74 / 22
])

/** The longest files (wall seconds, one at a time on 2 cores), longest first; the rest in path order. */
const LONGEST_FIRST = [
  'test/integration/client.test.ts', // 153
  'test/integration/cli.test.ts', // 96
  'test/integration/wsman-pwsh.test.ts', // 74
  'test/integration/pwsh.test.ts', // 71
  'test/integration/file-transfer-split.test.ts', // 55
  'test/integration/readme.test.ts', // 52
  'test/integration/transfer.test.ts', // 44
  'test/integration/auth-ntlm.test.ts', // 43
  'test/integration/network-faults.test.ts', // 41
  'test/integration/cli-ssh.test.ts', // 40
  'test/integration/auth-kerberos.test.ts', // 39
  'test/integration/ssh.test.ts', // 38
  'test/integration/fleet.test.ts', // 37
  'test/integration/named-pipe.test.ts', // 27
  'test/integration/winrm-bridge-psrp.test.ts', // 24
  'test/integration/cli-fleet.test.ts', // 20
  'test/integration/examples.test.ts', // 19
  'test/unit/complexity/auth-http.test.ts', // 19
  'test/integration/auth-credssp.test.ts', // 19
]

const args = process.argv.slice(2)
const roots = args.filter((a) => !a.startsWith('--'))
const passThrough = args.filter((a) => a.startsWith('--') && !a.startsWith('--test-concurrency'))
const concurrencyArg = args.find((a) => a.startsWith('--test-concurrency='))
const given = Number(
  concurrencyArg?.slice('--test-concurrency='.length) ?? process.env['PSRP_TEST_CONCURRENCY'],
)
const slots =
  Number.isSafeInteger(given) && given > 0 ? given : Math.min(4, Math.max(2, availableParallelism()))
if (!passThrough.some((a) => a.startsWith('--test-reporter'))) passThrough.push('--test-reporter=spec')

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
/** The path as the tables above spell it (relative to the repository, forward slashes). */
const key = (file) => relative(process.cwd(), file).split(sep).join('/')
const rank = (file) => {
  const i = LONGEST_FIRST.indexOf(key(file))
  return i === -1 ? LONGEST_FIRST.length : i
}
/** Node flags of the complexity checks' processes: why, in test/unit/complexity/measure.ts. */
const COMPLEXITY_FLAGS = JSON.parse(
  readFileSync(join(import.meta.dirname, '../test/unit/complexity/node-flags.json'), 'utf8'),
).flags
const isComplexity = (file) => key(file).startsWith('test/unit/complexity/')
/**
 * Unit, fuzz and replay files run several to a process (scripts/test-group.mjs): each process loads tsx
 * and src/ once, which costs about a second of CPU per file otherwise. A file with hooks at its top level
 * (`before(…)` at column 0: hooks of the whole process once grouped) runs alone, as do integration files
 * and the complexity checks (they measure the process's CPU time, which a heap left by earlier files
 * inflates: V8's concurrent marking of it counts).
 */
const TOP_LEVEL_HOOK = /^(before|after|beforeEach|afterEach)\(/m
const groupable = (file) =>
  !/^test\/(integration|unit\/complexity)\//.test(key(file)) &&
  !TOP_LEVEL_HOOK.test(readFileSync(file, 'utf8'))
const alone = files.filter((f) => !groupable(f))
const grouped = files.filter(groupable)
const groupCount = Math.min(2 * slots, Math.ceil(grouped.length / 10))
const queue = alone
  .map((file, order) => ({ files: [file], name: key(file), order }))
  .sort((a, b) => rank(a.files[0]) - rank(b.files[0]) || a.order - b.order)
for (let g = 0; g < groupCount; g++) {
  const part = grouped.slice(
    Math.floor((g * grouped.length) / groupCount),
    Math.floor(((g + 1) * grouped.length) / groupCount),
  )
  queue.push({
    files: part,
    name:
      part.length === 1
        ? key(part[0])
        : `${key(part[0])} … ${key(part[part.length - 1])} (${part.length} files in one process)`,
  })
}

/** Sums of the spec reporter's closing `ℹ name count` lines over every file. */
const totals = new Map()
const failed = []
const timings = []
const running = new Set()
const children = new Set()
const started = Date.now()

/** CPU slots in use: every busy file, and every waiting file but the first. */
function load(extraBusy, extraWaiting) {
  let busy = extraBusy
  let waiting = extraWaiting
  for (const r of running) {
    if (r.waiting) waiting++
    else busy++
  }
  return busy + Math.max(0, waiting - 1)
}

function startNext() {
  for (let i = 0; i < queue.length;) {
    const entry = queue[i]
    const waiting = entry.files.length === 1 && WAITING.has(key(entry.files[0]))
    if (load(waiting ? 0 : 1, waiting ? 1 : 0) > slots) {
      i++
      continue
    }
    queue.splice(i, 1)
    run(entry, waiting)
    i = 0
  }
  if (running.size === 0 && queue.length === 0) finish()
}

function run({ files: list, name }, waiting) {
  const entry = { waiting }
  running.add(entry)
  const t0 = Date.now()
  const target = list.length === 1 ? list : [join(import.meta.dirname, 'test-group.mjs'), ...list]
  const flags = list.length === 1 && isComplexity(list[0]) ? COMPLEXITY_FLAGS : []
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', ...passThrough, ...target], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const output = []
  child.stdout.on('data', (b) => output.push(b))
  child.stderr.on('data', (b) => output.push(b))
  child.on('close', (code, signal) => {
    children.delete(child)
    running.delete(entry)
    const seconds = (Date.now() - t0) / 1000
    timings.push({ name, seconds })
    const text = Buffer.concat(output).toString('utf8')
    for (const m of text.matchAll(/^ℹ (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
      totals.set(m[1], (totals.get(m[1]) ?? 0) + Number(m[2]))
    }
    if (code !== 0) failed.push({ name: `${name} (${signal ?? `exit ${code}`})`, text })
    process.stdout.write(`\n▶ ${name} (${seconds.toFixed(1)} s)\n${text}`)
    startNext()
  })
}

/**
 * The spec reporter's closing "✖ failing tests:" section of a process's output (each failure with its
 * error and stack), or the output's last lines when there is none (a crash before the report).
 */
function failureSummary(text) {
  const MAX = 8000
  const start = text.lastIndexOf('✖ failing tests:')
  if (start >= 0) {
    const end = text.indexOf('\nℹ tests ', start)
    const section = text.slice(start, end < 0 ? undefined : end)
    return section.length > MAX
      ? `${section.slice(0, MAX)}\n… (${section.length - MAX} more characters not shown)`
      : section
  }
  return text.split('\n').slice(-40).join('\n')
}

function finish() {
  const line = (name) => `ℹ ${name} ${totals.get(name) ?? 0}`
  console.log(
    `\n# ${files.length} files in ${timings.length} processes, ${slots} CPU slots + 1 for a waiting file`,
  )
  for (const name of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'])
    console.log(line(name))
  console.log(`ℹ duration_ms ${Date.now() - started}`)
  const slowest = timings.sort((a, b) => b.seconds - a.seconds).slice(0, 10)
  console.log(`# slowest: ${slowest.map((t) => `${t.name} ${t.seconds.toFixed(0)} s`).join(', ')}`)
  if (failed.length > 0) {
    // Again, at the end, where a log's tail shows it: what each failed process said about its failures.
    for (const f of failed) console.log(`\n# failed: ${f.name}\n${failureSummary(f.text)}`)
    console.log(`# failed: ${failed.map((f) => f.name).join(', ')}`)
  }
  process.exitCode = failed.length > 0 ? 1 : 0
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of children) c.kill(sig)
    process.exit(130)
  })
}
startNext()
