/**
 * File transfers as `cp` and `Copy-Item` behave, against a local `pwsh -s`: a file copied or fetched
 * to an existing directory lands inside it under its own name (library and CLI); every transfer
 * failure is a {@link FileTransferError} naming the path (no raw EISDIR, no PipelineFailedError);
 * cancelling (AbortSignal, timeout, Ctrl+C in the CLI) removes the temporary file on the side that
 * had it and says so; the CLI refuses a fetch onto an existing local file, or a copy of a missing
 * one, before it connects. Ctrl+C is tested with the real CLI over a local pwsh and over SSH (the
 * private sshd of test/peers/sshd, skipped without root/sshd).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbortError, Client, FileTransferError, TimeoutError } from '../../src/index.ts'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { psrpNodeArgs, runCli, type CliResult } from '../helpers/cli.ts'
import { startSshd, sshdUnavailable, type SshdPeer } from '../peers/sshd/index.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const sshSkip = skip || peerSkip('sshd', sshdUnavailable() === undefined, sshdUnavailable() ?? '')
const MiB = 1024 * 1024
const cliEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PSRP_PWSH: pwsh ?? '', NO_COLOR: '' })

/** Runs the CLI against this machine's pwsh. */
function psrp(args: string[], timeout?: number): Promise<CliResult> {
  return runCli(args, { env: cliEnv(), timeout })
}

/** Writes `size` random bytes in 1 MiB pieces. */
async function randomFile(path: string, size: number): Promise<void> {
  const f = await open(path, 'w')
  try {
    for (let left = size; left > 0; left -= MiB) await f.write(randomBytes(Math.min(MiB, left)))
  } finally {
    await f.close()
  }
}

/** The `*.tmp` files in `dir`. */
async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.tmp'))
}

