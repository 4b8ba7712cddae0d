/**
 * Command line, row filter and output of `npm run bench`. Every measurement is one {@link Row}: psrp's
 * figure, the peer's figure in the same unit (or none), and the ratio, oriented so that above 1 means
 * psrp is better. Rows print as a line of text as they are measured; with `--json` each row is also
 * one JSON line on stdout (the text goes to stderr then), so runs can be compared across commits.
 *
 * Options: `--quick` (smaller sizes, under 5 minutes), `--json`, `--only <terms>` (comma-separated; a
 * row runs when it carries every tag of one term, tags joined by `+`: `--only invoke,stream`,
 * `--only copy+wsman`; without `--only`, `PSRP_BENCH_ONLY` does the same, and its value `pwsh-s` means
 * the remoting rows over pwsh -s). Sizes set by `PSRP_BENCH_*` variables win over both defaults.
 */
import { execFileSync } from 'node:child_process'

/** One measured row. */
export interface Row {
  /** Stable name (no sizes in it): the key for comparing runs. */
  readonly name: string
  /** Unit of `psrp` and `peer`. */
  readonly unit: string
  /** psrp's figure. */
  readonly psrp: number
  /** The peer's figure in the same unit, or null when there is none (or it failed). */
  readonly peer: number | null
  /** What the peer is (PowerShell's client, Copy-Item, a goal …). */
  readonly peerName: string
  /** Whether a higher figure is better (throughput) or a lower one (time, memory). */
  readonly better: 'higher' | 'lower'
  /** Sizes and settings that produced the figures. */
  readonly params: Record<string, unknown>
}

/** Parsed command line. */
export interface BenchOptions {
  readonly quick: boolean
  readonly json: boolean
  /** Filter terms: each a set of tags that must all be present; empty = every row. */
  readonly only: readonly (readonly string[])[]
}

/** Every tag a row carries, in the two lines `--help` prints: a misspelt tag would otherwise select no row. */
const TAG_LINES = [
  'clixml serialize deserialize fragment invoke stream items memory copy fetch transfer tree',
  'fleet throttle-32 throttle-128 throttle-512 pwsh wsman ssh dotnet-gc',
]
const TAGS = TAG_LINES.flatMap((line) => line.split(' '))

function parseArgs(argv: readonly string[]): BenchOptions {
  let quick = false
  let json = false
  const only: string[][] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--quick') quick = true
    else if (a === '--json') json = true
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length)
      if (value === undefined || value === '')
        throw new Error('--only needs a list, e.g. --only invoke,stream')
      for (const term of value.split(','))
        if (term.trim() !== '') only.push(knownTags(term.trim().toLowerCase().split('+')))
    } else if (a === '--help' || a === '-h') {
      process.stderr.write(
        'usage: npm run bench -- [--quick] [--json] [--only tag[+tag],...]\n' +
          `tags: ${TAG_LINES[0]}\n` +
          `      ${TAG_LINES[1]} (see bench/README.md)\n`,
      )
      process.exit(0)
    } else throw new Error(`unknown bench option ${a} (see --help)`)
  }
  // PSRP_BENCH_ONLY (older spelling): 'pwsh-s' is the remoting rows over pwsh -s; other values are tags
  const legacy = process.env['PSRP_BENCH_ONLY']
  if (only.length === 0 && legacy !== undefined && legacy !== '')
    for (const term of legacy.split(',').map((t) => t.trim().toLowerCase()))
      if (term === 'pwsh-s') only.push(['invoke', 'pwsh'], ['stream', 'pwsh'], ['items', 'pwsh'])
      else if (term !== '') only.push(knownTags(term.split('+')))
  return { quick, json, only }
}

function knownTags(term: string[]): string[] {
  const unknown = term.filter((t) => !TAGS.includes(t))
  if (unknown.length > 0)
    throw new Error(`unknown bench tag ${unknown.map((t) => `'${t}'`).join(', ')} (see --help for the tags)`)
  return term
}

/** The options of this run. */
export const options: BenchOptions = parseArgs(process.argv.slice(2))

/** Whether a row with these tags is wanted by `--only`. */
export function wants(...tags: string[]): boolean {
  if (options.only.length === 0) return true
  return options.only.some((term) => term.every((t) => tags.includes(t)))
}

/** Whether any of the rows (each a tag list) is wanted: decides whether a section starts its peers. */
export function wantsAny(rows: readonly (readonly string[])[]): boolean {
  return rows.some((tags) => wants(...tags))
}

/**
 * A size: the environment variable when set, else the quick or the full default.
 */
export function size(variable: string, full: number, quick: number): number {
  const value = process.env[variable]
  if (value !== undefined && value !== '') {
    const n = Number(value)
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${variable} must be a positive number`)
    return n
  }
  return options.quick ? quick : full
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

const commit = git(['rev-parse', 'HEAD']) ?? 'unknown'
/** Uncommitted changes under src/ or bench/ (the figures then belong to no commit exactly). */
const dirty = (git(['status', '--porcelain', '--', 'src', 'bench']) ?? '') !== ''

/** Text output: stderr under `--json` (stdout carries only JSON lines then), else stdout. */
export function say(line: string): void {
  if (options.json) process.stderr.write(line + '\n')
  else console.log(line)
}

/** psrp / peer oriented so that above 1 means psrp is better; null without a peer. */
export function ratioOf(row: Pick<Row, 'psrp' | 'peer' | 'better'>): number | null {
  if (row.peer === null || row.psrp <= 0 || row.peer <= 0) return null
  return row.better === 'higher' ? row.psrp / row.peer : row.peer / row.psrp
}

function figure(n: number | null, unit: string): string {
  if (n === null) return '—'
  const digits = n >= 100 ? 0 : n >= 10 ? 1 : 2
  return `${n.toFixed(digits)} ${unit}`
}

let headerPrinted = false

/** Prints one row (text, and JSON under `--json`). */
export function report(row: Row): void {
  const ratio = ratioOf(row)
  if (!headerPrinted) {
    headerPrinted = true
    say(`${'row'.padEnd(44)}${'psrp'.padStart(16)}   ${'peer'.padStart(16)}  ${'ratio'.padStart(7)}  peer`)
  }
  say(
    `${row.name.padEnd(44)}${figure(row.psrp, row.unit).padStart(16)}   ${figure(row.peer, row.unit).padStart(16)}  ${(ratio === null ? '—' : `${ratio.toFixed(2)}x`).padStart(7)}  ${row.peerName}`,
  )
  if (options.json)
    console.log(
      JSON.stringify({
        name: row.name,
        unit: row.unit,
        psrp: round(row.psrp),
        peer: row.peer === null ? null : round(row.peer),
        ratio: ratio === null ? null : round(ratio),
        better: row.better,
        peerName: row.peerName,
        params: { ...row.params, quick: options.quick },
        commit,
        dirty,
        node: process.version,
        time: new Date().toISOString(),
      }),
    )
}

function round(n: number): number {
  return Number(n.toPrecision(4))
}
