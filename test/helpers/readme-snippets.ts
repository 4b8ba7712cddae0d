/**
 * Reads the code snippets of a Markdown file (the README) for `test/integration/readme.test.ts`.
 *
 * A snippet is a fenced block tagged `ts`, `js` or `sh`. An HTML comment on the nearest non-blank line
 * above its fence says how it is run:
 *
 * - none: run it here (TypeScript and JavaScript against the built package, shell with bash);
 * - `<!-- snippet: needs-windows -->`, `needs-kerberos`, `needs-ssh-host`: skipped, with that reason;
 * - `<!-- snippet: not-run: <why> -->`: skipped, with `why`;
 * - `<!-- snippet: background: ready at <text> -->` (shell): started in the background before the
 *   snippets after it, which run once it has printed `<text>`; stopped at the end.
 *
 * ```ts
 * const snippets = readSnippets(readFileSync('README.md', 'utf8'))
 * ```
 */

/** Languages of runnable snippets. */
export type SnippetLang = 'ts' | 'js' | 'sh'

/** How a snippet is run. */
export type SnippetMode =
  | { readonly kind: 'run' }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'background'; readonly readyText: string }

/** One fenced block. */
export interface Snippet {
  readonly lang: SnippetLang
  readonly code: string
  /** 1-based line of the opening fence. */
  readonly line: number
  /** The heading the block sits under. */
  readonly section: string
  readonly mode: SnippetMode
}

/** Reasons of the skip markers; any other marker is an error, so a typo cannot skip a snippet. */
export const SKIP_MARKERS: Readonly<Record<string, string>> = {
  'needs-windows': 'needs a Windows host (WinRM with Windows accounts, Windows programs)',
  'needs-kerberos': 'needs a Kerberos realm with a Windows host in it',
  'needs-ssh-host':
    'needs an SSH server of yours (host names, accounts and keys); the same CLI and library calls run ' +
    'against a private sshd in test/integration/cli-ssh.test.ts and ssh.test.ts',
}

const LANGS: Readonly<Record<string, SnippetLang>> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
}

/** Parses a marker comment's text (after `snippet:`). */
function parseMarker(text: string, line: number): SnippetMode {
  const t = text.trim()
  const notRun = /^not-run:\s*(.+)$/.exec(t)
  if (notRun !== null) return { kind: 'skip', reason: notRun[1]!.trim() }
  const bg = /^background:\s*ready at\s+(.+)$/.exec(t)
  if (bg !== null) return { kind: 'background', readyText: bg[1]!.trim() }
  const reason = SKIP_MARKERS[t]
  if (reason !== undefined) return { kind: 'skip', reason }
  throw new Error(`line ${line}: unknown snippet marker '${t}'`)
}

/**
 * The `ts`/`js`/`sh` blocks of a Markdown text, in order, with their run modes. Blocks in other
 * languages are left out; a marker above one of them, an unknown marker, or an unclosed fence
 * throws.
 */
export function readSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n')
  const out: Snippet[] = []
  let section = ''
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const heading = /^#{1,6}\s+(.*)$/.exec(line)
    if (heading !== null) {
      section = heading[1]!.trim()
      continue
    }
    const fence = /^```(\S*)\s*$/.exec(line)
    if (fence === null) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
    if (i >= lines.length) throw new Error(`line ${start + 1}: unclosed code fence`)
    // the nearest non-blank line above (Prettier puts a blank line between a comment and a fence)
    let prev = start - 1
    while (prev >= 0 && lines[prev]!.trim() === '') prev--
    const above = prev >= 0 ? /^<!--\s*snippet:(.*?)-->\s*$/.exec(lines[prev]!) : null
    const lang = LANGS[fence[1]!.toLowerCase()]
    if (lang === undefined) {
      if (above !== null) throw new Error(`line ${start}: snippet marker above a '${fence[1]}' block`)
      continue
    }
    const mode = above === null ? ({ kind: 'run' } as const) : parseMarker(above[1]!, start)
    if (mode.kind === 'background' && lang !== 'sh')
      throw new Error(`line ${start}: only shell snippets run in the background`)
    out.push({ lang, code: body.join('\n') + '\n', line: start + 1, section, mode })
  }
  return out
}

/**
 * A JavaScript or TypeScript snippet as run here: `port: 5985` (the WinRM test server of the README)
 * is the test's free port.
 */
export function prepareScript(code: string, port: number): string {
  return code.replace(/\bport: 5985\b/g, `port: ${port}`)
}

/** Quotes a string for bash. */
function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** What {@link prepareShell} substitutes. */
export interface ShellContext {
  /** The built CLI (`dist/cli/main.js`) that `npx psrp` runs. */
  readonly cli: string
  /** A free port for `--port 5985`. */
  readonly port: number
  /** A pipe name of this run for the README's `-CustomPipeName build`. */
  readonly pipeName: string
}

/**
 * A shell snippet as a bash script: errors stop it (`set -eo pipefail`); `npx psrp` is the built CLI
 * of the checkout, started with node directly (what npx resolves it to, without npx's start-up);
 * `PSRP_PASSWORD=…` (the reader's value) keeps the environment's `PSRP_PASSWORD`; `--port 5985` is a
 * free port and the pipe name `build` one of this run, so nothing else on the machine collides.
 */
export function prepareShell(code: string, ctx: ShellContext): string {
  const body = code
    .replace(/PSRP_PASSWORD=…/g, 'PSRP_PASSWORD="$PSRP_PASSWORD"')
    .replace(/--port 5985\b/g, `--port ${ctx.port}`)
    .replace(/(-CustomPipeName|--pipe) build\b/g, `$1 ${ctx.pipeName}`)
  return [
    'set -eo pipefail',
    `npx() { if [ "$1" = psrp ]; then shift; node ${shQuote(ctx.cli)} "$@"; else command npx "$@"; fi; }`,
    body,
  ].join('\n')
}
