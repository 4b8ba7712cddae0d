/**
 * File transfer over PSRP, the engine behind {@link Client.copy} and {@link Client.fetch}: streamed in
 * chunks sized to the connection, SHA-256 verified end to end, written under a temporary name and
 * renamed into place, files and directory trees.
 *
 * ```ts
 * await using pool = await RunspacePool.open(new ProcessConnection(), { maxRunspaces: 4 })
 * await copyToRemote(pool, 'local.bin', '/tmp/remote.bin', { chunkSize: 256 * 1024 })
 * await fetchFromRemote(pool, '/tmp/remote.bin', 'back.bin', { chunkSize: 256 * 1024, overwrite: true })
 * ```
 *
 * How it works, and why:
 * - **copy**: the local file is read as a stream of `chunkSize` pieces, hashed as it is read. The
 *   server runs ONE pipeline per file ({@link COPY_FILE_SCRIPT}) whose input is the chunks (as
 *   `byte[]`) followed by the hex digest; {@link PowerShell.stream} sends input in fragments and waits
 *   for the server's acknowledgements, so neither side holds more than a few batches of chunks.
 * - **fetch**: one pipeline per file ({@link FETCH_FILE_SCRIPT}) outputs `byte[]` chunks and finally
 *   the digest of what it read; the client consumes them with a small `highWaterMark`, so when the
 *   local disk is slower than the network the transport stops reading and the server blocks.
 * - **into a directory**: a file copied or fetched to an existing directory lands inside it under its
 *   own name, as with `cp` and `Copy-Item`; a directory tree is merged into an existing directory.
 * - **interrupted**: aborting or timing out stops the remote pipeline and removes the temporary file
 *   (on the server for copy, locally for fetch); the {@link AbortError}/{@link TimeoutError} message
 *   says what was removed, or which temporary file was left behind and why.
 * - **errors**: every failure of the transfer itself is a {@link FileTransferError} naming the path
 *   (Node's file-system errors and the server's failures included, as `cause`).
 * - **directories**: one pipeline lists (fetch) or prepares (copy) the tree; then files of at most half
 *   a chunk travel many to a pipeline (`file-transfer-batch.ts`: up to one chunk of data per batch,
 *   each file still hashed, verified and placed on its own), and larger files one pipeline each; up to
 *   `concurrency` batches and files at once (default: the pool's `maxRunspaces`). A pipeline costs
 *   round trips and server work whatever it carries, so a tree of small files is bound by the number
 *   of pipelines: 1,000 files of up to 3 KB took 13 s to copy over a local pwsh -s one per file, 1.9 s
 *   in batches.
 * - **one large file, several pipelines**: a single file of at least {@link MIN_CHUNKS_TO_SPLIT}
 *   chunks moves through up to `concurrency` pipelines at once (at most the pool's `maxRunspaces`
 *   and 3 by default), because one pipeline is bound by round trips (OutOfProc allows one
 *   unacknowledged data packet per pipeline; WinRM serializes the Sends and Receives of one command)
 *   and by the server's one thread per pipeline. A copy ({@link copySplit}) reads the file once, in
 *   order, hashing as it reads; each pipeline takes the next chunk when it can send and writes it at
 *   its offset into one temporary file; a last pipeline hashes the whole temporary file on the server
 *   and renames it into place only when that hash matches. A fetch ({@link receiveSplit}) has
 *   pipeline `i` send chunks `i`, `i + n`, …, writes each at its offset, hashes in file order
 *   ({@link OrderedHash}: chunks past a gap are read back from the file) and compares with a
 *   pipeline that hashes the whole file on the server meanwhile. A failure or an abort in one
 *   pipeline stops all of them and removes the temporary file; memory stays bounded by the chunks in
 *   flight per pipeline. A directory transfer keeps each large file on one pipeline (the files are
 *   the parallelism there).
 *
 * @module
 */
import { expandLocalPath } from './local-path.ts'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, mkdir, open, readdir, readFile, stat } from 'node:fs/promises'
import { basename, join, relative, resolve, sep } from 'node:path'
import {
  AbortError,
  FileTransferError,
  InvalidArgumentError,
  PipelineFailedError,
  ProtocolError,
} from '../errors.ts'
import { PowerShell } from './powershell.ts'
import type { CallOptions, RunspacePool } from './runspace-pool.ts'
import {
  COPY_BEGIN_SCRIPT,
  COPY_COMMIT_SCRIPT,
  COPY_FILE_SCRIPT,
  COPY_RANGE_SCRIPT,
  FETCH_FILE_SCRIPT,
  FETCH_RANGE_SCRIPT,
  HASH_FILE_SCRIPT,
  PREPARE_DIRECTORY_SCRIPT,
  REMOVE_TEMP_SCRIPT,
  STAT_SCRIPT,
} from './file-transfer-scripts.ts'
import {
  checkDigest,
  errno,
  exists,
  leafName,
  local,
  localError,
  type LocalFileHandle,
  Progress,
  readFully,
  randomTempName,
  remoteError,
  run,
  runCleanup,
  Scope,
  writeLocalFile,
} from './file-transfer-support.ts'
import {
  copyBatch,
  fetchBatch,
  transferFiles,
  type CopyBatchFile,
  type FetchBatchFile,
} from './file-transfer-batch.ts'

