/**
 * Small files of a directory transfer travel many to a pipeline (src/client/file-transfer-batch.ts),
 * against a real local `pwsh -s`: a mixed tree (batched and alone, empty files, names with quotes,
 * spaces and non-ASCII letters) arrives byte for byte with exact progress; a file that grew after it
 * was listed goes on its own instead of inflating its batch; a failure in the middle of a batch names
 * its file, keeps the files placed before it and leaves no temporary file. Skips without pwsh (fails
 * under PSRP_REQUIRE_PEERS=1).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Client,
  FileTransferError,
  PipelineFailedError,
  ProcessConnection,
  RunspacePool,
} from '../../src/index.ts'
import {
  copyBatch,
  fetchBatch,
  type CopyBatchFile,
  type FetchBatchFile,
} from '../../src/client/file-transfer-batch.ts'
import { Progress, runCleanup, Scope } from '../../src/client/file-transfer-support.ts'
import type { TransferProgress } from '../../src/client/file-transfer.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Every file under `dir` (relative, `/`-separated) with its SHA-256. */
async function hashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const full = join(e.parentPath, e.name)
    out.set(
      full
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
      sha(await readFile(full)),
    )
  }
  return out
}

/** The `*.tmp` files anywhere under `dir`. */
async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.tmp'))
}