/** Resolves once a `*.tmp` file in `dir` has at least `bytes` bytes (polls; rejects after `ms`). */
async function tempReaches(dir: string, bytes: number, ms = 60_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    for (const n of await temps(dir).catch(() => [])) {
      const size = await stat(join(dir, n)).then(
        (s) => s.size,
        () => 0,
      )
      if (size >= bytes) return
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no temporary file of ${bytes} bytes appeared in ${dir}`)
}

/** Asserts a FileTransferError with `reason` about `path`. */
function transferFailure(reason: string, path: string, message?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FileTransferError, `expected FileTransferError, got ${String(e)}`)
    assert.equal(e.code, 'ERR_FILE_TRANSFER')
    assert.equal(e.reason, reason)
    assert.equal(e.path, path)
    assert.ok(e.message.includes(path), e.message)
    if (message !== undefined) assert.match(e.message, message)
    return true
  }
}

describe('transfers into directories, transfer errors and cancellation (library)', { skip }, () => {
  let dir = ''
  let client: Client | undefined
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'psrp-transfer-'))
    client = new Client({ local: true, executable: pwsh as string })
  })
  after(async () => {
    await client?.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('a file copied or fetched to an existing directory lands inside it under its own name', async () => {
    const c = client as Client
    const src = join(dir, 'small.txt')
    await writeFile(src, 'into the directory')
    const remoteDir = join(dir, 'remote-dir')
    await mkdir(remoteDir)
    // with and without a trailing separator
    const up = await c.copy(src, remoteDir)
    assert.equal(up.destination, join(remoteDir, 'small.txt'))
    assert.equal(await readFile(join(remoteDir, 'small.txt'), 'utf8'), 'into the directory')
    await assert.rejects(
      c.copy(src, `${remoteDir}/`),
      transferFailure('exists', join(remoteDir, 'small.txt')),
    )
    await writeFile(src, 'replaced')
    const again = await c.copy(src, `${remoteDir}/`, { overwrite: true })
    assert.equal(again.destination, join(remoteDir, 'small.txt'))
    assert.equal(await readFile(join(remoteDir, 'small.txt'), 'utf8'), 'replaced')

    const localDir = join(dir, 'local-dir')
    await mkdir(localDir)
    const down = await c.fetch(join(remoteDir, 'small.txt'), localDir)
    assert.equal(down.destination, join(localDir, 'small.txt'))
    assert.equal(await readFile(join(localDir, 'small.txt'), 'utf8'), 'replaced')
    await assert.rejects(
      c.fetch(join(remoteDir, 'small.txt'), `${localDir}/`),
      transferFailure('exists', join(localDir, 'small.txt')),
    )
    // overwrite replaces the file inside: no EISDIR
    await writeFile(join(remoteDir, 'small.txt'), 'third')
    const forced = await c.fetch(join(remoteDir, 'small.txt'), localDir, { overwrite: true })
    assert.equal(forced.destination, join(localDir, 'small.txt'))
    assert.equal(await readFile(join(localDir, 'small.txt'), 'utf8'), 'third')
    assert.deepEqual(await temps(localDir), [])
    assert.deepEqual(await temps(remoteDir), [])
  })

  test('every transfer failure is a FileTransferError naming the path', async () => {
    const c = client as Client
    const src = join(dir, 'err.txt')
    await writeFile(src, 'x')
    // the remote directory is missing (was a PipelineFailedError)
    const noRemoteDir = join(dir, 'no-such-remote-dir', 'err.txt')
    await assert.rejects(c.copy(src, noRemoteDir), transferFailure('io', noRemoteDir, /does not exist/))
    // the local source is missing (was an InvalidArgumentError)
    const noSource = join(dir, 'no-such-source.bin')
    await assert.rejects(c.copy(noSource, join(dir, 'never.bin')), transferFailure('not-found', noSource))
    // the local directory is missing (was an InvalidArgumentError)
    const noLocalDir = join(dir, 'no-such-local-dir', 'err.txt')
    await assert.rejects(c.fetch(src, noLocalDir), transferFailure('io', noLocalDir, /does not exist/))
    // a path ending in a separator must be a directory
    await assert.rejects(
      c.fetch(src, `${join(dir, 'no-such-dir')}/`),
      transferFailure('io', join(dir, 'no-such-dir'), /no such local directory/),
    )
    // a directory where the file should go, with overwrite (was a raw EISDIR)
    const box = join(dir, 'box')
    await mkdir(join(box, 'err.txt'), { recursive: true })
    await assert.rejects(
      c.fetch(src, box, { overwrite: true }),
      transferFailure('io', join(box, 'err.txt'), /is a directory/),
    )
    // a local path that is neither a file nor a directory (was an InvalidArgumentError)
    const fifo = join(dir, 'fifo')
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo')
    await assert.rejects(
      c.copy(fifo, join(dir, 'never.bin')),
      transferFailure('io', fifo, /not a regular file/),
    )
    await rm(fifo)
    // a file where a copied tree's remote root should go (was a PipelineFailedError)
    const tree = join(dir, 'tree')
    await mkdir(tree)
    await writeFile(join(tree, 'a.txt'), 'a')
    const fileInTheWay = join(dir, 'in-the-way')
    await writeFile(fileInTheWay, 'not a directory')
    await assert.rejects(c.copy(tree, fileInTheWay), transferFailure('io', fileInTheWay, /is a file/))
    assert.deepEqual(await temps(dir), [])
  })

  test('an aborted or timed-out fetch removes its local temporary file and says so', async () => {
    const c = client as Client
    const remote = join(dir, 'big-remote.bin')
    await randomFile(remote, 48 * MiB)
    const localDir = join(dir, 'fetch-abort')
    await mkdir(localDir)
    const ac = new AbortController()
    let temp = ''
    await assert.rejects(
      c.fetch(remote, join(localDir, 'x.bin'), {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes >= 2 * MiB && !ac.signal.aborted) {
            void temps(localDir).then((t) => {
              temp = t[0] ?? ''
              ac.abort()
            })
          }
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof AbortError, String(e))
        assert.match(e.message, /removed the partial file '.*x\.bin\.[0-9a-f]+\.tmp'/)
        return true
      },
    )
    assert.match(temp, /^x\.bin\.[0-9a-f]+\.tmp$/, 'the temporary file existed during the fetch')
    assert.deepEqual(await readdir(localDir), [])

    await assert.rejects(c.fetch(remote, join(localDir, 'y.bin'), { timeout: 1500 }), (e: unknown) => {
      assert.ok(e instanceof TimeoutError, String(e))
      assert.match(e.message, /removed the partial file/)
      return true
    })
    assert.deepEqual(await readdir(localDir), [])
    await rm(remote)
  })

  test('an aborted copy removes the temporary file on the server and says so', async () => {
    const c = client as Client
    const src = join(dir, 'big-src.bin')
    await randomFile(src, 48 * MiB)
    const remoteDir = join(dir, 'copy-abort')
    await mkdir(remoteDir)
    const ac = new AbortController()
    const copying = c.copy(src, remoteDir, { signal: ac.signal })
    // abort once the server has made its temporary file: earlier, the copy script may not have
    // started yet (pwsh accepts input while it compiles the script), and there is nothing to remove
    await tempReaches(remoteDir, MiB)
    ac.abort()
    await assert.rejects(copying, (e: unknown) => {
      assert.ok(e instanceof AbortError, String(e))
      // a stop that lands inside the copy script's process block runs its catch, which deletes the
      // file itself (pwsh does so for most stops of a tight loop of .NET calls); the client's cleanup
      // then finds none. Either way the message names the file and says it is gone.
      assert.match(
        e.message,
        /(removed the partial file|no partial file) '.*big-src\.bin\.[0-9a-f]+\.tmp' (is left )?on the server/,
      )
      return true
    })
    assert.deepEqual(await readdir(remoteDir), [])
    await rm(src)
  })
})

describe('psrp copy and fetch: directories, early refusals, Ctrl+C', { skip }, () => {
  let dir = ''
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'psrp-transfer-cli-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('copy and fetch to an existing directory put the file inside it', { timeout: 120_000 }, async () => {
    const src = join(dir, 'small.txt')
    await writeFile(src, 'cli into dir')
    const remoteDir = join(dir, 'remote')
    const localDir = join(dir, 'local')
    await mkdir(remoteDir)
    await mkdir(localDir)
    const copied = await psrp(['copy', '--no-progress', src, `${remoteDir}/`])
    assert.equal(copied.code, 0, copied.stderr)
    assert.equal(await readFile(join(remoteDir, 'small.txt'), 'utf8'), 'cli into dir')
    const fetched = await psrp(['fetch', '--no-progress', join(remoteDir, 'small.txt'), localDir])
    assert.equal(fetched.code, 0, fetched.stderr)
    assert.equal(await readFile(join(localDir, 'small.txt'), 'utf8'), 'cli into dir')
    const forced = await psrp(['fetch', '--force', '--no-progress', join(remoteDir, 'small.txt'), localDir])
    assert.equal(forced.code, 0, forced.stderr)
    assert.doesNotMatch(forced.stderr, /EISDIR/)
  })

  test('a fetch onto an existing local file, or a copy of a missing one, fails before connecting', async () => {
    const existing = join(dir, 'existing.txt')
    await writeFile(existing, 'keep me')
    // nothing listens on this pipe: connecting would fail with a transport error instead
    const nowhere = ['--pipe', join(dir, 'no-such-pipe')]
    const fetched = await psrp(['fetch', ...nowhere, '/remote/file.txt', existing])
    assert.equal(fetched.code, 1)
    assert.match(fetched.stderr, /^psrp: ERR_FILE_TRANSFER: .*existing\.txt.*--force/m)
    assert.equal(await readFile(existing, 'utf8'), 'keep me')
    const copied = await psrp(['copy', ...nowhere, join(dir, 'missing.bin'), '/remote/x'])
    assert.equal(copied.code, 1)
    assert.match(copied.stderr, /^psrp: ERR_FILE_TRANSFER: .*missing\.bin.*no such local file/m)
    // the same flags do try to connect when the local side is fine
    const tried = await psrp(['fetch', ...nowhere, '/remote/file.txt', join(dir, 'new.txt')])
    assert.equal(tried.code, 1)
    assert.doesNotMatch(tried.stderr, /ERR_FILE_TRANSFER/)
  })

  for (const direction of ['copy', 'fetch'] as const) {
    test(
      `Ctrl+C during ${direction} stops it, removes the temporary file and says so`,
      { timeout: 180_000 },
      () => interruptTransfer(direction, join(dir, `sigint-${direction}`), []),
    )
  }

  test(
    'a second Ctrl+C quits at once and says where the temporary file may be left',
    { timeout: 180_000 },
    () => interruptTransfer('copy', join(dir, 'sigint-twice'), [], {}, true),
  )
})

describe('psrp copy and fetch over SSH: Ctrl+C', { skip: sshSkip }, () => {
  let peer: SshdPeer | undefined
  let dir = ''
  before(async () => {
    peer = await startSshd({ pwsh: pwsh as string })
    dir = await mkdtemp(join(tmpdir(), 'psrp-transfer-ssh-'))
    // the server side runs as the sshd test user
    await chmod(dir, 0o777)
  })
  after(async () => {
    await peer?.close()
    await rm(dir, { recursive: true, force: true })
  })
  const flags = (): string[] => {
    const p = peer as SshdPeer
    return [
      '--ssh',
      `${p.username}@${p.host}:${p.port}`,
      '-i',
      p.privateKeyPath,
      '--known-hosts',
      p.knownHostsPath,
    ]
  }
  for (const direction of ['copy', 'fetch'] as const) {
    test(
      `Ctrl+C during ${direction} over SSH removes the temporary file on ${direction === 'copy' ? 'the server' : 'this side'}`,
      { timeout: 180_000 },
      () => interruptTransfer(direction, join(dir, `sigint-${direction}`), flags(), { HOME: dir }),
    )
  }
})

/**
 * Runs `psrp <direction> <flags> <work>/from/big.bin <work>/to/big.bin` (96 MiB), sends SIGINT once
 * the temporary file in `to` has 4 MiB (on the server for copy, here for fetch: both this machine),
 * and checks the exit code, what was printed and that nothing is left in `to`.
 */
async function interruptTransfer(
  direction: 'copy' | 'fetch',
  work: string,
  flags: string[],
  env: Record<string, string> = {},
  twice = false,
): Promise<void> {
  const from = join(work, 'from')
  const to = join(work, 'to')
  await mkdir(from, { recursive: true })
  await mkdir(to)
  // readable and writable by an sshd session's user as well
  await chmod(work, 0o777)
  await chmod(from, 0o777)
  await chmod(to, 0o777)
  await randomFile(join(from, 'big.bin'), 96 * MiB)
  await chmod(join(from, 'big.bin'), 0o644)
  const child = spawn(
    process.execPath,
    [...psrpNodeArgs, direction, ...flags, join(from, 'big.bin'), join(to, 'big.bin')],
    { env: { ...cliEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.stdout.resume()
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000)
  try {
    await tempReaches(to, 4 * MiB)
    child.kill('SIGINT')
    if (twice) {
      // the second once the first is being handled (two at once may arrive as one); removing the
      // server's temporary file takes a round trip or two, so the second comes while it runs
      const until = Date.now() + 30_000
      while (!stderr.includes('stopping…') && Date.now() < until) await new Promise((r) => setTimeout(r, 5))
      child.kill('SIGINT')
      assert.equal(await exited, 130, stderr)
      assert.match(stderr, /stopping… removing the partial file/)
      assert.ok(
        stderr.includes(
          `quitting at once: a partial file 'big.bin.<random>.tmp' may be left on the server in or next to '${join(to, 'big.bin')}'`,
        ),
        stderr,
      )
      return
    }
    const code = await exited
    assert.equal(code, 130, stderr)
    assert.match(stderr, /stopping… removing the partial file/)
    // removed by the client's cleanup, or by the copy script itself when the stop lands in its
    // process block (see the library test above)
    assert.match(stderr, /(removed the partial file|no partial file) '.*big\.bin\.[0-9a-f]+\.tmp'/)
    assert.deepEqual(await readdir(to), [], 'nothing is left in the destination directory')
  } finally {
    clearTimeout(killer)
    child.kill('SIGKILL')
    await rm(work, { recursive: true, force: true })
  }
}