/** What {@link TransferOptions.onProgress} receives. */
export interface TransferProgress {
  /** Bytes transferred so far, all files together. */
  readonly bytes: number
  /** Bytes to transfer in total, all files together. */
  readonly totalBytes: number
  /** The source path of the file that progressed (local for copy, remote for fetch). */
  readonly file: string
  /** Bytes of `file` transferred so far. */
  readonly fileBytes: number
  /** Size of `file`. */
  readonly fileTotalBytes: number
}

/** Options of {@link Client.copy} and {@link Client.fetch}. */
export interface TransferOptions extends CallOptions {
  /** Replace existing destination files (default false: refuse, before transferring anything). */
  overwrite?: boolean | undefined
  /**
   * Expand variables in both paths, as pypsrp's `expand_variables` does. The remote path is expanded
   * by PowerShell as an expandable string (`$env:TEMP\x`, `$HOME/x`; subexpressions `$(…)` run too, so
   * use it only with trusted paths), then its `%VAR%` environment variables (`%TEMP%\x`). The local
   * path gets a leading `~` and its `$VAR`/`${VAR}` from this process's environment. Default false.
   */
  expandVariables?: boolean | undefined
  /** Called after every chunk (and once per empty file). Exceptions thrown by it abort the transfer. */
  onProgress?: ((progress: TransferProgress) => void) | undefined
  /** Bytes per chunk; default sized to the connection (see {@link Client}). */
  chunkSize?: number | undefined
  /**
   * Pipelines at once: files (and batches of small files) transferred at once in a directory
   * transfer, default the pool's `maxRunspaces`; and pipelines that share one large file in a
   * single-file copy (each moves its own chunks). {@link Client.copy} moves a single file through
   * one pipeline unless `concurrency` is given, and always over WinRM; {@link Client.fetch} always
   * uses one pipeline per file.
   */
  concurrency?: number | undefined
}

/** What {@link Client.copy} and {@link Client.fetch} resolve to. */
export interface TransferResult {
  /** The destination as resolved (the remote absolute path for copy, the local one for fetch). */
  readonly destination: string
  /** Files transferred. */
  readonly files: number
  /** Directories created or merged (0 for a single file). */
  readonly directories: number
  /** Bytes transferred. */
  readonly bytes: number
  /** SHA-256 (hex) of the file, for a single-file transfer. */
  readonly sha256: string | undefined
}

/** The options the engine needs: {@link TransferOptions} with the chunk size settled. */
export interface TransferEngineOptions extends TransferOptions {
  chunkSize: number
  /**
   * The most pipelines one file may be split across (default 3; `Client` uses 1 over WinRM; and never
   * more than `concurrency` or `maxRunspaces`); 1 keeps every file on one pipeline.
   */
  splitLimit?: number | undefined
}

const MIN_CHUNK = 1024
const MAX_CHUNK = 16 * 1024 * 1024
/** Output chunks buffered by a fetch before the transport stops reading from the server. */
const FETCH_HIGH_WATER_MARK = 8
/** Output chunks buffered per pipeline by a split fetch (several pipelines share the bound). */
const RANGE_HIGH_WATER_MARK = 4
/**
 * The most pipelines one file is split across unless {@link TransferEngineOptions.splitLimit} says
 * otherwise: four at once stalled against the WinRM test bridge (copy of 32 MiB not done in 10
 * minutes; three finished), and on two cores a fourth gained nothing over local pwsh.
 */
const DEFAULT_SPLIT_LIMIT = 3
/** A file is split across pipelines only when it has at least this many chunks. */
const MIN_CHUNKS_TO_SPLIT = 4
function checkChunkSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < MIN_CHUNK || n > MAX_CHUNK)
    throw new InvalidArgumentError(`chunkSize must be an integer from ${MIN_CHUNK} to ${MAX_CHUNK}`)
  return n
}

function checkConcurrency(pool: RunspacePool, n: number | undefined): number {
  const value = n ?? Math.max(1, pool.maxRunspaces)
  if (!Number.isSafeInteger(value) || value < 1)
    throw new InvalidArgumentError('concurrency must be a positive integer')
  return value
}

/**
 * How many pipelines share one file of `size` bytes: at most `concurrency` and the pool's
 * `maxRunspaces`, at most one per chunk, and 1 for a file of fewer than {@link MIN_CHUNKS_TO_SPLIT}
 * chunks.
 */
