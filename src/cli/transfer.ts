/**
 * `psrp copy <local> <remote>` and `psrp fetch <remote> <local>`: file (and directory tree)
 * transfers through `Client.copy` / `Client.fetch`, with a progress bar on stderr when it
 * is a terminal: bytes done and total, average rate and ETA.
 *
 * Before connecting, the local side is checked: a `copy` source must exist, a `fetch` must not land on
 * an existing local file without `--force`. Ctrl+C stops the transfer and removes its temporary file
 * (on the server for copy, locally for fetch), saying so; a second Ctrl+C quits at once and says
 * where a temporary file may be left.
 *
 * @module
 */
import { statSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { AbortError, FileTransferError } from '../index.ts'
import type { TransferArgs } from './args.ts'
import { openClient } from './connect.ts'
import { formatBytes, formatDuration, formatTransfer, ProgressLine, type TerminalStream } from './progress.ts'
import type { CliIO } from './run.ts'

/** What the transfer reports after each chunk (the shape of the client's `onProgress` argument). */
export interface TransferTick {
  /** Bytes transferred so far, all files together. */
  readonly bytes: number
  /** Bytes to transfer in total, all files together. */
  readonly totalBytes?: number | undefined
  /** The file that progressed. */
  readonly file?: string | undefined
}

/** The last path component of a local or remote (Windows or POSIX) path. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p !== '')
  return parts[parts.length - 1] ?? path
}

/**
 * Draws transfer progress on a terminal stream: `name  45% [====>   ] 4.5 MiB/10.0 MiB  1.2 MiB/s
 * ETA 0:05`, redrawn at most every 100 ms, and a summary line at the end.
 */
export class TransferProgressBar {
  readonly #line: ProgressLine
  readonly #now: () => number
  readonly #start: number
  #last: TransferTick = { bytes: 0 }

  constructor(stream: TerminalStream, options: { now?: () => number; minIntervalMs?: number } = {}) {
    this.#now = options.now ?? (() => performance.now())
    this.#line = new ProgressLine(stream, { now: this.#now, minIntervalMs: options.minIntervalMs ?? 100 })
    this.#start = this.#now()
  }

  /** Whether the bar draws at all (the stream is a TTY). */
  get enabled(): boolean {
    return this.#line.enabled
  }

  /** Records a tick and redraws (rate-limited; the final tick is always drawn). */
  update(tick: TransferTick): void {
    this.#last = tick
    const complete = tick.totalBytes !== undefined && tick.bytes >= tick.totalBytes
    this.#line.draw(this.#text(), complete)
  }

  /** The summary line, e.g. `sent 10.0 MiB in 0:03 (3.3 MiB/s)`. */
  summary(verb: string): string {
    const elapsed = this.#now() - this.#start
    const rate = elapsed > 0 ? `${formatBytes((this.#last.bytes * 1000) / elapsed)}/s` : '-- B/s'
    return `${verb} ${formatBytes(this.#last.bytes)} in ${formatDuration(elapsed / 1000)} (${rate})`
  }

  /** Replaces the bar with the summary line. */
  finish(verb: string): void {
    this.#line.finish(this.summary(verb))
  }

  /** Erases the bar (e.g. before printing an error). */
  clear(): void {
    this.#line.clear()
  }

  #text(): string {
    const t = this.#last
    return formatTransfer(
      {
        bytes: t.bytes,
        totalBytes: t.totalBytes,
        elapsedMs: this.#now() - this.#start,
        label: t.file === undefined ? undefined : baseName(t.file),
      },
      this.#line.columns - 1,
    )
  }
}

/**
 * Fails before connecting when the local side already rules the transfer out: a `copy` source that
 * does not exist; a `fetch` onto an existing local file (a directory receives the file) without
 * `--force`, or into a directory (a path ending in a separator) that does not exist.
 */
