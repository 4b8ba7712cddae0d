/**
 * Runs the `psrp` command as a child process for the CLI integration tests, recording when output
 * arrived; never hangs (killed after `timeout`).
 *
 * The command is the built `dist/cli/main.js` when it is newer than every file of `src/` (CI builds
 * right before it tests, and a built CLI starts in a tenth of the time tsx needs to compile the source
 * tree in each child), otherwise `node --import tsx src/cli/main.ts`, so a test never runs stale code.
 * `PSRP_TEST_CLI=src` or `=dist` forces one.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

const sourceMain = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const builtMain = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const sourceRoot = fileURLToPath(new URL('../../src', import.meta.url))

/** The newest modification time (ms) of any file below `dir`. */
function newestBelow(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestBelow(path) : statSync(path).mtimeMs)
  }
  return newest
}

function builtIsCurrent(): boolean {
  const forced = process.env['PSRP_TEST_CLI']
  if (forced === 'src' || forced === 'dist') return forced === 'dist'
  return existsSync(builtMain) && statSync(builtMain).mtimeMs >= newestBelow(sourceRoot)
}

/**
 * The node arguments that start the `psrp` command (before its own arguments): `[dist/cli/main.js]`
 * or `['--import', 'tsx', src/cli/main.ts]`, see the module comment.
 */
export const psrpNodeArgs: readonly string[] = builtIsCurrent()
  ? [builtMain]
  : ['--import', 'tsx', sourceMain]

/** {@link psrpNodeArgs} as one shell command line (`'node' 'dist/cli/main.js'`), for tmux and bash. */
export const psrpShellCommand: string = [process.execPath, ...psrpNodeArgs]
  .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
  .join(' ')

/** What a CLI run produced. */
export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  /** ms after spawn at which each stdout chunk arrived. */
  stdoutAt: number[]
  /** ms after spawn at which the process exited. */
  exitedAt: number
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv
  /** Written to its stdin, which is then closed (default: closed at once). */
  input?: string | undefined
  /** Milliseconds before it is killed and the promise rejects (default 60 000). */
  timeout?: number | undefined
  /** Stdin is /dev/null instead of a pipe (`input` is then ignored). */
  devNullStdin?: boolean | undefined
  /**
   * Close our end of its stdout once this many characters arrived (as `| head -c` would): its next
   * writes fail with EPIPE.
   */
  closeStdoutAfter?: number | undefined
  /** Called with each stdout chunk as it arrives (to react to output while the command runs). */
  onStdout?: ((chunk: string) => void) | undefined
}

/** Runs `psrp <args>`; resolves when it exits. */
export function runCli(args: string[], options: RunCliOptions): Promise<CliResult> {
  const timeout = options.timeout ?? 60_000
  return new Promise((resolve, reject) => {
    const t0 = Date.now()
    const child = spawn(process.execPath, [...psrpNodeArgs, ...args], {
      env: options.env,
      stdio: [options.devNullStdin === true ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    }) as ChildProcessByStdio<Writable | null, Readable, Readable>
    const r: CliResult = { code: null, stdout: '', stderr: '', stdoutAt: [], exitedAt: 0 }
    const limit = options.closeStdoutAfter
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      r.stdout += d
      r.stdoutAt.push(Date.now() - t0)
      options.onStdout?.(d)
      if (limit !== undefined && r.stdout.length >= limit) child.stdout.destroy()
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (r.stderr += d))
    child.stdin?.end(options.input ?? '')
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`psrp ${args.join(' ')} did not finish in ${timeout} ms\n${r.stdout}\n${r.stderr}`))
    }, timeout)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      r.code = code
      r.exitedAt = Date.now() - t0
      resolve(r)
    })
  })
}