function splitWidth(
  pool: RunspacePool,
  concurrency: number,
  size: number,
  chunkSize: number,
  limit: number | undefined,
): number {
  const chunks = Math.ceil(size / chunkSize)
  if (chunks < MIN_CHUNKS_TO_SPLIT) return 1
  return Math.max(1, Math.min(concurrency, pool.maxRunspaces, chunks, limit ?? DEFAULT_SPLIT_LIMIT))
}

/**
 * Runs `work(0 … width-1)` at once under one {@link AbortController} that follows `signal`: the first
 * failure aborts the others, waits for all of them to end, and is what rejects (the others' errors,
 * caused by that abort, are dropped).
 */
async function allOrNothing(
  width: number,
  signal: AbortSignal,
  work: (index: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const inner = new AbortController()
  const follow = (): void => inner.abort(signal.reason)
  if (signal.aborted) follow()
  else signal.addEventListener('abort', follow, { once: true })
  let failure: { error: unknown } | undefined
  try {
    await Promise.all(
      Array.from({ length: width }, (_, i) =>
        work(i, inner.signal).catch((e: unknown) => {
          if (failure === undefined) {
            failure = { error: e }
            inner.abort(e)
          }
        }),
      ),
    )
  } finally {
    signal.removeEventListener('abort', follow)
  }
  if (failure !== undefined) throw failure.error
}

// ---------------------------------------------------------------- copy

/** A local file tree to copy: relative `/`-separated paths. */
interface LocalTree {
  readonly directories: string[]
  readonly files: { readonly rel: string; readonly path: string; readonly size: number }[]
}

async function walkLocal(root: string): Promise<LocalTree> {
  const tree: LocalTree = { directories: [], files: [] }
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true })
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const path = join(dir, entry.name)
      const rel = relative(root, path).split(sep).join('/')
      // symbolic links to files are copied as files; links to directories are not followed (no cycles)
      const s = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : undefined
      if (entry.isDirectory()) {
        tree.directories.push(rel)
        await visit(path)
      } else if (entry.isFile() || s?.isFile() === true) {
        tree.files.push({ rel, path, size: s?.size ?? (await stat(path)).size })
      }
    }
  }
  await visit(root)
  return tree
}

/**
 * Copies a local file or directory tree to `remotePath` on the server of `pool`. For a file,
 * `remotePath` is the destination file (its directory must exist), or an existing directory, which
 * receives the file under its own name (as `cp` and `Copy-Item` do); for a directory, the
 * destination directory, created with its parents and merged with what exists.
 *
 * @throws {FileTransferError} `not-found` when the local path does not exist; `exists` when a
 *   destination file exists without `overwrite` (nothing is replaced); `checksum` when the server
 *   received other bytes than were sent; `io` when a file cannot be read or written on either side
 *   (the destination's directory is missing, access denied, the local path is not a file or
 *   directory, …). The message names the path; `cause`
 *   is the server's {@link PipelineFailedError} (with PowerShell's ErrorRecord) or Node's error.
 * @throws {InvalidArgumentError} for bad options (`chunkSize`, `concurrency`).
 * @throws {AbortError} / {TimeoutError} when cancelled; the remote pipeline is stopped and its
 *   temporary file removed (the message says so, or where it was left and why).
 */
export async function copyToRemote(
  pool: RunspacePool,
  localPath: string,
  remotePath: string,
  options: TransferEngineOptions,
): Promise<TransferResult> {
  const chunkSize = checkChunkSize(options.chunkSize)
  const concurrency = checkConcurrency(pool, options.concurrency)
  const source = resolve(options.expandVariables === true ? expandLocalPath(localPath) : localPath)
  const info = await lstat(source)
    .then((s) => (s.isSymbolicLink() ? stat(source) : s))
    .catch((e: unknown) => {
      if (errno(e) === 'ENOENT')
        throw new FileTransferError(
          `cannot copy '${source}': no such local file or directory`,
          'not-found',
          source,
          { cause: e },
        )
      throw localError(e, `cannot copy '${source}'`, source)
    })
  const scope = new Scope(options, `copying '${source}' to '${remotePath}'`)
  try {
    const expand = options.expandVariables === true
    const overwrite = options.overwrite === true
    if (info.isFile()) {
      const progress = new Progress(info.size, options.onProgress)
      const r = await copyFile(pool, {
        source,
        size: info.size,
        remotePath,
        name: basename(source),
        expand,
        overwrite,
        chunkSize,
        progress,
        scope,
        width: splitWidth(pool, concurrency, info.size, chunkSize, options.splitLimit),
      })
      return { destination: r.destination, files: 1, directories: 0, bytes: progress.bytes, sha256: r.sha256 }
    }
    if (!info.isDirectory())
      throw new FileTransferError(`cannot copy '${source}': not a regular file or directory`, 'io', source)
    const tree = await walkLocal(source).catch((e: unknown) => {
      throw localError(e, `cannot copy '${source}'`, undefined)
    })
    scope.check()
    const prepared = await run(
      pool,
      PREPARE_DIRECTORY_SCRIPT,
      {
        Path: remotePath,
        Directories: tree.directories,
        Files: tree.files.map((f) => f.rel),
        Overwrite: overwrite,
        Expand: expand,
      },
      { signal: scope.signal },
    ).catch((e: unknown) => {
      throw remoteError(e, pool, remotePath)
    })
    const [root, separator] = prepared
    if (typeof root !== 'string' || typeof separator !== 'string')
      throw new ProtocolError('the directory preparation script returned no path')
    const progress = new Progress(
      tree.files.reduce((n, f) => n + f.size, 0),
      options.onProgress,
    )
    // name '': the file's own path, never into a directory that happens to be there
    const alone = async (f: CopyBatchFile): Promise<void> => {
      await copyFile(pool, {
        source: f.path,
        size: f.size,
        remotePath: f.dest,
        name: '',
        expand: false,
        overwrite,
        chunkSize,
        progress,
        scope,
        width: 1,
      })
    }
    await transferFiles(
      tree.files.map((f) => ({
        path: f.path,
        size: f.size,
        dest: root + separator + f.rel.split('/').join(separator),
      })),
      chunkSize,
      concurrency,
      (batch) => copyBatch(pool, batch, { overwrite, progress, scope, alone }),
      alone,
    )
    return {
      destination: root,
      files: tree.files.length,
      directories: tree.directories.length + 1,
      bytes: progress.bytes,
      sha256: undefined,
    }
  } catch (e) {
    throw scope.translate(e)
  } finally {
    scope.dispose()
  }
}

