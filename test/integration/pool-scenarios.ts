/**
 * The scenario list of issue 3 (PSRP against a real PowerShell), run over any connection: the local
 * `pwsh -s` process (pwsh.test.ts) and WinRM through the test bridge (wsman-pwsh.test.ts).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import {
  DefaultHost,
  ErrorRecord,
  InformationalRecord,
  InformationRecord,
  PipelineFailedError,
  PowerShell,
  ProgressRecord,
  PSDateTime,
  PSObject,
  PSSecureString,
  baseObject,
  RunspacePool,
  PsrpError,
  type PsrpConnection,
} from '../../src/index.ts'

/** Bound of the live heap's growth while streaming (see the stream() test). */
const LIVE_HEAP_BOUND = 4 * 1024 * 1024

/** A full garbage collection: `gc` when node runs with --expose-gc, else V8's, exposed here. */
function collectGarbage(): () => void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) return g
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** How a scenario run reaches PowerShell. */
export interface ScenarioTarget {
  /** Suite name prefix. */
  readonly label: string
  /** Skip reason when the peer is missing, else false. */
  readonly skip: string | false
  /** A new connection for one pool. */
  connect(): PsrpConnection
  /** Items streamed by the long stream test. */
  readonly streamItems: number
}

/** Registers the scenario suites for one target. */
export function definePoolScenarios(target: ScenarioTarget): void {
  const { label, skip, streamItems } = target
  const conn = (): PsrpConnection => target.connect()
  describe(label, { skip }, () => {
    let pool: RunspacePool
    const host = new DefaultHost({ readLine: () => 'typed at the prompt' })
    before(async () => {
      pool = await RunspacePool.open(conn(), { host, maxRunspaces: 4, timeout: 60_000 })
    })
    after(async () => {
      await pool?.close()
    })

    test('opens at protocol 2.3 and exposes the server PSVersionTable', () => {
      assert.equal(pool.state, 'Opened')
      assert.equal(pool.protocolVersion, '2.3')
      assert.match(String(pool.psVersionTable?.get('PSVersion')), /^7\.6\./)
    })

    test('1..10, Get-Date to the tick, and a typed custom object', async () => {
      assert.deepEqual(
        await new PowerShell(pool).addScript('1..10').invoke(),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      )
      const [date, ticks, kind] = await new PowerShell(pool)
        .addScript('$d = Get-Date; $d; $d.Ticks; [string]$d.Kind')
        .invoke()
      // Get-Date's DateTime carries a DisplayHint note property, so it arrives wrapped (lossless)
      assert.ok(date instanceof PSObject)
      assert.equal(String(baseObject(date.get('DisplayHint'))), '2')
      const value = baseObject(date)
      assert.ok(value instanceof PSDateTime)
      assert.equal(typeof ticks, 'bigint')
      assert.equal(value.ticks, ticks)
      assert.equal(kind, 'Local')
      assert.equal(value.kind, 'local')
      const [obj] = await new PowerShell(pool)
        .addScript('[pscustomobject]@{a=1;b=@{c=[long]::MaxValue}}')
        .invoke()
      assert.ok(obj instanceof PSObject)
      assert.equal(obj.get('a'), 1)
      const b = obj.get('b')
      assert.ok(b instanceof Map)
      assert.equal(b.get('c'), 9223372036854775807n)
    })

    test('all six streams fill with the right record types and texts', async () => {
      const ps = new PowerShell(pool).addScript(`
        'out'
        Write-Error 'err1'
        Write-Warning 'warn1'
        Write-Verbose 'verb1' -Verbose
        Write-Debug 'dbg1' -Debug
        Write-Information 'info1'
        Write-Progress -Activity 'act1' -Status 'half' -PercentComplete 50
      `)
      const seen: string[] = []
      ps.on('warning', (r) => seen.push(`warning:${r.message}`))
      assert.deepEqual(await ps.invoke(), ['out'])
      assert.ok(ps.streams.error[0] instanceof ErrorRecord)
      assert.equal(ps.streams.error[0].message, 'err1')
      assert.ok(ps.streams.warning[0] instanceof InformationalRecord)
      assert.equal(ps.streams.warning[0].message, 'warn1')
      assert.equal(ps.streams.verbose[0]?.message, 'verb1')
      assert.equal(ps.streams.debug[0]?.message, 'dbg1')
      assert.ok(ps.streams.information[0] instanceof InformationRecord)
      assert.equal(ps.streams.information[0].message, 'info1')
      assert.ok(
        ps.streams.progress.some(
          (p) => p instanceof ProgressRecord && p.activity === 'act1' && p.percentComplete === 50,
        ),
      )
      assert.equal(ps.hadErrors, true)
      assert.deepEqual(seen, ['warning:warn1'])
    })

    test('a terminating error fails the pipeline with its ErrorRecord', async () => {
      const ps = new PowerShell(pool).addScript("'before'\nGet-Item -Path '/no/such/path' -ErrorAction Stop")
      await assert.rejects(ps.invoke(), (e: unknown) => {
        assert.ok(e instanceof PipelineFailedError)
        const rec = e.errorRecord as ErrorRecord
        assert.ok(rec instanceof ErrorRecord)
        assert.match(rec.message, /Cannot find path '\/no\/such\/path'/)
        assert.equal(rec.fullyQualifiedErrorId, 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand')
        assert.equal(rec.categoryInfo.categoryName, 'ObjectNotFound')
        assert.match(rec.invocationInfo?.positionMessage ?? '', /line:2/i)
        return true
      })
      assert.equal(ps.state, 'Failed')
    })

    test('Write-Host and Read-Host go through the host; RawUI.WindowSize is answered by the host', async () => {
      const out = await new PowerShell(pool)
        .addScript(
          'Write-Host "hello host"; $a = Read-Host; $b = Read-Host "Name"; "$a|$b"; $Host.UI.RawUI.WindowSize.Width',
        )
        .invoke()
      assert.deepEqual(out, ['typed at the prompt|typed at the prompt', 120])
      assert.match(host.output, /hello host/)
    })

    test('a prompt without a callback gives a clear error naming the missing callback', async () => {
      // the pipeline's own host (not the pool's, which has readLine) answers; Read-Host reports the
      // failure as PowerShell does: a non-terminating error, terminating under $ErrorActionPreference = 'Stop'
      const bare = new PowerShell(pool, { host: new DefaultHost() }).addScript('Read-Host; "after"')
      assert.deepEqual(await bare.invoke(), ['after'])
      assert.equal(bare.hadErrors, true)
      assert.match(bare.streams.error[0]?.message ?? '', /no readLine callback/)
      const strict = new PowerShell(pool, { host: new DefaultHost() }).addScript(
        "$ErrorActionPreference = 'Stop'; Read-Host",
      )
      await assert.rejects(
        strict.invoke(),
        (e: unknown) => e instanceof PipelineFailedError && /no readLine callback/.test(e.message),
      )
    })

    test('100,000 input objects reach Measure-Object; 1 MiB strings arrive intact', async () => {
      const [m] = await new PowerShell(pool).addCommand('Measure-Object').invoke(
        (function* () {
          for (let i = 0; i < 100_000; i++) yield i
        })(),
      )
      assert.equal((m as PSObject).get('Count'), 100_000)
      const big = 'x'.repeat(1024 * 1024 - 3) + 'end'
      const lens = await new PowerShell(pool)
        .addScript('$input | ForEach-Object { $_.Length; $_.Substring($_.Length - 3) }')
        .invoke([big, big])
      assert.deepEqual(lens, [big.length, 'end', big.length, 'end'])
    })

    test(
      `stream() delivers 1..${streamItems} in order with bounded memory`,
      { timeout: 30 * 60_000 },
      async () => {
        const gc = collectGarbage()
        gc()
        const before = process.memoryUsage().heapUsed
        let expected = 1
        let peak = 0
        let livePeak = 0
        for await (const n of new PowerShell(pool).addScript(`1..${streamItems}`).stream()) {
          assert.equal(n, expected)
          expected++
          if ((expected & 0x3fff) === 0) {
            peak = Math.max(peak, process.memoryUsage().heapUsed - before)
            gc()
            livePeak = Math.max(livePeak, process.memoryUsage().heapUsed - before)
          }
        }
        assert.equal(expected, streamItems + 1)
        // every item is ~300 bytes of packet, fragment and XML on the way in: keeping them (or their
        // events) would cost hundreds of MiB; garbage between collections stays far below this bound
        assert.ok(peak < 64 * 1024 * 1024, `heap grew by ${(peak / 1048576).toFixed(1)} MiB`)
        // what is still reachable after a full collection, every 16,384 items: the stream holds
        // a bounded window (well under 1 MiB), so anything kept per item shows. The bound is 4 MiB:
        // at 200,000 items that is 21 bytes an item, less than one retained object or event
        // (a bare array of the numbers, 8 bytes each, is the one leak too small to see here)
        assert.ok(
          livePeak < LIVE_HEAP_BOUND,
          `live heap grew by ${(livePeak / 1048576).toFixed(2)} MiB over ${streamItems} items`,
        )
      },
    )

    test(
      'stream() pushes back: a stalled consumer blocks the server instead of buffering its output',
      { timeout: 120_000 },
      async () => {
        // The server counts each item into a progress file (one byte appended) before writing it,
        // and stamps the item with its clock. The consumer stalls after the first item until that
        // count has stood still for a while: the server is blocked. A bounded transport (a pipe;
        // an SSH channel window plus TCP buffers: a few MiB) gets there after a share of the
        // items; a buffer that grows without bound never does, because the server writes them
        // all. Waiting on the server's own count, not a fixed time, keeps a slow server (a loaded
        // CI machine, a cold JIT) from looking like one that never blocks: CI failed over SSH
        // with a fixed 3 s stall when the server had written only 1,411 items by its end.
        const items = 10_000
        const quietMs = 1500
        const maxStallMs = 60_000
        const dir = await mkdtemp(join(tmpdir(), 'psrp-pushback-'))
        await chmod(dir, 0o777) // the SSH target's pwsh may run as another local user
        const progressPath = join(dir, 'written')
        try {
          const ps = new PowerShell(pool).addScript(
            `$pad = 'x' * 1000; $path = '${progressPath.replaceAll("'", "''")}'; ` +
              `1..${items} | ForEach-Object { [IO.File]::AppendAllText($path, '.'); ` +
              `"$([DateTimeOffset]::Now.ToUnixTimeMilliseconds()) $pad" }`,
          )
          // one byte appended per item: the file's size is the count, never a torn read
          const readCount = async (): Promise<number> =>
            (await stat(progressPath).catch(() => ({ size: 0 }))).size
          let stallEnd = 0
          let countAtStallEnd = 0
          const stamps: number[] = []
          for await (const t of ps.stream(undefined, { highWaterMark: 50 })) {
            stamps.push(Number(String(t).split(' ')[0]))
            if (stamps.length === 1) {
              const stallStart = Date.now()
              let last = await readCount()
              let lastChange = Date.now()
              while (Date.now() - lastChange < quietMs && Date.now() - stallStart < maxStallMs) {
                await new Promise((r) => setTimeout(r, 100))
                const n = await readCount()
                if (n > last) {
                  last = n
                  lastChange = Date.now()
                }
              }
              stallEnd = Date.now()
              countAtStallEnd = last
            }
          }
          assert.equal(stamps.length, items)
          const writtenDuringStall = stamps.filter((t) => t < stallEnd - 100).length
          const stampedLateInStall = stamps.filter(
            (t) => t >= stallEnd - quietMs + 100 && t < stallEnd - 100,
          ).length
          const summary =
            `the server had counted ${countAtStallEnd} of ${items} items when the consumer resumed; ` +
            `${writtenDuringStall} were stamped during the stall, ${stampedLateInStall} in its last ${quietMs - 200} ms`
          assert.ok(countAtStallEnd < items / 2, `the server never blocked: ${summary}`)
          assert.equal(stampedLateInStall, 0, `the server kept writing: ${summary}`)
          assert.ok(writtenDuringStall < items / 2, summary)
          assert.ok(
            stamps.at(-1)! >= stallEnd - 100,
            `the server finished before the consumer resumed: ${summary}`,
          )
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      },
    )

    test(
      'Start-Sleep 60 is stopped by stop() and by an AbortSignal within 2 s; the pool stays usable',
      { timeout: 20_000 },
      async () => {
        const ps = new PowerShell(pool).addScript('Start-Sleep 60')
        const run = ps.invoke()
        run.catch(() => undefined)
        await new Promise((r) => setTimeout(r, 500))
        const t0 = Date.now()
        await ps.stop()
        await assert.rejects(run, (e: unknown) => e instanceof PsrpError && e.code === 'ERR_PIPELINE_STOPPED')
        assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`)
        assert.equal(ps.state, 'Stopped')

        const ac = new AbortController()
        setTimeout(() => ac.abort(), 500)
        const t1 = Date.now()
        await assert.rejects(
          new PowerShell(pool).addScript('Start-Sleep 60').invoke(undefined, { signal: ac.signal }),
          { code: 'ERR_ABORTED' },
        )
        assert.ok(Date.now() - t1 < 2500, `abort took ${Date.now() - t1} ms`)
        assert.deepEqual(await new PowerShell(pool).addScript('"still usable"').invoke(), ['still usable'])
      },
    )

    test('four pipelines run concurrently on maxRunspaces 4', { timeout: 30_000 }, async () => {
      // a rendezvous in the server process: each pipeline counts itself in, then waits (15 s at most)
      // for all four; run one after another, the first would never see the others
      const key = `psrp-rendezvous-${randomUUID()}`
      const script = `param($key, $i)
$d = [AppDomain]::CurrentDomain
[System.Threading.Monitor]::Enter($d)
try { $d.SetData($key, [int]$d.GetData($key) + 1) } finally { [System.Threading.Monitor]::Exit($d) }
$deadline = [DateTime]::UtcNow.AddSeconds(15)
while ([int]$d.GetData($key) -lt 4 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
"$i saw $([int]$d.GetData($key))"`
      const runs = [1, 2, 3, 4].map((i) =>
        new PowerShell(pool).addScript(script).addParameters({ key, i }).invoke(),
      )
      assert.deepEqual((await Promise.all(runs)).flat(), ['1 saw 4', '2 saw 4', '3 saw 4', '4 saw 4'])
    })

    test('emoji, lone surrogates, control characters, _x000A_ literals and 1 MiB of text survive both ways', async () => {
      const samples = [
        'emoji 💩🎉',
        'lone \ud800 high',
        'lone \udc00 low',
        'ctl \u0000\u0001\t\r\n\u001f\u007f\u0085',
        '_x000A_ and _X0041_',
        'é'.repeat(512 * 1024),
      ]
      for (const s of samples) {
        const [echo, units] = await new PowerShell(pool)
          .addScript('param($s) $s; ($s.ToCharArray() | ForEach-Object { [int]$_ }) -join ","')
          .addParameter('s', s)
          .invoke()
        assert.equal(echo, s)
        assert.equal(
          units,
          [...s].flatMap((c) => [...Array(c.length).keys()].map((k) => c.charCodeAt(k))).join(','),
        )
      }
    })

    test(
      'getAvailableRunspaces, setMaxRunspaces, setMinRunspaces and getCommandMetadata',
      { timeout: 20_000 },
      async () => {
        await using other = await RunspacePool.open(conn(), { maxRunspaces: 3, timeout: 60_000 })
        assert.equal(await other.getAvailableRunspaces(), 3)
        assert.equal(await other.setMaxRunspaces(5), true)
        assert.equal(other.maxRunspaces, 5)
        assert.equal(await other.getAvailableRunspaces(), 5)
        assert.equal(await other.setMinRunspaces(2), true)
        assert.equal(other.minRunspaces, 2)
        assert.equal(await other.setMinRunspaces(9), false)
        assert.equal(other.minRunspaces, 2)
        const meta = await other.getCommandMetadata(['Get-Item', 'Get-ChildItem'])
        assert.deepEqual(meta.map((m) => m.commandName).sort(), ['Get-ChildItem', 'Get-Item'])
        assert.ok(meta[0]?.parameters.has('Path'))
      },
    )

    test(
      'resetRunspaceState clears variables on a one-runspace pool; the server refuses it on larger pools',
      { timeout: 20_000 },
      async () => {
        await using single = await RunspacePool.open(conn(), { maxRunspaces: 1, timeout: 60_000 })
        await new PowerShell(single).addScript('$global:leftover = 42').invoke()
        assert.deepEqual(await new PowerShell(single).addScript('$global:leftover').invoke(), [42])
        assert.equal(await single.resetRunspaceState(), true)
        assert.deepEqual(await new PowerShell(single).addScript('$global:leftover').invoke(), [null])
        assert.equal(await pool.resetRunspaceState(), false)
      },
    )
  })

  describe(
    `${label}, one runspace: builder, scopes, history, application arguments, events`,
    { skip },
    () => {
      let pool: RunspacePool
      const poolStates: string[] = []
      before(async () => {
        pool = await RunspacePool.open(conn(), {
          maxRunspaces: 1,
          timeout: 60_000,
          applicationArguments: { app: 'psrp-test', n: 7 },
        })
        pool.on('stateChanged', (state) => poolStates.push(state))
      })
      after(async () => {
        await pool?.close()
      })

      test('commands, parameters, arguments and statements build the pipeline PowerShell runs', async () => {
        const out = await new PowerShell(pool)
          .addCommand('Write-Output')
          .addParameter('InputObject', 'by name')
          .addStatement()
          .addCommand('Write-Output')
          .addArgument('by position')
          .addStatement()
          .addCommand('Get-Command')
          .addParameters({ Name: 'Get-Item', CommandType: 'Cmdlet' })
          .addCommand('Select-Object')
          .addParameter('ExpandProperty', 'Name')
          .invoke()
        assert.deepEqual(out, ['by name', 'by position', 'Get-Item'])
      })

      test('mergeError and mergeAll route records into the output in order', async () => {
        const ps = new PowerShell(pool).addScript("'a'; Write-Error 'boom'; 'b'").mergeError()
        const out = await ps.invoke()
        assert.equal(out.length, 3)
        assert.equal(out[0], 'a')
        assert.ok(out[1] instanceof ErrorRecord)
        assert.equal(out[1].message, 'boom')
        assert.equal(out[2], 'b')
        assert.equal(ps.streams.error.length, 0)
        const all = new PowerShell(pool).addScript("Write-Warning 'w'; Write-Information 'i'; 'o'").mergeAll()
        const merged = await all.invoke()
        assert.equal(merged.length, 3)
        assert.ok(merged[0] instanceof InformationalRecord && merged[0].message === 'w')
        assert.ok(merged[1] instanceof InformationRecord && merged[1].message === 'i')
        assert.equal(merged[2], 'o')
        assert.equal(all.streams.warning.length, 0)
      })

      test('useLocalScope keeps script variables local; the default runs in the global scope', async () => {
        await new PowerShell(pool).addScript('$psrpGlobal = 1').invoke()
        await new PowerShell(pool).addScript('$psrpLocal = 2', true).invoke()
        assert.deepEqual(await new PowerShell(pool).addScript('$psrpGlobal; $null -eq $psrpLocal').invoke(), [
          1,
          true,
        ])
      })

      test('addToHistory records the command line in Get-History', async () => {
        await new PowerShell(pool).addScript("'remember me'").addToHistory().invoke()
        await new PowerShell(pool).addScript("'forget me'").invoke()
        const history = await new PowerShell(pool)
          .addScript('Get-History | ForEach-Object CommandLine')
          .invoke()
        assert.ok(history.includes("'remember me'"))
        assert.ok(!history.includes("'forget me'"))
      })

      test('input from an async iterable is streamed into the pipeline', async () => {
        async function* produce(): AsyncGenerator<number> {
          for (let i = 1; i <= 300; i++) {
            if (i % 100 === 0) await new Promise((r) => setTimeout(r, 10))
            yield i
          }
        }
        const [sum] = await new PowerShell(pool)
          .addScript('($input | Measure-Object -Sum).Sum')
          .invoke(produce())
        // Measure-Object's Sum is a double; an integral double stays a PSDouble so it re-serializes as <Db>
        assert.equal(Number(sum), 45150)
      })

      test('application arguments reach $PSSenderInfo; the server PSVersionTable is the private data', async () => {
        const [app, n] = await new PowerShell(pool)
          .addScript('$PSSenderInfo.ApplicationArguments.app; $PSSenderInfo.ApplicationArguments.n')
          .invoke()
        assert.equal(app, 'psrp-test')
        assert.equal(n, 7)
        const [edition] = await new PowerShell(pool).addScript('$PSVersionTable.PSEdition').invoke()
        assert.equal(pool.psVersionTable?.get('PSEdition'), edition)
      })

      test('forwarded engine events arrive as userEvent', async () => {
        const events: { sourceIdentifier: string; messageData?: unknown; timeGenerated: unknown }[] = []
        pool.on('userEvent', (e) => events.push(e))
        await new PowerShell(pool)
          .addScript(
            "$null = Register-EngineEvent -SourceIdentifier Psrp.Test -Forward; $null = New-Event -SourceIdentifier Psrp.Test -MessageData 'hello client'; Start-Sleep -Milliseconds 200",
          )
          .invoke()
        for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
        assert.equal(events.length, 1)
        assert.equal(events[0]?.sourceIdentifier, 'Psrp.Test')
        assert.equal(events[0]?.messageData, 'hello client')
        assert.ok(events[0]?.timeGenerated instanceof PSDateTime)
      })

      test('stateChanged reports Closing and Closed on close', async () => {
        const other = await RunspacePool.open(conn(), { timeout: 60_000 })
        const seen: string[] = []
        other.on('stateChanged', (state) => seen.push(state))
        await other.close()
        await other.close()
        assert.deepEqual(seen.slice(-2), ['Closing', 'Closed'])
        assert.equal(other.state, 'Closed')
        assert.deepEqual(poolStates, [])
      })
    },
  )

  describe(`${label} SecureString`, { skip }, () => {
    for (const protocolVersion of ['2.3', '2.4'] as const) {
      test(`a SecureString parameter decrypts server-side at protocol ${protocolVersion}`, async () => {
        await using pool = await RunspacePool.open(conn(), { protocolVersion, timeout: 60_000 })
        assert.equal(pool.protocolVersion, protocolVersion)
        await pool.exchangeKeys({ timeout: 30_000 })
        const [plain] = await new PowerShell(pool)
          .addScript('param($s) [Net.NetworkCredential]::new("", $s).Password')
          .addParameter('s', new PSSecureString('p@ss wörd 💩'))
          .invoke()
        assert.equal(plain, 'p@ss wörd 💩')
        const [back] = await new PowerShell(pool)
          .addScript('ConvertTo-SecureString "from server" -AsPlainText -Force')
          .invoke()
        assert.ok(back instanceof PSSecureString)
        assert.equal(back.reveal(), 'from server')
      })
    }
  })
}