describe('directory transfers in batches of small files (pwsh -s)', { skip }, () => {
  let dir = ''
  let client: Client | undefined
  let pool: RunspacePool | undefined
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'psrp-batch-'))
    client = new Client(new ProcessConnection({ executable: pwsh as string }), { maxRunspaces: 2 })
    pool = await RunspacePool.open(new ProcessConnection({ executable: pwsh as string }), { timeout: 60_000 })
  })
  after(async () => {
    await client?.close()
    await pool?.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('a mixed tree copies and fetches back identical, with exact progress', async () => {
    const src = join(dir, 'mixed')
    await mkdir(join(src, 'sub dir', 'ünï'), { recursive: true })
    const files: [string, number][] = [
      ["it's here.txt", 10],
      ['empty-a', 0],
      ['sub dir/empty-b', 0],
      ['sub dir/ünï/ça va.bin', 700],
      ['sub dir/big-1.bin', 9000], // above half a chunk: alone
      ['sub dir/big-2.bin', 4096], // exactly one chunk: alone
    ]
    for (let i = 0; i < 60; i++) files.push([`sub dir/small-${i}.bin`, 1 + ((i * 37) % 2000)])
    for (const [rel, size] of files) await writeFile(join(src, rel), randomBytes(size))
    const total = files.reduce((n, [, size]) => n + size, 0)
    const want = await hashes(src)

    const seen: TransferProgress[] = []
    const up = await (client as Client).copy(src, join(dir, 'mixed-remote'), {
      chunkSize: 4096,
      onProgress: (p) => seen.push(p),
    })
    assert.equal(up.files, files.length)
    assert.equal(up.bytes, total)
    assert.deepEqual(await hashes(join(dir, 'mixed-remote')), want)
    assert.equal(seen[seen.length - 1]?.bytes, total)
    assert.ok(seen.every((p) => p.totalBytes === total))
    // every file reported, each with its own size
    for (const [rel, size] of files) {
      const last = seen.filter((p) => p.file === join(src, ...rel.split('/'))).pop()
      assert.equal(last?.fileBytes, size, rel)
    }

    seen.length = 0
    const down = await (client as Client).fetch(join(dir, 'mixed-remote'), join(dir, 'mixed-back'), {
      chunkSize: 4096,
      onProgress: (p) => seen.push(p),
    })
    assert.equal(down.files, files.length)
    assert.equal(down.bytes, total)
    assert.deepEqual(await hashes(join(dir, 'mixed-back')), want)
    assert.equal(seen[seen.length - 1]?.bytes, total)
    assert.deepEqual(await temps(dir), [])
  })

  test('a file that grew since it was listed goes on its own, not in its batch', async () => {
    const src = join(dir, 'grow-src')
    const remote = join(dir, 'grow-remote')
    await mkdir(src)
    await mkdir(remote)
    const names = ['a.bin', 'b.bin', 'c.bin']
    const sizes = [100, 200, 300]
    for (let i = 0; i < 3; i++)
      await writeFile(join(src, names[i] as string), randomBytes(sizes[i] as number))
    const files: CopyBatchFile[] = names.map((n, i) => ({
      path: join(src, n),
      size: sizes[i] as number,
      dest: join(remote, n),
    }))
    await appendFile(join(src, 'b.bin'), randomBytes(50)) // grew after the listing
    const alone: string[] = []
    const scope = new Scope({}, 'copying')
    const progress = new Progress(600, undefined)
    await copyBatch(pool as RunspacePool, files, {
      overwrite: false,
      progress,
      scope,
      alone: async (f) => {
        alone.push(f.path)
        await writeFile(f.dest, await readFile(f.path)) // stands in for the whole-file copy
      },
    })
    scope.dispose()
    assert.deepEqual(alone, [join(src, 'b.bin')])
    assert.equal(progress.bytes, 400) // a and c, from the batch
    assert.deepEqual(await hashes(remote), await hashes(src))

    // the same for a fetch: the server says 'large' for the file longer than listed
    const back = join(dir, 'grow-back')
    await mkdir(back)
    const fetched: FetchBatchFile[] = names.map((n, i) => ({
      remote: join(remote, n),
      size: sizes[i] as number,
      local: join(back, n),
    }))
    const fetchAlone: string[] = []
    const scope2 = new Scope({}, 'fetching')
    await fetchBatch(pool as RunspacePool, fetched, {
      overwrite: false,
      progress: new Progress(600, undefined),
      scope: scope2,
      alone: async (f) => {
        fetchAlone.push(f.remote)
        await writeFile(f.local, await readFile(f.remote))
      },
    })
    scope2.dispose()
    assert.deepEqual(fetchAlone, [join(remote, 'b.bin')])
    assert.deepEqual(await hashes(back), await hashes(src))
  })

  test('a failure in the middle of a batch names its file, keeps the files before it, leaves no temporary file', async () => {
    const src = join(dir, 'fail-src')
    const remote = join(dir, 'fail-remote')
    await mkdir(src)
    await mkdir(join(remote, 'c.bin'), { recursive: true }) // a directory where c.bin should go
    const names = ['a.bin', 'b.bin', 'c.bin', 'd.bin']
    for (const n of names) await writeFile(join(src, n), randomBytes(64))
    const files: CopyBatchFile[] = names.map((n) => ({ path: join(src, n), size: 64, dest: join(remote, n) }))
    const scope = new Scope({}, 'copying')
    await assert.rejects(
      copyBatch(pool as RunspacePool, files, {
        overwrite: false,
        progress: new Progress(256, undefined),
        scope,
        alone: () => Promise.reject(new Error('nothing goes alone here')),
      }),
      (e: unknown) => {
        assert.ok(e instanceof FileTransferError, String(e))
        assert.equal(e.reason, 'io')
        assert.equal(e.path, join(remote, 'c.bin'))
        assert.match(e.message, /it is a directory/)
        return true
      },
    )
    scope.dispose()
    const placed = await hashes(remote)
    assert.deepEqual([...placed.keys()].sort(), ['a.bin', 'b.bin'])
    assert.equal(placed.get('a.bin'), sha(await readFile(join(src, 'a.bin'))))
    assert.deepEqual(await temps(remote), [])

    // a fetch batch whose third file is gone: not-found naming it, the first two written, no temporary file
    const back = join(dir, 'fail-back')
    await mkdir(back)
    const fetched: FetchBatchFile[] = ['a.bin', 'b.bin', 'gone.bin', 'd.bin'].map((n) => ({
      remote: join(remote, n),
      size: 64,
      local: join(back, n),
    }))
    const scope2 = new Scope({}, 'fetching')
    await assert.rejects(
      fetchBatch(pool as RunspacePool, fetched, {
        overwrite: false,
        progress: new Progress(256, undefined),
        scope: scope2,
        alone: () => Promise.reject(new Error('nothing goes alone here')),
      }),
      (e: unknown) => {
        assert.ok(e instanceof FileTransferError, String(e))
        assert.equal(e.reason, 'not-found')
        assert.equal(e.path, join(remote, 'gone.bin'))
        return true
      },
    )
    scope2.dispose()
    assert.deepEqual([...(await hashes(back)).keys()].sort(), ['a.bin', 'b.bin'])
    assert.deepEqual(await temps(back), [])
  })

  test('a cleanup script is tried again when its pipeline fails, up to three times, and not past that', async () => {
    const p = pool as RunspacePool
    // fails the first two times in this runspace (the pool has one), then reports what it would remove
    const flaky = `param([string]$Key)
if ([int]$global:cleanupTries.$Key -lt 2) { if ($null -eq $global:cleanupTries) { $global:cleanupTries = @{} }; $global:cleanupTries.$Key = 1 + [int]$global:cleanupTries.$Key; throw "try $($global:cleanupTries.$Key) failed" }
"removed\t$Key"`
    assert.deepEqual(await runCleanup(p, flaky, { Key: 'a' }), ['removed\ta'])
    const always = 'throw "cannot remove"'
    await assert.rejects(runCleanup(p, always, {}), (e: unknown) => {
      assert.ok(e instanceof PipelineFailedError)
      assert.match(e.message, /cannot remove/)
      return true
    })
    assert.deepEqual(await runCleanup(p, '"count"; $global:cleanupTries.a', {}), ['count', 2])
  })
})