/** One file of a copy. */
interface CopyJob {
  readonly source: string
  readonly size: number
  /** The destination file, or a directory that receives the file as `name`. */
  readonly remotePath: string
  /** The file's name inside `remotePath` when that is an existing directory ('' for never). */
  readonly name: string
  readonly expand: boolean
  readonly overwrite: boolean
  readonly chunkSize: number
  readonly progress: Progress
  readonly scope: Scope
  /** Pipelines sharing the file (1: {@link COPY_FILE_SCRIPT} alone; more: {@link copySplit}). */
  readonly width: number
}

async function copyFile(pool: RunspacePool, job: CopyJob): Promise<{ destination: string; sha256: string }> {
  const { source, size, remotePath, name, expand, overwrite, chunkSize, progress, scope } = job
  scope.check()
  const tempName = randomTempName(name !== '' ? name : leafName(remotePath))
  const hash = createHash('sha256')
  let digest = ''
  let fileBytes = 0
  async function* input(): AsyncGenerator<Uint8Array | string> {
    const stream = createReadStream(source, { highWaterMark: chunkSize })
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk)
        fileBytes += chunk.length
        yield chunk
        progress.report(source, fileBytes, size, chunk.length)
      }
    } catch (e) {
      throw localError(e, `reading '${source}'`, source)
    } finally {
      stream.destroy()
    }
    if (fileBytes === 0) progress.report(source, 0, size, 0)
    digest = hash.digest('hex')
    yield digest
  }
  const ps = new PowerShell(pool).addScript(COPY_FILE_SCRIPT, true).addParameters({
    Path: remotePath,
    Name: name,
    TempName: tempName,
    Overwrite: overwrite,
    Expand: expand,
  })
  // a small file travels as a parameter: no input stream, fewer round trips
  let small: Buffer | undefined
  if (size <= chunkSize) {
    small = await local(`reading '${source}'`, source, () => readFile(source))
    if (small.length > chunkSize) small = undefined
  }
  if (small === undefined && job.width > 1) return copySplit(pool, job, tempName)
  if (small !== undefined) {
    digest = createHash('sha256').update(small).digest('hex')
    ps.addParameters({ Data: new Uint8Array(small.buffer, small.byteOffset, small.length), Sha256: digest })
  }
  try {
    const out = await ps.invoke(small === undefined ? input() : undefined, { signal: scope.signal })
    if (small !== undefined) progress.report(source, small.length, size, small.length)
    const destination = out[out.length - 1]
    if (typeof destination !== 'string') throw new ProtocolError('the copy script returned no path')
    return { destination, sha256: digest }
  } catch (e) {
    // the script removes its temporary file when it fails; a stopped or broken pipeline cannot
    if (!(e instanceof PipelineFailedError) || pool.failure !== undefined)
      await removeRemoteTemp(pool, { remotePath, name, tempName, expand }, scope)
    // a failing input stream (an unreadable file) stops the pipeline: report the local error
    const reason = e instanceof AbortError && e.cause instanceof FileTransferError ? e.cause : e
    throw remoteError(reason, pool, remotePath)
  }
}

/**
 * Reads a local file in `chunkSize` pieces, in order, for several consumers at once: each
 * {@link next} call gets the next piece with its offset. The SHA-256 is computed here, in file order,
 * as the pieces are read, so the pipelines that send them need no ordering. Reads past the size the
 * file had at the start (a growing file) until the end of the file.
 */
