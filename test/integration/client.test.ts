/**
 * The high-level `Client` against real pwsh: a local `pwsh -s` and the WinRM test bridge (WS-Man on
 * 127.0.0.1, PSRP shells in pwsh, WinRS shells as local processes). runPs objects and streams,
 * runPsText, cancellation that stops the remote pipeline, runCmd exit codes and live output, copy and
 * fetch of 0 B / 1 B / 5 MiB files with hashes compared, overwrite refusal, a missing remote file, a
 * cancelled copy, and a 1,000-file tree.
 *
 * The 200 MiB copy and fetch (with a bound on client memory) take about 40 s per transport on two
 * cores, so they run only with `PSRP_BIG_FILES=1` or `PSRP_REQUIRE_PEERS=1`.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AbortError,
  Client,
  ErrorRecord,
  FileTransferError,
  InvalidArgumentError,
  NotSupportedError,
  PipelineFailedError,
  PowerShell,
  ProcessConnection,
  PSObject,
  TimeoutError,
  WSManConnection,
  type TransferProgress,
} from '../../src/index.ts'
import { COPY_FILE_SCRIPT, TRANSFER_ERROR_ID } from '../../src/client/file-transfer-scripts.ts'
import { peakGrowth } from '../helpers/memory.ts'
import { findPwsh, requirePeers, pwshSkip } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const bigFiles = requirePeers || process.env['PSRP_BIG_FILES'] === '1'
const bigSkip = skip !== false ? skip : bigFiles ? false : 'set PSRP_BIG_FILES=1 (about 40 s per transport)'
const MiB = 1024 * 1024

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** Writes `size` random bytes to `path` in 1 MiB pieces (no whole-file buffer). */
async function randomFile(path: string, size: number): Promise<string> {
  const h = createHash('sha256')
  const { open } = await import('node:fs/promises')
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

/** The server's own SHA-256 of a file (Get-FileHash), lower-case. */
async function remoteHash(client: Client, path: string): Promise<string> {
  const { output } = await client.runPs('param($p) (Get-FileHash -LiteralPath $p -Algorithm SHA256).Hash', {
    parameters: { p: path },
  })
  return String(output[0]).toLowerCase()
}

interface Fixture {
  client: () => Client
  dir: () => string
}

/** Tests that run the same over every transport. */
function defineCommonScenarios(label: string, f: Fixture): void {
  test(`${label}: runCmd: exit code, byte-exact stdout, stderr, cwd, environment, stdin, arguments`, async () => {
    const client = f.client()
    const r = await client.runCmd('/bin/sh', ['-c', 'echo "$PSRP_X"; pwd; echo oops >&2; exit 7'], {
      cwd: f.dir(),
      environment: { PSRP_X: 'from env' },
    })
    assert.equal(r.rc, 7)
    assert.equal(r.stdout, `from env\n${f.dir()}\n`)
    assert.equal(r.stderr, 'oops\n')
    // bytes a text pipeline would mangle: NUL, 0xFF, a lone CR, no final newline
    const raw = Buffer.from([0, 1, 13, 255, 10, 254])
    const cat = await client.runCmd('cat', [], { stdin: raw, encoding: 'buffer' })
    assert.deepEqual([...cat.stdout], [...raw])
    assert.equal(cat.rc, 0)
    assert.equal((await client.runCmd('/bin/sh', ['-c', 'exit 0'])).rc, 0)
    // arguments arrive one by one, spaces and quotes intact
    const args = await client.runCmd('printf', ['[%s]', 'a b', '"q"', ''])
    assert.equal(args.stdout, '[a b]["q"][]')
  })

  test(`${label}: runCmd turns powershell.exe's CLIXML stderr into text unless rawStderr`, async () => {
    const client = f.client()
    const clixml =
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
      '<Obj S="progress" RefId="0"><MS><I64 N="SourceId">1</I64></MS></Obj>' +
      '<S S="Error">fake : not recognized_x000D__x000A_</S><S S="warning">careful</S></Objs>'
    const script = `printf 'before\\n' >&2; printf '%s' '${clixml}' >&2; echo out`
    const r = await client.runCmd('/bin/sh', ['-c', script])
    assert.equal(r.stdout, 'out\n')
    assert.equal(r.stderr, 'before\nfake : not recognized\r\nWARNING: careful\r\n')
    const raw = await client.runCmd('/bin/sh', ['-c', script], { rawStderr: true })
    assert.equal(raw.stderr, `before\n${clixml}`)
  })

  test(`${label}: runPs returns objects, records and hadErrors; parameters, input, cwd, environment`, async () => {
    const client = f.client()
    const r = await client.runPs(
      'param($n) 1..$n; [pscustomobject]@{ Name = "x"; Size = 42 }; Write-Warning "careful"; Write-Error "bad"',
      { parameters: { n: 2 } },
    )
    assert.deepEqual(r.output.slice(0, 2), [1, 2])
    const obj = r.output[2]
    assert.ok(obj instanceof PSObject)
    assert.equal(obj.get('Name'), 'x')
    assert.equal(obj.get('Size'), 42)
    assert.equal(r.streams.warning[0]?.message, 'careful')
    assert.equal(r.streams.error.length, 1)
    assert.equal(r.hadErrors, true)

    const clean = await client.runPs('$input | ForEach-Object { $_ * 2 }', { input: [1, 2, 3] })
    assert.deepEqual(clean.output, [2, 4, 6])
    assert.equal(clean.hadErrors, false)

    const scoped = await client.runPs('param($s) "$s|$((Get-Location).Path)|$env:PSRP_CLIENT_T"; $input', {
      parameters: { s: 'p' },
      cwd: f.dir(),
      environment: { PSRP_CLIENT_T: 'env value' },
      input: ['in'],
    })
    assert.deepEqual(scoped.output, [`p|${f.dir()}|env value`, 'in'])
    // both are restored for the next call
    const after = await client.runPs('"$((Get-Location).Path)|$env:PSRP_CLIENT_T"')
    assert.notEqual(after.output[0], `${f.dir()}|env value`)
    assert.match(String(after.output[0]), /\|$/)

    await assert.rejects(client.runPs('throw "terminating"'), (e: unknown) => {
      assert.ok(e instanceof PipelineFailedError)
      assert.match(e.message, /terminating/)
      return true
    })
  })

  test(`${label}: runPs binds parameters of a script without param() by name`, async () => {
    const client = f.client()
    // the README's line: a bare script, `$n` bound (not left in $args as `-n WinRM`)
    const bare = await client.runPs('"[$n][$($args.Count)]"', { parameters: { n: 'WinRM' } })
    assert.deepEqual(bare.output, ['[WinRM][0]'])
    const item = await client.runPs('Get-Item -LiteralPath $p', { parameters: new Map([['p', f.dir()]]) })
    assert.ok(item.output[0] instanceof PSObject)
    assert.equal(item.output[0].get('FullName'), f.dir())
    // declared after `using` statements, line numbers unchanged; comments and #requires before it
    const using = await client.runPs(
      'using namespace System.Text\n#requires -Version 7\n<# help #>\n[StringBuilder]::new($a).Append($b).ToString()\n(Get-PSCallStack)[0].ScriptLineNumber',
      { parameters: { a: 'x', b: 2 } },
    )
    assert.deepEqual(using.output, ['x2', 5])
    // begin/process/end scripts with input; the text output of runPsText; cwd (the scoped path)
    const proc = await client.runPs('process { "$p$_" }', { parameters: { p: '>' }, input: [1, 2] })
    assert.deepEqual(proc.output, ['>1', '>2'])
    const text = await client.runPsText('"v=$v"', { parameters: { v: 7 } })
    assert.equal(text.text.trim(), 'v=7')
    const scoped = await client.runPs('"$s|$((Get-Location).Path)"', { parameters: { s: 'q' }, cwd: f.dir() })
    assert.deepEqual(scoped.output, [`q|${f.dir()}`])
    // a param block after comments and an attribute is PowerShell's binding, not declared twice
    const own = await client.runPs('# doubles\n[CmdletBinding()]\nparam([int]$n) $n * 2', {
      parameters: { n: 4 },
    })
    assert.deepEqual(own.output, [8])
    // the same script text again (the remembered parse) with other values
    assert.deepEqual((await client.runPs('"[$n][$($args.Count)]"', { parameters: { n: 'x' } })).output, [
      '[x][0]',
    ])
    // a script that does not parse is sent as is: the server's parse error, not one of ours
    await assert.rejects(client.runPs('"$n" +', { parameters: { n: 1 } }), (e: unknown) => {
      assert.ok(e instanceof PipelineFailedError)
      assert.match(e.message, /value expression following the '\+' operator/)
      return true
    })
    await assert.rejects(client.runPs('$x', { parameters: { 'a-b': 1 } }), InvalidArgumentError)
  })

  test(`${label}: runPsText is PowerShell's own formatting`, async () => {
    const { text } = await f.client().runPsText('[pscustomobject]@{ Alpha = 1; Beta = "two" }')
    assert.match(text, /Alpha\s+Beta/)
    assert.match(text, /-----\s+----/)
    assert.match(text, /1\s+two/)
  })

  test(`${label}: a timeout stops the remote pipeline; an abort rejects with AbortError`, async () => {
    const client = f.client()
    const marker = join(f.dir(), `marker-${randomBytes(4).toString('hex')}`)
    const t0 = Date.now()
    await assert.rejects(
      client.runPs('param($m) Start-Sleep -Milliseconds 1500; Set-Content -LiteralPath $m -Value x', {
        parameters: { m: marker },
        timeout: 300,
      }),
      TimeoutError,
    )
    assert.ok(Date.now() - t0 < 1400, 'the timeout did not wait for the script')
    await new Promise((r) => setTimeout(r, 2000))
    await assert.rejects(stat(marker), /ENOENT/, 'the remote pipeline kept running after the timeout')

    const ac = new AbortController()
    setTimeout(() => ac.abort(), 200)
    await assert.rejects(client.runPs('Start-Sleep -Seconds 30', { signal: ac.signal }), AbortError)
    // the pool is still usable
    assert.deepEqual((await client.runPs('"alive"')).output, ['alive'])
  })

  for (const size of [0, 1, 5 * MiB]) {
    test(`${label}: copy and fetch ${size} bytes, hashes compared`, async () => {
      const client = f.client()
      const src = join(f.dir(), `src-${size}.bin`)
      const remote = join(f.dir(), 'remote', `copied-${size}.bin`)
      const back = join(f.dir(), `back-${size}.bin`)
      await mkdir(join(f.dir(), 'remote'), { recursive: true })
      const hash = await randomFile(src, size)
      const progress: TransferProgress[] = []
      const up = await client.copy(src, remote, { onProgress: (p) => progress.push(p) })
      assert.equal(up.sha256, hash)
      assert.equal(up.bytes, size)
      assert.equal(up.destination, remote)
      assert.equal(await remoteHash(client, remote), hash)
      assert.ok(progress.length >= 1)
      assert.equal(progress[progress.length - 1]?.bytes, size)
      assert.ok(progress.every((p, i) => i === 0 || p.bytes >= (progress[i - 1] as TransferProgress).bytes))
      assert.ok(progress.every((p) => p.totalBytes === size && p.file === src))

      const down = await client.fetch(remote, back)
      assert.equal(down.sha256, hash)
      assert.equal(await sha256File(back), hash)
      assert.equal((await stat(back)).size, size)
      // no temporary files left on either side
      assert.deepEqual(
        (await readdir(join(f.dir(), 'remote'))).filter((n) => n.endsWith('.tmp')),
        [],
      )
      assert.deepEqual(
        (await readdir(f.dir())).filter((n) => n.endsWith('.tmp')),
        [],
      )
    })
  }

  test(`${label}: the copy script refuses a checksum mismatch with a tagged error and leaves no file`, async () => {
    // corruption in transit cannot be provoked through Client.copy (it hashes what it sends), so the
    // server half is driven directly: the tag is what Client.copy turns into FileTransferError 'checksum'
    const client = f.client()
    const remote = join(f.dir(), 'mismatch.bin')
    const ps = new PowerShell(await client.pool()).addScript(COPY_FILE_SCRIPT).addParameters({
      Path: remote,
      TempName: 'mismatch.bin.0.tmp',
      Overwrite: false,
      Expand: false,
      Data: new Uint8Array([1, 2, 3]),
      Sha256: '0'.repeat(64),
    })
    await assert.rejects(ps.invoke(), (e: unknown) => {
      assert.ok(e instanceof PipelineFailedError)
      assert.ok(e.errorRecord instanceof ErrorRecord)
      assert.equal(e.errorRecord.fullyQualifiedErrorId, `${TRANSFER_ERROR_ID}.checksum`)
      assert.equal(e.errorRecord.targetObject, remote)
      assert.match(e.message, /SHA-256 mismatch after 3 bytes/)
      return true
    })
    assert.deepEqual(
      (await readdir(f.dir())).filter((n) => n.startsWith('mismatch')),
      [],
    )
  })

  test(`${label}: overwrite is refused unless asked; a missing remote file is a clear error`, async () => {
    const client = f.client()
    const a = join(f.dir(), 'ow-a.txt')
    const b = join(f.dir(), 'ow-b.txt')
    const remote = join(f.dir(), 'ow-remote.txt')
    await writeFile(a, 'first')
    await writeFile(b, 'second')
    await client.copy(a, remote)
    await assert.rejects(client.copy(b, remote), (e: unknown) => {
      assert.ok(e instanceof FileTransferError)
      assert.equal(e.code, 'ERR_FILE_TRANSFER')
      assert.equal(e.reason, 'exists')
      assert.equal(e.path, remote)
      assert.ok(e.message.includes(remote), e.message)
      assert.match(e.message, /exists/)
      assert.ok(e.cause instanceof PipelineFailedError, 'the server ErrorRecord stays reachable')
      return true
    })
    assert.equal(await readFile(remote, 'utf8'), 'first')
    await client.copy(b, remote, { overwrite: true })
    assert.equal(await readFile(remote, 'utf8'), 'second')

    await assert.rejects(client.fetch(remote, a), (e: unknown) => {
      assert.ok(e instanceof FileTransferError)
      assert.equal(e.reason, 'exists')
      assert.equal(e.path, a)
      return true
    })
    assert.equal(await readFile(a, 'utf8'), 'first')
    await client.fetch(remote, a, { overwrite: true })
    assert.equal(await readFile(a, 'utf8'), 'second')

    const missing = join(f.dir(), 'does-not-exist.bin')
    await assert.rejects(client.fetch(missing, join(f.dir(), 'never.bin')), (e: unknown) => {
      assert.ok(e instanceof FileTransferError)
      assert.equal(e.reason, 'not-found')
      assert.equal(e.path, missing)
      assert.ok(e.message.includes(missing), e.message)
      assert.match(e.message, /no such file/)
      return true
    })
    await assert.rejects(stat(join(f.dir(), 'never.bin')), /ENOENT/)
    // every transfer failure has FileTransferError's code (a missing local file was InvalidArgumentError)
    await assert.rejects(
      client.copy(join(f.dir(), 'no-local.bin'), remote, { overwrite: true }),
      (e: unknown) => {
        assert.ok(e instanceof FileTransferError)
        assert.equal(e.reason, 'not-found')
        assert.equal(e.path, join(f.dir(), 'no-local.bin'))
        return true
      },
    )
  })

  test(`${label}: expandVariables expands remote and local paths`, async () => {
    const client = f.client()
    const src = join(f.dir(), 'expand.txt')
    await writeFile(src, 'expanded')
    const r = await client.copy(src, '$env:PSRP_CLIENT_DIR/expanded.txt', { expandVariables: true })
    assert.equal(r.destination, join(f.dir(), 'expanded.txt'))
    assert.equal(await readFile(join(f.dir(), 'expanded.txt'), 'utf8'), 'expanded')
    const back = join(f.dir(), 'expanded-back.txt')
    await client.fetch('$env:PSRP_CLIENT_DIR/expanded.txt', back, { expandVariables: true })
    assert.equal(await readFile(back, 'utf8'), 'expanded')
    // as pypsrp: %VAR% on the remote path, $VAR on the local one
    process.env['PSRP_LOCAL_EXPAND'] = f.dir()
    try {
      const pct = await client.copy('$PSRP_LOCAL_EXPAND/expand.txt', '%PSRP_CLIENT_DIR%/pct.txt', {
        expandVariables: true,
      })
      assert.equal(pct.destination, join(f.dir(), 'pct.txt'))
      await client.fetch('%PSRP_CLIENT_DIR%/pct.txt', '${PSRP_LOCAL_EXPAND}/pct-back.txt', {
        expandVariables: true,
      })
      assert.equal(await readFile(join(f.dir(), 'pct-back.txt'), 'utf8'), 'expanded')
    } finally {
      delete process.env['PSRP_LOCAL_EXPAND']
    }
  })

  test(`${label}: an aborted copy stops the remote pipeline and leaves no file behind`, async () => {
    const client = f.client()
    const src = join(f.dir(), 'abort-src.bin')
    await randomFile(src, 24 * MiB)
    const remoteDir = join(f.dir(), 'abort-remote')
    await mkdir(remoteDir, { recursive: true })
    const ac = new AbortController()
    await assert.rejects(
      client.copy(src, join(remoteDir, 'x.bin'), {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes > 2 * MiB) ac.abort()
        },
      }),
      AbortError,
    )
    assert.deepEqual(await readdir(remoteDir), [])
    await assert.rejects(
      client.copy(src, join(remoteDir, 'y.bin'), { timeout: 200 }),
      (e: unknown) => e instanceof TimeoutError,
    )
    assert.deepEqual(await readdir(remoteDir), [])
  })

  test(
    `${label}: a tree of 1,000 files copies and fetches back identical`,
    { timeout: 180_000 },
    async () => {
      const client = f.client()
      const tree = join(f.dir(), 'tree')
      const expected = new Map<string, string>()
      for (let d = 0; d < 10; d++) {
        await mkdir(join(tree, `d${d}`, 'sub'), { recursive: true })
        for (let i = 0; i < 100; i++) {
          const rel = i % 2 === 0 ? `d${d}/f${i}.txt` : `d${d}/sub/f${i}.bin`
          const body = i % 10 === 0 ? Buffer.alloc(0) : randomBytes(1 + ((d * 100 + i) % 3000))
          await writeFile(join(tree, rel), body)
          expected.set(rel, createHash('sha256').update(body).digest('hex'))
        }
      }
      await mkdir(join(tree, 'empty'))
      const t0 = Date.now()
      const up = await client.copy(tree, join(f.dir(), 'tree-remote'))
      const upMs = Date.now() - t0
      assert.equal(up.files, 1000)
      const t1 = Date.now()
      const down = await client.fetch(join(f.dir(), 'tree-remote'), join(f.dir(), 'tree-back'))
      const downMs = Date.now() - t1
      assert.equal(down.files, 1000)
      for (const [rel, hash] of expected) {
        assert.equal(await sha256File(join(f.dir(), 'tree-back', ...rel.split('/'))), hash, rel)
      }
      assert.ok((await stat(join(f.dir(), 'tree-back', 'empty'))).isDirectory())
      // copying again without overwrite is refused before anything is sent
      await assert.rejects(client.copy(tree, join(f.dir(), 'tree-remote')), (e: unknown) => {
        assert.ok(e instanceof FileTransferError)
        assert.equal(e.reason, 'exists')
        assert.match(e.message, /1000 file\(s\) exist/)
        return true
      })
      console.log(`# ${label}: 1,000-file tree copy ${upMs} ms, fetch ${downMs} ms`)
    },
  )
}

