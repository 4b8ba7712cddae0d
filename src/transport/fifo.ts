/**
 * Kernel pipes for a child's stdio on POSIX, made from a named FIFO, because Node has no `pipe(2)`.
 *
 * Node (libuv) gives a child's `'pipe'` stdio a UNIX socket pair. pwsh writes its stdout through
 * .NET's console stream in pieces of 256 bytes and reads its stdin 1 KiB at a time, so a 50 MiB
 * fetch costs it about 365,000 `write` calls; on a socket each one allocates a socket buffer, and
 * the socket holds only some 40 KB of such small writes before the writer blocks, so the reader
 * is woken for a few hundred bytes at a time. A kernel pipe packs small writes into its pages (64 KiB
 * of data before the writer blocks) and a write costs less; PowerShell's own client gives pwsh pipes
 * too (.NET's `Process`). Measured over `pwsh -s` (50 MiB fetches, this project's bench machine,
 * with `PipeLineReader` reading): 15.5–16.6 → 17–20 MiB/s, the client's CPU 1.5–2.4 → 1.0–1.4 s.
 *
 * The FIFO lives for a moment in a fresh private directory (mode 0700, from `mkdtemp`): both ends are
 * opened, then the name and the directory are removed, which leaves an anonymous pipe. It needs the
 * `mkfifo` program (coreutils, or the base system on macOS and the BSDs); when that fails the caller
 * falls back to Node's socket pair.
 *
 * @module
 */
import { execFile, execFileSync } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Both ends of one pipe, as file descriptors open in this process. */
export interface FifoPipe {
  /** The end to read from. Opened non-blocking. */
  readonly readFd: number
  /** The end to write to. Opened blocking (a child's stdio end must be). */
  readonly writeFd: number
}

/** Milliseconds allowed for `mkfifo` to run. */
const MKFIFO_TIMEOUT_MS = 5_000
/** Prefix of the private directory a FIFO is made in (under the OS temporary directory). */
const DIR_PREFIX = 'psrp-fifo-'

/** Closes a descriptor, ignoring errors (it is being abandoned). */
export function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return
  try {
    closeSync(fd)
  } catch {
    // already closed
  }
}

/** Opens both ends of the FIFO at `path`: read end first, non-blocking, so the write open finds it. */
function openEnds(path: string): FifoPipe {
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    return { readFd, writeFd: openSync(path, constants.O_WRONLY) }
  } catch (e) {
    closeQuietly(readFd)
    throw e
  }
}

/**
 * Makes an anonymous pipe through a short-lived named FIFO. Resolves to `undefined` (never rejects)
 * when the platform has no FIFOs or `mkfifo` cannot be run, so the caller can use a socket pair.
 *
 * The read end is opened non-blocking (a read open must not wait for a writer). When it goes to a
 * child as its stdin, libuv makes the child's copy blocking again, as it does for every stdio
 * descriptor it hands a child.
 */
export async function openFifoPipe(): Promise<FifoPipe | undefined> {
  if (process.platform === 'win32') return undefined
  let dir: string | undefined
  try {
    dir = await mkdtemp(join(tmpdir(), DIR_PREFIX))
    const path = join(dir, 'p')
    const made = await new Promise<boolean>((resolve) => {
      execFile('mkfifo', ['-m', '600', path], { timeout: MKFIFO_TIMEOUT_MS }, (error) =>
        resolve(error === null),
      )
    })
    return made ? openEnds(path) : undefined
  } catch {
    return undefined
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined)
  }
}

/**
 * {@link openFifoPipe} for a caller that cannot wait (it blocks for the run of `mkfifo`, a few ms):
 * the WinRM test bridge, which starts pwsh in a constructor.
 */
export function openFifoPipeSync(): FifoPipe | undefined {
  if (process.platform === 'win32') return undefined
  let dir: string | undefined
  try {
    dir = mkdtempSync(join(tmpdir(), DIR_PREFIX))
    const path = join(dir, 'p')
    execFileSync('mkfifo', ['-m', '600', path], { timeout: MKFIFO_TIMEOUT_MS, stdio: 'ignore' })
    return openEnds(path)
  } catch {
    return undefined
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
}
