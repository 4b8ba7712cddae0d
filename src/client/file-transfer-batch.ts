/**
 * Small files of a directory transfer, many to a pipeline. A pipeline costs the same round trips and
 * server work (parsing the transfer script, opening a runspace's pipeline) whether it moves 10 bytes or
 * 10 MiB, so a tree of small files moved one pipeline per file spends nearly all its time on that:
 * 1,000 files of 1.5 KB took 13 s to copy and 7.3 s to fetch over a local `pwsh -s`. Here files of at
 * most half a chunk go in batches of up to one chunk of data (and {@link BATCH_MAX_FILES} files):
 *
 * - **copy**: the batch's files travel as parameters of one {@link COPY_BATCH_SCRIPT} pipeline with
 *   their SHA-256s; the server writes each under a temporary name, checks its hash and moves it into
 *   place, and outputs its path, so each file is verified and placed on its own, as a whole-file copy
 *   is. A file that grew since the tree was listed is copied on its own.
 * - **fetch**: one {@link FETCH_BATCH_SCRIPT} pipeline outputs each file's bytes and their SHA-256;
 *   the client checks the hash and writes the file through a temporary file. A file that grew since it
 *   was listed comes back as `large` and is fetched on its own.
 *
 * Either way a batch moves no more bytes than its files had when listed, which bounds its messages.
 *
 * A failure names the file it concerns (the batch's outputs say how far it got); files placed before
 * it stay, as with one pipeline per file. An interrupted copy batch removes its temporary file on the
 * server (the script's `finally`, and {@link REMOVE_TEMPS_SCRIPT} after a stop that did not reach it).
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { PipelineFailedError, ProtocolError } from '../errors.ts'
import { COPY_BATCH_SCRIPT, FETCH_BATCH_SCRIPT, REMOVE_TEMPS_SCRIPT } from './file-transfer-scripts.ts'
import {
  checkDigest,
  eachLimited,
  leafName,
  local,
  randomTempName,
  remoteError,
  readFully,
  runCleanup,
  writeLocalFile,
  type Progress,
  type Scope,
} from './file-transfer-support.ts'
import { PowerShell } from './powershell.ts'
import type { RunspacePool } from './runspace-pool.ts'

/** The most files one batch carries, whatever their size. */
export const BATCH_MAX_FILES = 256

/** Output objects a batch fetch buffers before the transport stops reading from the server. */
const BATCH_HIGH_WATER_MARK = 16

/** Files grouped for a directory transfer: batches of small files, and the files that go alone. */
export interface BatchPlan<F> {
  readonly batches: F[][]
  readonly single: F[]
}

/**
 * Groups the files of a directory transfer: each file of at most `chunkSize / 2` bytes joins a batch
 * of at most `chunkSize` bytes and {@link BATCH_MAX_FILES} files (in listing order); larger files go
 * alone. A batch of one file is sent alone as well.
 */
export function planBatches<F extends { readonly size: number }>(
  files: readonly F[],
  chunkSize: number,
): BatchPlan<F> {
  const limit = Math.floor(chunkSize / 2)
  const batches: F[][] = []
  const single: F[] = []
  let open: F[] = []
  let bytes = 0
  const close = (): void => {
    if (open.length === 1) single.push(...open)
    else if (open.length > 1) batches.push(open)
    open = []
    bytes = 0
  }
  for (const f of files) {
    if (f.size > limit) {
      single.push(f)
      continue
    }
    if (open.length === BATCH_MAX_FILES || bytes + f.size > chunkSize) close()
    open.push(f)
    bytes += f.size
  }
  close()
  return { batches, single }
}

/** What a batch needs besides its files. */
export interface BatchOptions<F> {
  readonly overwrite: boolean
  readonly progress: Progress
  readonly scope: Scope
  /** Transfers a file on its own: one that grew since it was listed. */
  readonly alone: (file: F) => Promise<void>
}

/**
 * Moves the files of a directory transfer: {@link planBatches} groups them, then every batch (through
 * `batch`) and every file that goes alone (through `alone`) runs, up to `concurrency` at once; the
 * first failure stops starting new ones.
 */
export async function transferFiles<F extends { readonly size: number }>(
  files: readonly F[],
  chunkSize: number,
  concurrency: number,
  batch: (files: F[]) => Promise<void>,
  alone: (file: F) => Promise<void>,
): Promise<void> {
  const plan = planBatches(files, chunkSize)
  const jobs = [...plan.batches.map((b) => () => batch(b)), ...plan.single.map((f) => () => alone(f))]
  await eachLimited(jobs, concurrency, (job) => job())
}

/** A local file of a copy batch and its destination on the server. */
export interface CopyBatchFile {
  /** The local path. */
  readonly path: string
  /** The size when the tree was listed. */
  readonly size: number
  /** The resolved remote destination file. */
  readonly dest: string
}

/** Reads a whole small file of at most `limit` bytes; undefined when it is longer now. */
async function readSmall(path: string, limit: number): Promise<Uint8Array | undefined> {
  return local(`reading '${path}'`, path, async () => {
    const handle = await open(path, 'r')
    try {
      const buf = Buffer.allocUnsafe(limit + 1)
      const got = await readFully(handle, buf, 0)
      return got > limit ? undefined : new Uint8Array(buf.buffer, buf.byteOffset, got)
    } finally {
      await handle.close()
    }
  })
}

/**
 * Copies one batch of small files ({@link COPY_BATCH_SCRIPT}). Files that grew since they were listed
 * are handed to `alone` instead. Reports progress per file placed.
 */