class ChunkReader {
  readonly #hash = createHash('sha256')
  #offset = 0
  #done = false
  #queue: Promise<unknown> = Promise.resolve()
  #handle: Awaited<ReturnType<typeof open>> | undefined

  constructor(
    readonly path: string,
    readonly chunkSize: number,
  ) {}

  async opened(): Promise<void> {
    this.#handle = await local(`reading '${this.path}'`, this.path, () => open(this.path, 'r'))
  }

  /** Bytes read so far. */
  get bytes(): number {
    return this.#offset
  }

  /** The next piece, or undefined at the end of the file. Calls are served one after another. */
  next(): Promise<{ offset: number; data: Buffer } | undefined> {
    const result = this.#queue.then(() => this.#read())
    this.#queue = result.catch(() => undefined)
    return result
  }

  async #read(): Promise<{ offset: number; data: Buffer } | undefined> {
    const handle = this.#handle
    if (this.#done || handle === undefined) return undefined
    const data = Buffer.allocUnsafeSlow(this.chunkSize)
    const got = await local(`reading '${this.path}'`, this.path, () => readFully(handle, data, this.#offset))
    if (got < data.length) this.#done = true
    if (got === 0) return undefined
    const piece = got === data.length ? data : data.subarray(0, got)
    this.#hash.update(piece)
    const offset = this.#offset
    this.#offset += got
    return { offset, data: piece }
  }

  /** The hex SHA-256 of everything read (call after the last piece). */
  digest(): string {
    return this.#hash.digest('hex')
  }

  async close(): Promise<void> {
    await this.#handle?.close().catch(() => undefined)
  }
}

/**
 * A copy of one large file through `job.width` pipelines: {@link COPY_BEGIN_SCRIPT} creates the
 * temporary file; then every pipeline ({@link COPY_RANGE_SCRIPT}) takes the next chunk from one
 * shared {@link ChunkReader} whenever it can send more and writes it at its offset, so a slow
 * pipeline takes fewer chunks instead of holding the others up; finally {@link COPY_COMMIT_SCRIPT}
 * hashes the whole temporary file on the server and moves it into place only when the hash matches
 * the client's. A failure of any pipeline stops the others and removes the temporary file: nothing
 * reaches the destination unverified.
 */
async function copySplit(
  pool: RunspacePool,
  job: CopyJob,
  tempName: string,
): Promise<{ destination: string; sha256: string }> {
  const { source, size, remotePath, name, expand, overwrite, chunkSize, progress, scope } = job
  const began = await run(
    pool,
    COPY_BEGIN_SCRIPT,
    { Path: remotePath, Name: name, TempName: tempName, Overwrite: overwrite, Expand: expand },
    { signal: scope.signal },
  ).catch((e: unknown) => {
    throw remoteError(e, pool, remotePath)
  })
  const [destination, temp] = began
  if (typeof destination !== 'string' || typeof temp !== 'string')
    throw new ProtocolError('the copy script returned no path')
  const reader = new ChunkReader(source, chunkSize)
  let committed = false
  try {
    await reader.opened()
    let sent = 0
    await allOrNothing(job.width, scope.signal, async (_, signal) => {
      async function* input(): AsyncGenerator<bigint | Uint8Array> {
        for (;;) {
          const piece = await reader.next()
          if (piece === undefined) return
          yield BigInt(piece.offset)
          yield new Uint8Array(piece.data.buffer, piece.data.byteOffset, piece.data.length)
          sent += piece.data.length
          progress.report(source, sent, size, piece.data.length)
        }
      }
      try {
        await new PowerShell(pool)
          .addScript(COPY_RANGE_SCRIPT, true)
          .addParameters({ Temp: temp })
          .invoke(input(), { signal })
      } catch (e) {
        // a failing input (an unreadable file) stops the pipeline: report the local error
        throw e instanceof AbortError && e.cause instanceof FileTransferError ? e.cause : e
      }
    })
    scope.check()
    if (reader.bytes === 0) progress.report(source, 0, size, 0)
    const digest = reader.digest()
    const out = await run(
      pool,
      COPY_COMMIT_SCRIPT,
      { Path: destination, Temp: temp, Length: BigInt(reader.bytes), Sha256: digest, Overwrite: overwrite },
      { signal: scope.signal },
    ).catch((e: unknown) => {
      // the commit script removes the temporary file when it fails
      if (e instanceof PipelineFailedError && pool.failure === undefined) committed = true
      throw e
    })
    committed = true
    const placed = out[out.length - 1]
    if (typeof placed !== 'string') throw new ProtocolError('the copy script returned no path')
    return { destination: placed, sha256: digest }
  } catch (e) {
    if (!committed) await removeRemoteTemp(pool, { remotePath, name, tempName, expand }, scope)
    throw remoteError(e, pool, remotePath)
  } finally {
    await reader.close()
  }
}

/**
 * Removes the temporary file of an interrupted copy from the server and notes in `scope` what
 * happened to it: removed, never created, or left behind (with why) when the connection is gone or
 * the removal fails.
 */
async function removeRemoteTemp(
  pool: RunspacePool,
  where: { remotePath: string; name: string; tempName: string; expand: boolean },
  scope: Scope,
): Promise<void> {
  const guess = `'${where.tempName}' next to '${where.remotePath}'`
  if (pool.failure !== undefined) {
    scope.notes.push(
      `the partial file ${guess} may be left on the server (the connection failed: ${pool.failure.message})`,
    )
    return
  }
  try {
    const out = await runCleanup(pool, REMOVE_TEMP_SCRIPT, {
      Path: where.remotePath,
      Name: where.name,
      TempName: where.tempName,
      Expand: where.expand,
    })
    const m = typeof out[0] === 'string' ? /^(removed|absent)\t(.*)$/s.exec(out[0]) : null
    if (m?.[1] === 'removed') scope.notes.push(`removed the partial file '${m[2]}' on the server`)
    else if (m?.[1] === 'absent') scope.notes.push(`no partial file '${m[2]}' is left on the server`)
    else scope.notes.push(`the partial file ${guess} may be left on the server`)
  } catch (e) {
    scope.notes.push(
      `the partial file ${guess} may be left on the server (removing it failed: ${e instanceof Error ? e.message : String(e)})`,
    )
  }
}

// ---------------------------------------------------------------- fetch

/** What {@link STAT_SCRIPT} reported. */
interface RemoteTree {
  readonly kind: 'file' | 'dir'
  readonly path: string
  readonly size: number
  readonly directories: string[]
  readonly files: { readonly rel: string; readonly size: number }[]
}

function parseStat(out: unknown[]): RemoteTree {
  const [head, ...rest] = out
  const m = typeof head === 'string' ? /^R\t(file|dir)\t(\d+)\t(.*)$/s.exec(head) : null
  if (m === null) throw new ProtocolError('the stat script returned no description')
  const tree: RemoteTree = {
    kind: m[1] as 'file' | 'dir',
    size: Number(m[2]),
    path: m[3] as string,
    directories: [],
    files: [],
  }
  for (const line of rest) {
    if (typeof line !== 'string') throw new ProtocolError('the stat script returned a non-string')
    const f = /^F\t(\d+)\t(.+)$/s.exec(line)
    if (f !== null) {
      tree.files.push({ size: Number(f[1]), rel: f[2] as string })
      continue
    }
    const d = /^D\t(.+)$/s.exec(line)
    if (d === null) throw new ProtocolError(`the stat script returned an unexpected line`)
    tree.directories.push(d[1] as string)
  }
  return tree
}

/** A relative path from the server, checked so it cannot leave the destination directory. */
function safeRelative(rel: string): string[] {
  const parts = rel.split('/')
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0')))
    throw new ProtocolError(`the server listed an unsafe relative path ${JSON.stringify(rel)}`)
  return parts
}

/**
 * Fetches a remote file or directory tree from the server of `pool` to `localPath`. For a file,
 * `localPath` is the destination file (its directory must exist), or an existing directory, which
 * receives the file under its remote name (as `cp` and `Copy-Item` do; a path ending in a separator
 * must be an existing directory); for a directory, the destination directory, created with its
 * parents and merged with what exists.
 *
 * @throws {FileTransferError} `not-found` when the remote path does not exist (the message names
 *   it); `exists` when a local destination file exists and `overwrite` is not set (nothing is
 *   transferred then); `checksum` when the received bytes do not match the server's SHA-256; `io`
 *   when a file cannot be read or written on either side (the local directory is missing, access
 *   denied, a directory where the file should go …), naming the path, with Node's error or the
 *   server's {@link PipelineFailedError} as `cause`.
 * @throws {AbortError} / {TimeoutError} when cancelled; the remote pipeline is stopped and the local
 *   temporary file removed (the message says so).
 */
export async function fetchFromRemote(
  pool: RunspacePool,
  remotePath: string,
  localPath: string,
  options: TransferEngineOptions,
): Promise<TransferResult> {
  const chunkSize = checkChunkSize(options.chunkSize)
  const concurrency = checkConcurrency(pool, options.concurrency)
  const dest = resolve(options.expandVariables === true ? expandLocalPath(localPath) : localPath)
  const overwrite = options.overwrite === true
  const scope = new Scope(options, `fetching '${remotePath}' to '${dest}'`)
  try {
    const tree = parseStat(
      await run(
        pool,
        STAT_SCRIPT,
        { Path: remotePath, Expand: options.expandVariables === true },
        { signal: scope.signal },
      ).catch((e: unknown) => {
        throw remoteError(e, pool, remotePath)
      }),
    )
    if (tree.kind === 'file') {
      // into an existing directory: under the remote file's own name
      const into = await stat(dest).then(
        (s) => s.isDirectory(),
        () => false,
      )
      if (!into && /[\\/]$/.test(localPath))
        throw new FileTransferError(`cannot fetch to '${localPath}': no such local directory`, 'io', dest)
      const target = into ? join(dest, leafName(tree.path)) : dest
      const progress = new Progress(tree.size, options.onProgress)
      const sha256 = await fetchFile(
        pool,
        tree.path,
        tree.size,
        target,
        overwrite,
        chunkSize,
        progress,
        scope,
        splitWidth(pool, concurrency, tree.size, chunkSize, options.splitLimit),
      )
      return { destination: target, files: 1, directories: 0, bytes: progress.bytes, sha256 }
    }
    const files = tree.files.map((f) => ({ ...f, local: join(dest, ...safeRelative(f.rel)) }))
    const dirs = tree.directories.map((d) => join(dest, ...safeRelative(d)))
    if (!overwrite) {
      const clashes: string[] = []
      for (const f of files) if (await exists(f.local)) clashes.push(f.local)
      if (clashes.length > 0)
        throw new FileTransferError(
          `cannot fetch into '${dest}': ${clashes.length} file(s) exist, e.g. '${clashes.slice(0, 5).join("', '")}' (set overwrite to replace them)`,
          'exists',
          dest,
        )
    }
    for (const d of [dest, ...dirs])
      await local(`cannot create the local directory '${d}'`, d, () => mkdir(d, { recursive: true }))
    const separator = tree.path.includes('\\') && !tree.path.includes('/') ? '\\' : '/'
    const remoteRoot = tree.path.replace(/[\\/]+$/, '')
    const progress = new Progress(
      files.reduce((n, f) => n + f.size, 0),
      options.onProgress,
    )
    const alone = async (f: FetchBatchFile): Promise<void> => {
      await fetchFile(pool, f.remote, f.size, f.local, overwrite, chunkSize, progress, scope, 1)
    }
    await transferFiles(
      files.map((f) => ({
        remote: remoteRoot + separator + f.rel.split('/').join(separator),
        size: f.size,
        local: f.local,
      })),
      chunkSize,
      concurrency,
      (batch) => fetchBatch(pool, batch, { overwrite, progress, scope, alone }),
      alone,
    )
    return {
      destination: dest,
      files: files.length,
      directories: dirs.length + 1,
      bytes: progress.bytes,
      sha256: undefined,
    }
  } catch (e) {
    throw scope.translate(e)
  } finally {
    scope.dispose()
  }
}

async function fetchFile(
  pool: RunspacePool,
  remotePath: string,
  size: number,
  dest: string,
  overwrite: boolean,
  chunkSize: number,
  progress: Progress,
  scope: Scope,
  width: number,
): Promise<string> {
  return writeLocalFile(dest, overwrite, scope, async (temp, handle) => {
    const target: FetchTarget = { remotePath, size, temp, handle, chunkSize, progress, scope }
    return width > 1 ? receiveSplit(pool, target, width) : receiveSequential(pool, target)
  })
}

/** Where a fetch writes: the local temporary file and what it needs to report. */
interface FetchTarget {
  readonly remotePath: string
  readonly size: number
  readonly temp: string
  readonly handle: LocalFileHandle
  readonly chunkSize: number
  readonly progress: Progress
  readonly scope: Scope
}

/**
 * One pipeline ({@link FETCH_FILE_SCRIPT}) streams the file in order and ends with its SHA-256; the
 * client hashes as it writes. Resolves to the verified digest.
 */
async function receiveSequential(pool: RunspacePool, t: FetchTarget): Promise<string> {
  const { remotePath, size, temp, handle, chunkSize, progress, scope } = t
  const hash = createHash('sha256')
  let fileBytes = 0
  let remoteDigest: string | undefined
  const ps = new PowerShell(pool)
    .addScript(FETCH_FILE_SCRIPT, true)
    .addParameters({ Path: remotePath, ChunkSize: chunkSize, Expand: false })
  try {
    for await (const item of ps.stream(undefined, {
      signal: scope.signal,
      highWaterMark: FETCH_HIGH_WATER_MARK,
    })) {
      if (item instanceof Uint8Array) {
        if (remoteDigest !== undefined)
          throw new ProtocolError('the fetch script sent data after its checksum')
        await local(`writing '${temp}'`, temp, () => handle.write(item))
        hash.update(item)
        fileBytes += item.length
        progress.report(remotePath, fileBytes, size, item.length)
      } else if (typeof item === 'string' && item.startsWith('sha256:')) {
        remoteDigest = item.slice(7)
      } else {
        throw new ProtocolError('the fetch script sent an unexpected object')
      }
    }
  } catch (e) {
    throw remoteError(e, pool, remotePath)
  }
  if (fileBytes === 0) progress.report(remotePath, 0, size, 0)
  const digest = hash.digest('hex')
  checkDigest(remotePath, fileBytes, digest, remoteDigest)
  return digest
}

/**
 * Hashes chunks that arrive out of order in file order. A chunk past a gap is not kept: it is on disk
 * already, and is read back from the file when the gap closes. So no receiver ever waits for another:
 * the pipelines of a split fetch share one connection, and a receiver that stopped reading (as an
 * earlier version did, to bound the chunks held here) paused the connection for all of them, the one
 * that would have closed the gap included, and the fetch hung.
 */
class OrderedHash {
  readonly #hash = createHash('sha256')
  /** Chunks received past the first gap, by index. */
  readonly #received = new Set<number>()
  #next = 0
  /** The additions, one after another (one may be reading chunks back). */
  #queue: Promise<void> = Promise.resolve()

  constructor(
    /** Reads chunk `index` back from the file it was written to. */
    readonly readBack: (index: number) => Promise<Uint8Array>,
  ) {}

  /** Adds chunk `index` (written to the file); hashes every chunk that is now in order. */
  add(index: number, data: Uint8Array): Promise<void> {
    const step = this.#queue.then(async () => {
      if (index !== this.#next) {
        this.#received.add(index)
        return
      }
      this.#hash.update(data)
      this.#next++
      while (this.#received.delete(this.#next)) {
        this.#hash.update(await this.readBack(this.#next))
        this.#next++
      }
    })
    this.#queue = step.catch(() => undefined)
    return step
  }

