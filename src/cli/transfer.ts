/**
 * `psrp copy <local> <remote>` and `psrp fetch <remote> <local>`: file (and directory tree)
 * transfers through `Client.copy` / `Client.fetch`, with a progress bar on stderr when it
 * is a terminal: bytes done and total, average rate and ETA.
 *
 * @module
 */
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

/** Runs `psrp copy` / `psrp fetch`; resolves to the exit code. */
export async function transferCommand(args: TransferArgs, io: CliIO): Promise<number> {
  const opened = await openClient(
    args.direction,
    args.connection,
    io,
    args.connection.timeoutMs === undefined ? {} : { openTimeout: args.connection.timeoutMs },
  )
  const { client } = opened
  const bar = new TransferProgressBar(io.error)
  try {
    const options = {
      overwrite: args.overwrite,
      expandVariables: args.expandVariables,
      ...(args.progress && bar.enabled ? { onProgress: (p: TransferTick) => bar.update(p) } : {}),
      ...(args.connection.timeoutMs === undefined ? {} : { timeout: args.connection.timeoutMs }),
    }
    if (args.direction === 'copy') await client.copy(args.source, args.destination, options)
    else await client.fetch(args.source, args.destination, options)
    if (args.progress) bar.finish(args.direction === 'copy' ? 'sent' : 'received')
    return 0
  } finally {
    bar.clear()
    await opened.close()
  }
}
