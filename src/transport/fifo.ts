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
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { Socket } from 'node:net'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { PipeLineReader } from './pipe-line-reader.ts'

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

/** The FIFO names to make in `dir`, and the arguments that make all of them in one run of `mkfifo`. */
function fifoPaths(dir: string, count: number): { paths: string[]; args: string[] } {
  const paths = Array.from({ length: count }, (_, i) => join(dir, `p${i}`))
  return { paths, args: ['-m', '600', ...paths] }
}

/** Opens every FIFO of `paths`; when one fails, the ones already open are closed. */
function openAll(paths: readonly string[]): FifoPipe[] {
  const pipes: FifoPipe[] = []
  try {
    for (const path of paths) pipes.push(openEnds(path))
    return pipes
  } catch (e) {
    for (const pipe of pipes) {
      closeQuietly(pipe.readFd)
      closeQuietly(pipe.writeFd)
    }
    throw e
  }
}

/**
 * Makes `count` anonymous pipes through short-lived named FIFOs, with one run of `mkfifo`. Resolves
 * to `undefined` (never rejects) when the platform has no FIFOs or `mkfifo` cannot be run, so the
 * caller can use socket pairs.
 *
 * The read ends are opened non-blocking (a read open must not wait for a writer). When one goes to a
 * child as its stdin, libuv makes the child's copy blocking again, as it does for every stdio
 * descriptor it hands a child. `mkfifo` names the program (a test gives one that does not exist).
 */
export async function openFifoPipes(count: number, mkfifo = 'mkfifo'): Promise<FifoPipe[] | undefined> {
  if (process.platform === 'win32') return undefined
  let dir: string | undefined
  try {
    dir = await mkdtemp(join(tmpdir(), DIR_PREFIX))
    const { paths, args } = fifoPaths(dir, count)
    const made = await new Promise<boolean>((resolve) => {
      execFile(mkfifo, args, { timeout: MKFIFO_TIMEOUT_MS }, (error) => resolve(error === null))
    })
    return made ? openAll(paths) : undefined
  } catch {
    return undefined
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined)
  }
}

/**
 * {@link openFifoPipes} for a caller that cannot wait (it blocks for the run of `mkfifo`, a few ms):
 * the WinRM test bridge, which starts pwsh in a constructor.
 */
export function openFifoPipesSync(count: number, mkfifo = 'mkfifo'): FifoPipe[] | undefined {
  if (process.platform === 'win32') return undefined
  let dir: string | undefined
  try {
    dir = mkdtempSync(join(tmpdir(), DIR_PREFIX))
    const { paths, args } = fifoPaths(dir, count)
    execFileSync(mkfifo, args, { timeout: MKFIFO_TIMEOUT_MS, stdio: 'ignore' })
    return openAll(paths)
  } catch {
    return undefined
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
}

/** A child started by {@link spawnOnPipes}, with this process's ends of its stdio. */
export interface PipedChild {
  readonly child: ChildProcess
  /** Its stdin: our end of the pipe given, else Node's socket. */
  readonly stdin: Writable
  /** Its stdout: a {@link PipeLineReader} on the pipe given, else Node's socket. */
  readonly stdout: Readable
  /** Its stderr (always Node's). */
  readonly stderr: Readable
}

/**
 * Spawns `command` with `stdinPipe` and `stdoutPipe` (either may be undefined: Node's socket pair
 * then) as its stdin and stdout, closes the child's ends here once it has its own copies, and wraps
 * ours as streams. When the spawn throws, our ends are closed too.
 */
export function spawnOnPipes(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio'>,
  stdinPipe: FifoPipe | undefined,
  stdoutPipe: FifoPipe | undefined,
): PipedChild {
  let child: ChildProcess
  try {
    child = spawn(command, args, {
      ...options,
      stdio: [stdinPipe?.readFd ?? 'pipe', stdoutPipe?.writeFd ?? 'pipe', 'pipe'],
    })
  } catch (e) {
    closeQuietly(stdinPipe?.writeFd)
    closeQuietly(stdoutPipe?.readFd)
    throw e
  } finally {
    closeQuietly(stdinPipe?.readFd)
    closeQuietly(stdoutPipe?.writeFd)
  }
  return {
    child,
    stdin:
      stdinPipe !== undefined
        ? new Socket({ fd: stdinPipe.writeFd, readable: false, writable: true })
        : (child.stdin as Writable),
    stdout: stdoutPipe !== undefined ? new PipeLineReader(stdoutPipe.readFd) : (child.stdout as Readable),
    stderr: child.stderr as Readable,
  }
}