  /** Chunks hashed so far. */
  get hashed(): number {
    return this.#next
  }

  digest(): string {
    return this.#hash.digest('hex')
  }
}

/**
 * A fetch of one large file through `width` pipelines: pipeline `i` ({@link FETCH_RANGE_SCRIPT})
 * sends chunks `i`, `i + width`, … and the client writes each at its offset; one more pipeline
 * ({@link HASH_FILE_SCRIPT}) hashes the whole file on the server meanwhile. The client hashes the
 * chunks in file order ({@link OrderedHash}) and compares. A failure of any pipeline stops the others;
 * the caller removes the temporary file. Resolves to the verified digest.
 */
async function receiveSplit(pool: RunspacePool, t: FetchTarget, width: number): Promise<string> {
  const { remotePath, size, temp, handle, chunkSize, progress, scope } = t
  const chunks = Math.ceil(size / chunkSize)
  // with room in the pool, the server's hash runs beside the ranges instead of after them
  const ranges = width >= 3 ? width - 1 : width
  // chunks that arrived past a gap are hashed from the file, through a handle of its own
  let reader: LocalFileHandle | undefined
  const ordered = new OrderedHash(async (index) => {
    const data = Buffer.allocUnsafe(Math.min(chunkSize, size - index * chunkSize))
    const got = await local(`reading '${temp}'`, temp, async () => {
      reader ??= await open(temp, 'r')
      return readFully(reader, data, index * chunkSize)
    })
    if (got < data.length)
      throw new ProtocolError(`fetching '${remotePath}': chunk ${index} is not in '${temp}'`)
    return data
  })
  let fileBytes = 0
  let remoteDigest: string | undefined
  try {
    await allOrNothing(ranges + 1, scope.signal, async (i, signal) => {
      if (i === ranges) {
        const out = await run(pool, HASH_FILE_SCRIPT, { Path: remotePath }, { signal })
        const line = out[0]
        if (typeof line !== 'string' || !line.startsWith('sha256:'))
          throw new ProtocolError('the hash script returned no checksum')
        remoteDigest = line.slice(7)
        return
      }
      let index = i
      const ps = new PowerShell(pool).addScript(FETCH_RANGE_SCRIPT, true).addParameters({
        Path: remotePath,
        ChunkSize: chunkSize,
        First: BigInt(i),
        Stride: BigInt(ranges),
        Length: BigInt(size),
      })
      for await (const item of ps.stream(undefined, { signal, highWaterMark: RANGE_HIGH_WATER_MARK })) {
        const offset = index * chunkSize
        if (
          !(item instanceof Uint8Array) ||
          index >= chunks ||
          item.length !== Math.min(chunkSize, size - offset)
        )
          throw new ProtocolError('the fetch script sent an unexpected object')
        await local(`writing '${temp}'`, temp, () => handle.write(item, 0, item.length, offset))
        await ordered.add(index, item)
        fileBytes += item.length
        progress.report(remotePath, fileBytes, size, item.length)
        index += ranges
      }
      if (index < chunks) throw new ProtocolError('the fetch script ended before its last chunk')
    })
  } catch (e) {
    throw remoteError(e, pool, remotePath)
  } finally {
    await reader?.close().catch(() => undefined)
  }
  if (ordered.hashed !== chunks) throw new ProtocolError(`fetching '${remotePath}': chunks are missing`)
  const digest = ordered.digest()
  checkDigest(remotePath, fileBytes, digest, remoteDigest)
  return digest
}
