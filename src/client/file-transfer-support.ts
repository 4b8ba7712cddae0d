/**
 * What the file-transfer engines share ({@link copyToRemote}/{@link fetchFromRemote} for whole files
 * and split files, and the small-file batches of directory transfers): one transfer's cancellation
 * scope and progress, the translation of local and server failures into {@link FileTransferError},
 * bounded concurrency, and placing a finished temporary file.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { link, lstat, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import {
  AbortError,
  FileTransferError,
  PipelineFailedError,
  ProtocolError,
  PsrpError,
  TimeoutError,
  type FileTransferFailure,
} from '../errors.ts'
import { ErrorRecord } from '../clixml/index.ts'
import { cancelScope, type CancelScope } from '../transport/cancel.ts'
import { PowerShell } from './powershell.ts'
import type { CallOptions, RunspacePool } from './runspace-pool.ts'
import { TRANSFER_ERROR_ID } from './file-transfer-scripts.ts'
import type { TransferOptions } from './file-transfer.ts'

/** Time allowed to remove a temporary file after a failed or cancelled copy. */
const CLEANUP_TIMEOUT = 15_000

/** Pauses before the second and third try of a cleanup script, in ms (see {@link runCleanup}). */
const CLEANUP_RETRY_DELAYS = [100, 400]

/**
 * One transfer's cancellation: a {@link CancelScope} over the caller's signal and timeout, plus what
 * happened to temporary files, appended to the cancellation error.
 */
export class Scope {
  readonly #limits: CancelScope
  readonly #signal: AbortSignal | undefined
  /** What happened to temporary files after a cancellation, appended to the cancellation error. */
  readonly notes: string[] = []
  readonly timeout: number | undefined

  constructor(
    options: CallOptions,
    readonly what: string,
  ) {
    this.#signal = options.signal
    this.timeout = options.timeout
    this.#limits = cancelScope(options, { what })
  }

  get signal(): AbortSignal {
    return this.#limits.signal
  }

  /** Throws the cancellation error if the transfer was cancelled. */
  check(): void {
    if (this.signal.aborted) throw this.error()
  }

  /**
   * The error to report: TimeoutError or AbortError when cancelled, a {@link FileTransferError} for a
   * refusal the server tagged, else `e`.
   */
  translate(e: unknown): unknown {
    if (this.signal.aborted) return this.error(e)
    return transferError(e) ?? localError(e, `${this.what} failed`, undefined)
  }

  error(cause?: unknown): PsrpError {
    const notes = this.notes.length === 0 ? '' : `; ${this.notes.join('; ')}`
    if (this.#limits.timedOut)
      return new TimeoutError(
        `${this.what} timed out after ${this.timeout ?? 0} ms${notes}`,
        this.timeout ?? 0,
        { cause },
      )
    return new AbortError(`${this.what} was aborted${notes}`, { cause: cause ?? this.#signal?.reason })
  }

  dispose(): void {
    this.#limits.dispose()
  }
}

/** Progress over a whole transfer. */
export class Progress {
  bytes = 0
  constructor(
    readonly totalBytes: number,
    readonly callback: TransferOptions['onProgress'],
  ) {}

  report(file: string, fileBytes: number, fileTotalBytes: number, delta: number): void {
    this.bytes += delta
    this.callback?.({ bytes: this.bytes, totalBytes: this.totalBytes, file, fileBytes, fileTotalBytes })
  }
}

const TRANSFER_REASON = new RegExp(`^${TRANSFER_ERROR_ID}\\.(exists|not-found|checksum)(?:,|$)`)

/** The {@link FileTransferError} for a script failure tagged `PsrpFileTransfer.<reason>`, if `e` is one. */
export function transferError(e: unknown): FileTransferError | undefined {
  if (!(e instanceof PipelineFailedError) || !(e.errorRecord instanceof ErrorRecord)) return undefined
  const m = TRANSFER_REASON.exec(e.errorRecord.fullyQualifiedErrorId ?? '')
  if (m === null) return undefined
  const target = e.errorRecord.targetObject
  return new FileTransferError(
    e.message,
    m[1] as FileTransferFailure,
    typeof target === 'string' ? target : '',
    { cause: e },
  )
}

/**
 * A failure of a transfer script that is not a tagged refusal (access denied, a missing directory, a
 * path of the wrong kind), as a {@link FileTransferError} `io` naming `path`; other errors unchanged.
 */
export function remoteError(e: unknown, pool: RunspacePool, path: string): unknown {
  const tagged = transferError(e)
  if (tagged !== undefined) return tagged
  // a broken pool is the connection's failure, not the transfer's
  if (!(e instanceof PipelineFailedError) || pool.failure !== undefined) return e
  const message = e.message.includes(path) ? e.message : `'${path}': ${e.message}`
  return new FileTransferError(message, 'io', path, { cause: e })
}

/**
 * A local file-system error (`EACCES`, `EISDIR`, `ENOSPC` …) as a {@link FileTransferError} `io`
 * naming the path (`path`, else the error's own). psrp errors and non-errno errors pass through
 * unchanged.
 */
export function localError(e: unknown, what: string, path: string | undefined): unknown {
  if (e instanceof PsrpError) return e
  const code = errno(e)
  if (code === undefined) return e
  const target =
    path ?? (typeof (e as { path?: unknown }).path === 'string' ? (e as { path: string }).path : '')
  const detail = e instanceof Error ? e.message : String(e)
  return new FileTransferError(`${what}: ${detail}`, 'io', target, { cause: e })
}

/** Wraps a local file-system step so that its errors name the path (see {@link localError}). */
export async function local<T>(what: string, path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (e) {
    throw localError(e, what, path)
  }
}

/** The last component of a local or remote (Windows or POSIX) path. */
export function leafName(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p !== '')
  return parts[parts.length - 1] ?? path
}

/** A fetch refused because the local destination file `dest` exists and overwrite is not set. */
export function localFileExists(dest: string): FileTransferError {
  return new FileTransferError(
    `cannot fetch to '${dest}': the file exists (set overwrite to replace it)`,
    'exists',
    dest,
  )
}

export function randomTempName(fileName: string): string {
  return `${fileName}.${randomBytes(6).toString('hex')}.tmp`
}

export function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined
}

/** Runs `work` on at most `limit` items at once; the first failure stops starting new ones. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T
      try {
        await work(item)
      } catch (e) {
        failure ??= { error: e }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure !== undefined) throw failure.error
}

/** Runs a script to completion in the pool and returns its output. */
export async function run(
  pool: RunspacePool,
  script: string,
  parameters: Record<string, unknown>,
  options: CallOptions,
): Promise<unknown[]> {
  return new PowerShell(pool).addScript(script, true).addParameters(parameters).invoke(undefined, options)
}

/**
 * Runs an idempotent cleanup script (removing temporary files), trying up to three times while the
 * pool is healthy. Right after pipelines are stopped, pwsh can give the next pipeline a runspace whose
 * stopped pipeline it is still tearing down and fail it with "a pipeline is already running"; seen
 * after an aborted split copy, where the cleanup follows the stops at once. Any other failure is
 * retried as well: the scripts only delete what exists and say what they found.
 */
export async function runCleanup(
  pool: RunspacePool,
  script: string,
  parameters: Record<string, unknown>,
): Promise<unknown[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run(pool, script, parameters, { timeout: CLEANUP_TIMEOUT })
    } catch (e) {
      const delay = CLEANUP_RETRY_DELAYS[attempt]
      if (!(e instanceof PipelineFailedError) || pool.failure !== undefined || delay === undefined) throw e
      await new Promise((r) => setTimeout(r, delay))
    }
  }
}

