/**
 * One large file moved by several pipelines at once (copy: every pipeline takes the next chunk from
 * one reader and writes it at its offset; fetch: pipeline i sends chunks i, i+n, …), against a local
 * `pwsh -s` and the WinRM test bridge: the bytes and the SHA-256 arrive intact and the server's hash
 * of the whole file is checked; progress only grows; a failure in one pipeline stops the others and
 * leaves neither a temporary file nor a destination; an abort removes the temporary file; live
 * memory stays bounded while several pipelines are in flight.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunspacePool } from '../../src/index.ts'
import { AbortError, Client, type TransferProgress } from '../../src/index.ts'
import { copyToRemote, fetchFromRemote } from '../../src/client/file-transfer.ts'
import { peakGrowth } from '../helpers/memory.ts'
import { findPwsh, pwshSkip, requirePeers } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const bigFiles = requirePeers || process.env['PSRP_BIG_FILES'] === '1'
const bigSkip = skip !== false ? skip : bigFiles ? false : 'set PSRP_BIG_FILES=1 (minutes on two cores)'
const KiB = 1024
const MiB = 1024 * KiB

/** Writes `size` random bytes to `path`; resolves to their SHA-256. */
async function randomFile(path: string, size: number): Promise<string> {
  const h = createHash('sha256')
  const f = await open(path, 'w')
  try {
    for (let left = size; left > 0;) {
      const piece = randomBytes(Math.min(MiB, left))
      h.update(piece)
      await f.write(piece)
      left -= piece.length
    }
  } finally {
    await f.close()
  }
  return h.digest('hex')
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** Counts the pipelines a pool creates from now on. */
function countPipelines(pool: RunspacePool): () => number {
  let n = 0
  const original = pool.createPipeline.bind(pool)
  pool.createPipeline = ((...args: Parameters<RunspacePool['createPipeline']>) => {
    n++
    return original(...args)
  }) as RunspacePool['createPipeline']
  return () => n
}

/** Progress as reported, with the check that `bytes` and `fileBytes` never go back. */
function progressLog(): { seen: TransferProgress[]; onProgress: (p: TransferProgress) => void } {
  const seen: TransferProgress[] = []
  return {
    seen,
    onProgress: (p) => {
      const last = seen[seen.length - 1]
      if (last !== undefined) {
        assert.ok(p.bytes >= last.bytes, `progress went back from ${last.bytes} to ${p.bytes}`)
        assert.ok(p.fileBytes >= last.fileBytes, 'file progress went back')
      }
      seen.push(p)
    },
  }
}

/** Files in `dir` that a failed transfer must not leave: names starting with `prefix`, and temporaries. */
async function leftovers(dir: string, ...prefixes: string[]): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.tmp') || prefixes.some((p) => n.startsWith(p)))
}

interface Fixture {
  client: () => Client
  dir: () => string
}