export async function copyBatch(
  pool: RunspacePool,
  files: readonly CopyBatchFile[],
  options: BatchOptions<CopyBatchFile>,
): Promise<void> {
  const { overwrite, progress, scope } = options
  const batch: { file: CopyBatchFile; data: Uint8Array; sha256: string; temp: string }[] = []
  const grown: CopyBatchFile[] = []
  for (const file of files) {
    scope.check()
    const data = await readSmall(file.path, file.size)
    if (data === undefined) grown.push(file)
    else
      batch.push({
        file,
        data,
        sha256: createHash('sha256').update(data).digest('hex'),
        temp: randomTempName(leafName(file.dest)),
      })
  }
  if (batch.length > 0) {
    let placed = 0
    const ps = new PowerShell(pool).addScript(COPY_BATCH_SCRIPT, true).addParameters({
      Paths: batch.map((b) => b.file.dest),
      TempNames: batch.map((b) => b.temp),
      Sha256: batch.map((b) => b.sha256),
      Data: batch.map((b) => b.data),
      Overwrite: overwrite,
    })
    try {
      for await (const item of ps.stream(undefined, { signal: scope.signal })) {
        const b = batch[placed]
        if (typeof item !== 'string' || b === undefined)
          throw new ProtocolError('the batch copy script sent an unexpected object')
        placed++
        progress.report(b.file.path, b.data.length, b.file.size, b.data.length)
      }
      if (placed !== batch.length) throw new ProtocolError('the batch copy script ended before its last file')
    } catch (e) {
      // the script removes a failed file's temporary file; a stopped or broken pipeline may not have
      if (!(e instanceof PipelineFailedError) || pool.failure !== undefined)
        await removeRemoteTemps(pool, batch.slice(placed), scope)
      throw remoteError(e, pool, (batch[placed] ?? batch[batch.length - 1])?.file.dest ?? '')
    }
  }
  for (const file of grown) await options.alone(file)
}

/**
 * Removes what an interrupted copy batch may have left on the server (the temporary files of the
 * files not yet placed) and notes in `scope` what happened to them.
 */
async function removeRemoteTemps(
  pool: RunspacePool,
  left: readonly { file: CopyBatchFile; temp: string }[],
  scope: Scope,
): Promise<void> {
  const first = left[0]
  if (first === undefined) return
  const guess = `a partial file such as '${first.temp}' next to '${first.file.dest}'`
  if (pool.failure !== undefined) {
    scope.notes.push(`${guess} may be left on the server (the connection failed: ${pool.failure.message})`)
    return
  }
  try {
    const out = await runCleanup(pool, REMOVE_TEMPS_SCRIPT, {
      Paths: left.map((l) => l.file.dest),
      TempNames: left.map((l) => l.temp),
    })
    for (const line of out) {
      const m = typeof line === 'string' ? /^removed\t(.*)$/s.exec(line) : null
      if (m !== null) scope.notes.push(`removed the partial file '${m[1]}' on the server`)
    }
  } catch (e) {
    scope.notes.push(
      `${guess} may be left on the server (removing it failed: ${e instanceof Error ? e.message : String(e)})`,
    )
  }
}

/** A remote file of a fetch batch and its local destination. */
export interface FetchBatchFile {
  /** The resolved remote path. */
  readonly remote: string
  /** The size when the tree was listed. */
  readonly size: number
  /** The local destination file. */
  readonly local: string
}

/**
 * Fetches one batch of small files ({@link FETCH_BATCH_SCRIPT}), each verified against the server's
 * SHA-256 and written through a temporary file. Files that grew since they were listed are handed to
 * `alone` once the batch is done. Reports progress per file written.
 */
export async function fetchBatch(
  pool: RunspacePool,
  files: readonly FetchBatchFile[],
  options: BatchOptions<FetchBatchFile>,
): Promise<void> {
  const { overwrite, progress, scope } = options
  const grown: FetchBatchFile[] = []
  let index = 0
  let data: Uint8Array | undefined
  const ps = new PowerShell(pool)
    .addScript(FETCH_BATCH_SCRIPT, true)
    .addParameters({ Paths: files.map((f) => f.remote), Sizes: files.map((f) => BigInt(f.size)) })
  try {
    for await (const item of ps.stream(undefined, {
      signal: scope.signal,
      highWaterMark: BATCH_HIGH_WATER_MARK,
    })) {
      const f = files[index]
      if (f !== undefined && data === undefined && item === 'large') {
        grown.push(f)
        index++
      } else if (
        f !== undefined &&
        data === undefined &&
        item instanceof Uint8Array &&
        item.length <= f.size
      ) {
        data = item
      } else if (
        f !== undefined &&
        data !== undefined &&
        typeof item === 'string' &&
        item.startsWith('sha256:')
      ) {
        const bytes = data
        const digest = createHash('sha256').update(bytes).digest('hex')
        checkDigest(f.remote, bytes.length, digest, item.slice(7))
        await writeLocalFile(f.local, overwrite, scope, (temp, handle) =>
          local(`writing '${temp}'`, temp, () => handle.write(bytes)),
        )
        progress.report(f.remote, bytes.length, f.size, bytes.length)
        data = undefined
        index++
      } else {
        throw new ProtocolError('the batch fetch script sent an unexpected object')
      }
    }
    if (index !== files.length) throw new ProtocolError('the batch fetch script ended before its last file')
  } catch (e) {
    throw remoteError(e, pool, (files[index] ?? files[files.length - 1])?.remote ?? '')
  }
  for (const f of grown) await options.alone(f)
}