function defineBigFileScenario(label: string, f: Fixture): void {
  test(
    `${label}: 200 MiB copy and fetch with bounded client memory`,
    { skip: bigSkip, timeout: 600_000 },
    async () => {
      const client = f.client()
      const src = join(f.dir(), 'big.bin')
      const hash = await randomFile(src, 200 * MiB)
      const remote = join(f.dir(), 'big-remote.bin')
      const back = join(f.dir(), 'big-back.bin')
      let t0 = Date.now()
      const upGrowth = await peakGrowth(() => client.copy(src, remote))
      const upS = (Date.now() - t0) / 1000
      assert.equal(await remoteHash(client, remote), hash)
      t0 = Date.now()
      const downGrowth = await peakGrowth(() => client.fetch(remote, back))
      const downS = (Date.now() - t0) / 1000
      assert.equal(await sha256File(back), hash)
      console.log(
        `# ${label}: 200 MiB copy ${(200 / upS).toFixed(1)} MiB/s (+${(upGrowth / MiB).toFixed(0)} MiB), fetch ${(200 / downS).toFixed(1)} MiB/s (+${(downGrowth / MiB).toFixed(0)} MiB)`,
      )
      // live memory, not garbage: buffering the file would need at least its 200 MiB (more as base64).
      // Measured +11-13 MiB for a copy (input waits for an ack every 4 MiB) and +2-3 MiB for a fetch
      // (at most 8 buffered chunks of 1 MiB), over pwsh -s and WS-Man alike
      assert.ok(upGrowth < 48 * MiB, `copy grew memory by ${(upGrowth / MiB).toFixed(0)} MiB`)
      assert.ok(downGrowth < 16 * MiB, `fetch grew memory by ${(downGrowth / MiB).toFixed(0)} MiB`)
      await rm(src)
      await rm(back)
      await rm(remote)
    },
  )
}