export async function checkLocalSide(args: TransferArgs): Promise<void> {
  if (args.direction === 'copy') {
    const source = resolve(args.source)
    await stat(source).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return // the transfer reports it, wrapped
      throw new FileTransferError(
        `cannot copy '${source}': no such local file or directory`,
        'not-found',
        source,
        { cause: e },
      )
    })
    return
  }
  const dest = resolve(args.destination)
  const info = await stat(dest).catch(() => undefined)
  if (info === undefined) {
    if (/[\\/]$/.test(args.destination))
      throw new FileTransferError(
        `cannot fetch to '${args.destination}': no such local directory`,
        'io',
        dest,
      )
    return
  }
  if (!info.isDirectory() && !args.overwrite)
    throw new FileTransferError(
      `cannot fetch to '${dest}': the file exists (set overwrite to replace it)`,
      'exists',
      dest,
    )
}

/** Where an interrupted transfer's temporary file may be, for the message of a forced quit. */
function partialFileHint(args: TransferArgs): string {
  if (args.direction === 'copy')
    return `a partial file '${baseName(args.source)}.<random>.tmp' may be left on the server in or next to '${args.destination}'`
  const dest = resolve(args.destination)
  const into = statSync(dest, { throwIfNoEntry: false })?.isDirectory() === true
  const name = `${baseName(into ? args.source : dest)}.<random>.tmp`
  return `a partial file '${join(into ? dest : dirname(dest), name)}' may be left here`
}

/**
 * Runs `psrp copy` / `psrp fetch`; resolves to the exit code: 0 when done, 130 when stopped with
 * Ctrl+C (the first stops the transfer and removes its temporary file, a second quits at once).
 */
export async function transferCommand(args: TransferArgs, io: CliIO): Promise<number> {
  await checkLocalSide(args)
  if (args.fleet !== undefined) return (await import('./fleet.ts')).runFleetCopy(args, io)
  const stopper = new AbortController()
  let transferring = false
  let done = false
  let interrupts = 0
  const bar = new TransferProgressBar(io.error)
  const say = (text: string): void => {
    bar.clear()
    io.error.write(`${text}\n`)
  }
  const onSigint = (): void => {
    interrupts++
    if (interrupts === 1 && transferring) {
      say(
        `stopping… removing the partial file ${args.direction === 'copy' ? 'on the server' : 'here'} (Ctrl+C again to quit at once)`,
      )
      stopper.abort()
      return
    }
    say(
      transferring
        ? `quitting at once: ${partialFileHint(args)}`
        : done
          ? 'interrupted while closing the connection (the transfer had ended)'
          : 'interrupted before the transfer started: nothing was written',
    )
    process.exit(130)
  }
  process.on('SIGINT', onSigint)
  try {
    const opened = await openClient(
      args.direction,
      args.connection,
      io,
      args.connection.timeoutMs === undefined ? {} : { openTimeout: args.connection.timeoutMs },
    )
    const { client } = opened
    try {
      const options = {
        overwrite: args.overwrite,
        expandVariables: args.expandVariables,
        signal: stopper.signal,
        ...(args.progress && bar.enabled ? { onProgress: (p: TransferTick) => bar.update(p) } : {}),
        ...(args.connection.timeoutMs === undefined ? {} : { timeout: args.connection.timeoutMs }),
      }
      transferring = true
      try {
        if (args.direction === 'copy') await client.copy(args.source, args.destination, options)
        else await client.fetch(args.source, args.destination, options)
      } catch (e) {
        if (!(stopper.signal.aborted && e instanceof AbortError)) throw e
        // the message says what became of the temporary file
        say(`psrp ${args.direction}: stopped: ${e.message}`)
        return 130
      } finally {
        transferring = false
        done = true
      }
      if (args.progress) bar.finish(args.direction === 'copy' ? 'sent' : 'received')
      return 0
    } finally {
      bar.clear()
      await opened.close()
    }
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}