function defineSplitScenarios(label: string, f: Fixture): void {
  test(`${label}: a file split across 3 pipelines copies and fetches intact, progress only grows`, async () => {
    const pool = await f.client().pool()
    const src = join(f.dir(), 'split-src.bin')
    // 2 MiB + 5 bytes in 64 KiB chunks: 33 chunks, the last one short
    const size = 2 * MiB + 5
    const hash = await randomFile(src, size)
    const remote = join(f.dir(), 'split-remote.bin')
    const back = join(f.dir(), 'split-back.bin')
    const pipelines = countPipelines(pool)
    const up = progressLog()
    const copied = await copyToRemote(pool, src, remote, {
      chunkSize: 64 * KiB,
      concurrency: 3,
      onProgress: up.onProgress,
    })
    assert.equal(copied.sha256, hash)
    assert.equal(copied.bytes, size)
    assert.equal(up.seen[up.seen.length - 1]?.bytes, size)
    assert.equal(await sha256File(remote), hash)
    // begin, three writers, commit
    assert.equal(pipelines(), 5)
    const down = progressLog()
    const fetched = await fetchFromRemote(pool, remote, back, {
      chunkSize: 64 * KiB,
      concurrency: 3,
      onProgress: down.onProgress,
    })
    assert.equal(fetched.sha256, hash)
    assert.equal(down.seen[down.seen.length - 1]?.bytes, size)
    assert.equal(await sha256File(back), hash)
    // stat, two range readers and the server's hash of the whole file
    assert.equal(pipelines() - 5, 4)
    assert.deepEqual(
      (await readdir(f.dir())).filter((n) => n.endsWith('.tmp')),
      [],
    )
    await rm(remote)
    await rm(back)
    await rm(src)
  })

  test(`${label}: a failure in one pipeline stops the others and leaves no file`, async () => {
    const pool = await f.client().pool()
    const src = join(f.dir(), 'fail-src.bin')
    await randomFile(src, 4 * MiB)
    const remote = join(f.dir(), 'fail-remote.bin')
    // the progress callback runs inside one pipeline's input (copy) or output (fetch) loop
    const boom = new Error('progress callback failed')
    const failAfter = (bytes: number) => (p: TransferProgress) => {
      if (p.bytes > bytes) throw boom
    }
    await assert.rejects(
      copyToRemote(pool, src, remote, { chunkSize: 64 * KiB, concurrency: 3, onProgress: failAfter(MiB) }),
      (e: unknown) => e === boom || (e instanceof Error && e.cause === boom),
    )
    assert.deepEqual(
      await leftovers(f.dir(), 'fail-remote'),
      [],
      'no destination and no temporary file on the server',
    )
    // the pool is still usable: the other pipelines were stopped, not left running
    await copyToRemote(pool, src, remote, { chunkSize: 64 * KiB, concurrency: 3 })
    const back = join(f.dir(), 'fail-back.bin')
    await assert.rejects(
      fetchFromRemote(pool, remote, back, {
        chunkSize: 64 * KiB,
        concurrency: 3,
        onProgress: failAfter(MiB),
      }),
      (e: unknown) => e === boom || (e instanceof Error && e.cause === boom),
    )
    assert.deepEqual(
      await leftovers(f.dir(), 'fail-back'),
      [],
      'no destination and no temporary file locally',
    )
    await rm(remote)
    await rm(src)
  })

  test(`${label}: aborting a split copy and a split fetch removes the temporary file`, async () => {
    const pool = await f.client().pool()
    const src = join(f.dir(), 'abort-src.bin')
    await randomFile(src, 4 * MiB)
    const remote = join(f.dir(), 'abort-remote.bin')
    const ac = new AbortController()
    await assert.rejects(
      copyToRemote(pool, src, remote, {
        chunkSize: 64 * KiB,
        concurrency: 3,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes > MiB) ac.abort()
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof AbortError, String(e))
        assert.match(e.message, /removed the partial file '.*abort-src\.bin\.[0-9a-f]+\.tmp' on the server/)
        return true
      },
    )
    assert.deepEqual(await leftovers(f.dir(), 'abort-remote'), [])
    await copyToRemote(pool, src, remote, { chunkSize: 64 * KiB, concurrency: 3 })
    const back = join(f.dir(), 'abort-back.bin')
    const ac2 = new AbortController()
    await assert.rejects(
      fetchFromRemote(pool, remote, back, {
        chunkSize: 64 * KiB,
        concurrency: 3,
        signal: ac2.signal,
        onProgress: (p) => {
          if (p.bytes > MiB) ac2.abort()
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof AbortError, String(e))
        assert.match(e.message, /removed the partial file '.*abort-back\.bin\.[0-9a-f]+\.tmp'/)
        return true
      },
    )
    assert.deepEqual(await leftovers(f.dir(), 'abort-back'), [])
    await rm(remote)
    await rm(src)
  })

  test(
    `${label}: 64 MiB each way through Client.copy/fetch with client memory below the file's size`,
    { skip: bigSkip, timeout: 900_000 },
    async () => {
      const client = f.client()
      const src = join(f.dir(), 'mem-src.bin')
      const hash = await randomFile(src, 64 * MiB)
      const remote = join(f.dir(), 'mem-remote.bin')
      const back = join(f.dir(), 'mem-back.bin')
      // the client's default chunk sizes (the largest) and up to three pipelines, split where the
      // Client splits: copies over pwsh -s; never a fetch (split, it held 52.7 MiB of this file)
      const upGrowth = await peakGrowth(() => client.copy(src, remote, { concurrency: 3 }))
      assert.equal(await sha256File(remote), hash)
      const downGrowth = await peakGrowth(() => client.fetch(remote, back, { concurrency: 3 }))
      assert.equal(await sha256File(back), hash)
      assert.equal((await stat(back)).size, 64 * MiB)
      console.log(
        `# ${label}: 64 MiB split copy +${(upGrowth / MiB).toFixed(1)} MiB, fetch +${(downGrowth / MiB).toFixed(1)} MiB`,
      )
      // live memory, not garbage: holding the file would take 64 MiB, more as base64 text
      assert.ok(upGrowth < 48 * MiB, `copy grew memory by ${(upGrowth / MiB).toFixed(1)} MiB`)
      // a fetch holds at most its 8 buffered output chunks of 1 MiB and the message being read: it
      // grew 1-3 MiB, and 34-54 MiB while the session kept up to 1,024 taken 32 KiB fragments alive
      assert.ok(downGrowth < 16 * MiB, `fetch grew memory by ${(downGrowth / MiB).toFixed(1)} MiB`)
      await rm(src)
      await rm(remote)
      await rm(back)
    },
  )
}

describe('split file transfer over a local pwsh -s', { skip }, () => {
  let dir = ''
  let client: Client | undefined
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'psrp-split-'))
    client = new Client({ local: true, executable: pwsh as string })
  })
  after(async () => {
    await client?.close()
    await rm(dir, { recursive: true, force: true })
  })
  defineSplitScenarios('pwsh -s', { client: () => client as Client, dir: () => dir })
})

describe('split file transfer over WS-Man (the WinRM test bridge)', { skip }, () => {
  let dir = ''
  let bridge: WinRMBridge | undefined
  let client: Client | undefined
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'psrp-split-wsman-'))
    bridge = await startWinRMBridge({ pwsh: pwsh as string, username: 'psrp', password: 'split' })
    client = new Client('127.0.0.1', {
      port: bridge.port,
      ssl: false,
      auth: 'basic',
      username: 'psrp',
      password: 'split',
      allowUnencryptedBasic: true,
    })
  })
  after(async () => {
    await client?.close()
    await bridge?.close()
    await rm(dir, { recursive: true, force: true })
  })
  defineSplitScenarios('WS-Man', { client: () => client as Client, dir: () => dir })
})