describe('Client over a local pwsh', { skip }, () => {
  let dir = ''
  let client: Client | undefined
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'psrp-client-'))
    client = new Client({
      local: true,
      executable: pwsh as string,
      env: { PSRP_CLIENT_DIR: dir },
    })
  })
  after(async () => {
    await client?.close()
    await rm(dir, { recursive: true, force: true })
  })
  const fixture: Fixture = { client: () => client as Client, dir: () => dir }
  defineCommonScenarios('pwsh -s', fixture)
  defineBigFileScenario('pwsh -s', fixture)

  test("pwsh -s: copy, fetch and runCmd leave the runspace's variables and preferences alone", async () => {
    // one runspace, so every call sees what the previous ones left behind
    const c = new Client(new ProcessConnection({ executable: pwsh as string }), { maxRunspaces: 1 })
    try {
      const state = async (): Promise<string> =>
        String((await c.runPs('"$ErrorActionPreference $($null -eq $psi) $($null -eq $fs)"')).output[0])
      const before = await state()
      assert.equal(before, 'Continue True True')
      const src = join(dir, 'scope-src.txt')
      await writeFile(src, 'scope')
      await c.copy(src, join(dir, 'scope-remote.txt'), { overwrite: true })
      await c.fetch(join(dir, 'scope-remote.txt'), join(dir, 'scope-back.txt'), { overwrite: true })
      await c.runCmd('true')
      assert.equal(await state(), before)
      // so a non-terminating error stays non-terminating
      const r = await c.runPs('Write-Error "soft"; "went on"')
      assert.deepEqual(r.output, ['went on'])
      assert.equal(r.hadErrors, true)
    } finally {
      await c.close()
    }
  })

  test('pwsh -s: runPs parameters in ConstrainedLanguage, where the parser may not be asked', async () => {
    const c = new Client(new ProcessConnection({ executable: pwsh as string }), { maxRunspaces: 1 })
    try {
      await c.runPs('$ExecutionContext.SessionState.LanguageMode = "ConstrainedLanguage"')
      // the script is sent as given: its own param block (after a comment) still binds
      const r = await c.runPs('# c\nparam($n) "$n|$($ExecutionContext.SessionState.LanguageMode)"', {
        parameters: { n: 1 },
      })
      assert.deepEqual(r.output, ['1|ConstrainedLanguage'])
    } finally {
      await c.close()
    }
  })

  test('pwsh -s: one pool for concurrent first calls; spawnCmd needs WinRS', async () => {
    const c = new Client(new ProcessConnection({ executable: pwsh as string }), { maxRunspaces: 2 })
    try {
      const [a, b, pool1, pool2] = await Promise.all([c.runPs('$PID'), c.runPs('$PID'), c.pool(), c.pool()])
      assert.equal(pool1, pool2)
      assert.equal(pool1.maxRunspaces, 2)
      assert.equal(a.output[0], b.output[0])
      await assert.rejects(c.spawnCmd('ls'), NotSupportedError)
    } finally {
      await c.close()
    }
    await assert.rejects(c.runPs('1'), /closed/)
  })
})