export async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  )
}

/** Checks the client's SHA-256 of what it received against the server's. */
export function checkDigest(
  remotePath: string,
  bytes: number,
  digest: string,
  remoteDigest: string | undefined,
): void {
  if (remoteDigest === undefined)
    throw new ProtocolError(`fetching '${remotePath}': the transfer ended without the server's checksum`)
  if (remoteDigest !== digest)
    throw new FileTransferError(
      `fetching '${remotePath}': SHA-256 mismatch after ${bytes} bytes (server ${remoteDigest}, received ${digest})`,
      'checksum',
      remotePath,
    )
}

/** Moves the finished temporary file into place; without `overwrite`, never replaces a file. */
export async function placeFile(temp: string, dest: string, overwrite: boolean): Promise<void> {
  if (overwrite) return rename(temp, dest)
  try {
    // link fails with EEXIST instead of replacing: no window between the check and the rename
    await link(temp, dest)
    await unlink(temp)
  } catch (e) {
    const code = errno(e)
    if (code === 'EEXIST') throw localFileExists(dest)
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e
    if (await exists(dest)) throw localFileExists(dest)
    await rename(temp, dest)
  }
}

/** An open local file, as `fs/promises` gives it. */
export type LocalFileHandle = Awaited<ReturnType<typeof open>>

/**
 * Reads from `position` into `buf` until it is full or the file ends (one `read` may return less than
 * asked); resolves to the bytes read.
 */
export async function readFully(handle: LocalFileHandle, buf: Uint8Array, position: number): Promise<number> {
  let got = 0
  while (got < buf.length) {
    const { bytesRead } = await handle.read(buf, got, buf.length - got, position + got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return got
}

/**
 * Writes the local file `dest` of a fetch through a temporary file beside it: refuses a directory in
 * the way and (without `overwrite`) an existing file, creates `<name>.<random>.tmp` exclusively, lets
 * `fill` write it, then closes it and moves it into place ({@link placeFile}). On any failure the
 * temporary file is removed, and `scope` notes whether that worked.
 */
export async function writeLocalFile<T>(
  dest: string,
  overwrite: boolean,
  scope: Scope,
  fill: (temp: string, handle: LocalFileHandle) => Promise<T>,
): Promise<T> {
  scope.check()
  const existing = await lstat(dest).catch(() => undefined)
  if (existing?.isDirectory() === true)
    throw new FileTransferError(`cannot fetch to '${dest}': it is a directory`, 'io', dest)
  if (!overwrite && existing !== undefined) throw localFileExists(dest)
  const temp = join(dirname(dest), randomTempName(basename(dest)))
  const handle = await open(temp, 'wx').catch((e: unknown) => {
    if (errno(e) === 'ENOENT')
      throw new FileTransferError(
        `cannot fetch to '${dest}': the local directory does not exist`,
        'io',
        dest,
        { cause: e },
      )
    throw localError(e, `cannot fetch to '${dest}'`, dest)
  })
  let done = false
  try {
    const result = await fill(temp, handle)
    await local(`writing '${temp}'`, temp, () => handle.close())
    await local(`cannot fetch to '${dest}'`, dest, () => placeFile(temp, dest, overwrite))
    done = true
    return result
  } finally {
    if (!done) {
      await handle.close().catch(() => undefined)
      const removed = await unlink(temp).then(
        () => undefined,
        (e: unknown) => (errno(e) === 'ENOENT' ? undefined : e),
      )
      if (removed === undefined) scope.notes.push(`removed the partial file '${temp}'`)
      else
        scope.notes.push(
          `the partial file '${temp}' was left (removing it failed: ${removed instanceof Error ? removed.message : String(removed)})`,
        )
    }
  }
}