describe('Client.runCmd without WinRS (PowerShell starts the program)', { skip }, () => {
  let client: Client | undefined
  before(() => {
    client = new Client(new ProcessConnection({ executable: pwsh as string }))
  })
  after(async () => {
    await client?.close()
  })

  test(
    'megabytes on stdout and stderr at once, and on stdin, without a deadlock',
    { timeout: 60_000 },
    async () => {
      const c = client as Client
      const input = randomBytes(3 * 1024 * 1024)
      const r = await c.runCmd(
        '/bin/sh',
        [
          '-c',
          'head -c 2000000 /dev/zero | tr "\\0" o & head -c 1000000 /dev/zero | tr "\\0" e >&2 & wc -c; wait',
        ],
        { stdin: input },
      )
      assert.equal(r.rc, 0)
      assert.equal(r.stdout.length, 2_000_000 + String(input.length).length + 1)
      assert.ok(r.stdout.includes(String(input.length)))
      assert.equal(r.stderr, 'e'.repeat(1_000_000))
    },
  )

  test('a timeout stops the pipeline and kills the program; a missing program is named', async () => {
    const c = client as Client
    const marker = `${process.pid}${Date.now() % 100000}`
    const t0 = Date.now()
    await assert.rejects(
      c.runCmd('/bin/sh', ['-c', `sleep 30; echo ${marker}`], { timeout: 1000 }),
      TimeoutError,
    )
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`)
    let alive = true
    for (let i = 0; i < 50 && alive; i++) {
      const ps = await c.runCmd('ps', ['-eo', 'args'])
      alive = ps.stdout.includes(`echo ${marker}`)
      if (alive) await new Promise((r) => setTimeout(r, 100))
    }
    assert.equal(alive, false, 'the program still runs after the timeout')
    await assert.rejects(
      c.runCmd('no-such-program-psrp', []),
      (e: unknown) => e instanceof PipelineFailedError && /cannot start no-such-program-psrp/.test(e.message),
    )
  })
})

describe('Client over the WinRM bridge', { skip }, () => {
  let dir = ''
  let bridge: WinRMBridge | undefined
  let client: Client | undefined
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'psrp-client-wsman-'))
    process.env['PSRP_CLIENT_DIR'] = dir // the bridge's pwsh processes inherit it
    bridge = await startWinRMBridge({ pwsh: pwsh as string, username: 'psrp', password: 'client' })
    client = new Client('127.0.0.1', {
      port: bridge.port,
      ssl: false,
      auth: 'basic',
      username: 'psrp',
      password: 'client',
      allowUnencryptedBasic: true,
      operationTimeout: 5,
    })
  })
  after(async () => {
    await client?.close()
    await bridge?.close()
    delete process.env['PSRP_CLIENT_DIR']
    await rm(dir, { recursive: true, force: true })
  })
  const fixture: Fixture = { client: () => client as Client, dir: () => dir }
  defineCommonScenarios('WS-Man', fixture)
  // the bridge (same process) remembers every request; keep its log short so only the client is measured
  // no trimming of bridge.requests: the bridge's request log is part of the memory bound
  defineBigFileScenario('WS-Man', fixture)

  test('WS-Man: runPs asks the parser about a script once; a script starting with param( not at all', async () => {
    const c = client as Client
    const b = bridge as WinRMBridge
    const commands = (): number => b.requests.filter((r) => r.action.endsWith('/shell/Command')).length
    const script = `"once $n" # ${Date.now()}`
    let before = commands()
    assert.deepEqual((await c.runPs(script, { parameters: { n: 1 } })).output, ['once 1'])
    assert.equal(commands() - before, 2) // the parse and the script
    before = commands()
    assert.deepEqual((await c.runPs(script, { parameters: { n: 2 } })).output, ['once 2'])
    assert.equal(commands() - before, 1)
    before = commands()
    assert.deepEqual((await c.runPs(' param($n) "p $n"', { parameters: { n: 3 } })).output, ['p 3'])
    assert.equal(commands() - before, 1)
  })

  test('WS-Man: a transfer first reads the server envelope limit, once per connection; a chunk then fills one envelope of it', async () => {
    const b = bridge as WinRMBridge
    const count = (suffix: string): number => b.requests.filter((r) => r.action.endsWith(suffix)).length
    const gets = (): number => count('/transfer/Get')
    const sends = (): number => count('/shell/Send')
    const src = join(dir, 'envelope-src.bin')
    const data = randomBytes(2 * MiB)
    await writeFile(src, data)
    const open = (maxEnvelopeSize?: number): Client =>
      new Client('127.0.0.1', {
        port: b.port,
        ssl: false,
        auth: 'basic',
        username: 'psrp',
        password: 'client',
        allowUnencryptedBasic: true,
        ...(maxEnvelopeSize === undefined ? {} : { maxEnvelopeSize }),
      })
    const own = open()
    try {
      assert.ok(own.connection instanceof WSManConnection)
      // 153,600-byte envelopes: 112,128 bytes of PSRP per Send, 83,328 of file data after base64
      assert.equal(own.chunkSize, 82_944)
      let g = gets()
      const s = sends()
      await own.copy(src, join(dir, 'envelope-remote.bin'))
      assert.equal(gets() - g, 1, 'the configuration was read once, before the copy')
      assert.equal(own.connection.maxEnvelopeSize, 512_000) // the bridge's, Windows' default
      // 512,000-byte envelopes: 380,928 bytes of PSRP per Send, 284,672 of file data after base64
      assert.equal(own.chunkSize, 284_672)
      // 2 MiB is 8 chunks of that size (26 at the old one), one Send each, and the input's end
      assert.ok(sends() - s <= 10, `${sends() - s} Sends for 2 MiB`)
      g = gets()
      await own.fetch(join(dir, 'envelope-remote.bin'), join(dir, 'envelope-back.bin'))
      assert.equal(gets() - g, 0, 'not read again')
      assert.ok(data.equals(await readFile(join(dir, 'envelope-back.bin'))))
    } finally {
      await own.close()
    }
    const given = open(153_600)
    try {
      const g = gets()
      await given.fetch(join(dir, 'envelope-remote.bin'), join(dir, 'envelope-back.bin'), { overwrite: true })
      assert.equal(gets() - g, 0, 'a maxEnvelopeSize given is used as is')
      assert.equal(given.chunkSize, 82_944)
    } finally {
      await given.close()
    }
  })

  test('WS-Man: spawnCmd streams stdout live; runCmd abort terminates the process', async () => {
    const c = client as Client
    // the program prints "second" only once we have seen "first" (giving up after 30 s with "late"):
    // output held back until the process ends would show as "late"
    const seen = join(tmpdir(), `psrp-seen-first-${process.pid}-${Date.now()}`)
    const proc = await c.spawnCmd('/bin/sh', [
      '-c',
      `echo first; i=0; while [ ! -f '${seen}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; ` +
        `if [ -f '${seen}' ]; then echo second; else echo late; fi`,
    ])
    const first = await new Promise<string>((resolve) =>
      proc.stdout.once('data', (d: Buffer) => resolve(d.toString())),
    )
    assert.equal(first, 'first\n')
    await writeFile(seen, '')
    const rest: Buffer[] = []
    for await (const chunk of proc.stdout) rest.push(chunk as Buffer)
    assert.equal(Buffer.concat(rest).toString(), 'second\n', 'the first line arrived while the process ran')
    await rm(seen, { force: true })
    assert.equal(await proc.exited, 0)

    const ac = new AbortController()
    setTimeout(() => ac.abort(), 300)
    const t1 = Date.now()
    await assert.rejects(c.runCmd('/bin/sh', ['-c', 'sleep 30'], { signal: ac.signal }), AbortError)
    assert.ok(Date.now() - t1 < 5000)
    await assert.rejects(c.runCmd('/bin/sh', ['-c', 'sleep 30'], { timeout: 300 }), TimeoutError)
  })
})
