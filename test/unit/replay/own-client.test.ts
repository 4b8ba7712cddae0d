/**
 * Our own sans-IO stack (src/psrp ClientRunspacePool + src/wsman envelopes) driven through the
 * scenarios of the simpler PSRP recordings against the replay server over HTTP: no mismatch, every
 * required exchange consumed, and the outputs and final states the scenario expects. This proves the
 * replay server accepts a client that is not pypsrp (fresh GUIDs, .NET byte order against RFC-order
 * recordings, its own CLIXML), and that scenarios carry what a driver needs.
 *
 * The WinRS recordings go the same way through src/wsman's WinRS requests: stdout, stderr and exit
 * codes as the scenario expects.
 *
 * It is a small driver, not the project's: no host, key exchange or disconnect.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import { listRecordings, readRecording } from '../../helpers/recordings.ts'
import {
  deriveScenario,
  startReplayServer,
  type ReplayServer,
  type Scenario,
} from '../../helpers/winrm-replay.ts'
import {
  ClientRunspacePool,
  decodeMessageBody,
  isTerminalPipelineState,
  type PipelineStateName,
} from '../../../src/psrp/index.ts'
import {
  buildEnvelope,
  parseResponse,
  psrpCommand,
  psrpCreate,
  psrpDelete,
  psrpReceive,
  psrpSend,
  winrsCommand,
  winrsCreate,
  winrsDelete,
  winrsReceive,
  winrsSend,
  winrsSignal,
  type SignalCodeInput,
  type WSManRequest,
} from '../../../src/wsman/index.ts'

const corpus = corpusDir()
const dir = corpus === undefined ? undefined : join(corpus, 'pypsrp')
const skip = peerSkip(
  'recorded corpus',
  dir !== undefined && existsSync(dir),
  'put the shared folder beside the checkout (../shared/corpus)',
)

/** What this small driver can do. */
const SUPPORTED = new Set([
  'psrp',
  'rfc-guid-order',
  'multiple-pipelines',
  'multiple-statements',
  'merge-streams',
  'history',
  'pipeline-input',
  'pipeline-failed',
  'timed-out',
  'signal',
  'reused-pipeline-id',
  'application-arguments',
  'stream-debug',
  'stream-error',
  'stream-information',
  'stream-progress',
  'stream-verbose',
  'stream-warning',
])

// pypsrp sends RedirectShellErrorOutputPipe=false, our pipelines true (PowerShell's default for
// remote pipelines): a known, harmless difference
const IGNORE = ['CREATE_PIPELINE:PowerShell.RedirectShellErrorOutputPipe']

async function drive(
  server: ReplayServer,
  s: Scenario,
): Promise<Map<string, { output: number; state?: string }>> {
  const post = async (req: WSManRequest): Promise<ReturnType<typeof parseResponse>> => {
    const res = await fetch(server.url, { method: 'POST', body: buildEnvelope(req, { to: server.url }) })
    const text = await res.text()
    assert.deepEqual(server.mismatches, [], 'mismatch')
    return parseResponse(text)
  }
  const open = s.steps.find((x) => x.op === 'pool.open')
  assert.ok(open !== undefined && open.op === 'pool.open')
  const init = open.clixml === null ? undefined : decodeMessageBody(0x00010004, open.clixml)
  const f = init?.type === 'INIT_RUNSPACEPOOL' ? init.fields : undefined
  const pool = new ClientRunspacePool({
    minRunspaces: open.minRunspaces ?? 1,
    maxRunspaces: open.maxRunspaces ?? 1,
    ...(f?.applicationArguments instanceof Map ? { applicationArguments: f.applicationArguments } : {}),
  })
  const results = new Map<string, { output: number; state?: string }>()
  const pipeNames = new Map<string, string>()

  /** Receives until `done` says so. */
  const receive = async (pipelineId: string | undefined, done: () => boolean): Promise<void> => {
    for (let polls = 0; polls < 50 && !done(); polls++) {
      const r = await post(
        psrpReceive({ shellId: pool.id, ...(pipelineId === undefined ? {} : { pipelineId }) }),
      )
      if (r.kind === 'timedOut') continue
      assert.equal(r.kind, 'receive', JSON.stringify(r))
      if (r.kind !== 'receive') return
      for (const st of r.streams) pool.receiveData(st.data, pipelineId)
      for (let ev = pool.nextEvent(); ev !== undefined; ev = pool.nextEvent()) {
        if (ev.type === 'pipelineOutput') {
          const name = pipeNames.get(ev.pipelineId) as string
          const entry = results.get(name) as { output: number; state?: string }
          entry.output++
        }
        if (ev.type === 'pipelineState') {
          const entry = results.get(pipeNames.get(ev.pipelineId) as string) as {
            output: number
            state?: string
          }
          entry.state = ev.state
        }
      }
    }
  }
  /** Sends whatever the pool has queued (Send requests). */
  const flush = async (): Promise<void> => {
    for (let p = pool.dataToSend(1 << 20); p !== undefined; p = pool.dataToSend(1 << 20)) {
      await post(
        psrpSend({
          shellId: pool.id,
          data: p.data,
          stream: p.stream === 'promptResponse' ? 'pr' : 'stdin',
          ...(p.pipelineId === undefined ? {} : { pipelineId: p.pipelineId }),
        }),
      )
    }
  }

  for (const step of s.steps) {
    switch (step.op) {
      case 'pool.open': {
        pool.open()
        const first = pool.dataToSend(1 << 20)
        assert.ok(first !== undefined)
        const created = await post(psrpCreate({ shellId: pool.id, creationXml: first.data }))
        assert.equal(created.kind, 'created')
        await receive(undefined, () => pool.state === 'Opened' || pool.state === 'Broken')
        assert.equal(pool.state, 'Opened')
        break
      }
      case 'pipeline.start': {
        const d = decodeMessageBody(0x00021006, step.clixml)
        assert.ok(d.type === 'CREATE_PIPELINE')
        const ps = pool.createPipeline({
          statements: d.fields.statements,
          hasInput: !d.fields.noInput,
          addToHistory: d.fields.addToHistory,
          isNested: d.fields.isNested,
          remoteStreamOptions: d.fields.remoteStreamOptions,
          ...(d.fields.history === undefined ? {} : { history: d.fields.history }),
        })
        pipeNames.set(ps.id, step.pipeline)
        results.set(step.pipeline, { output: 0 })
        ps.start()
        const payload = pool.dataToSend(1 << 20)
        assert.ok(payload !== undefined)
        await post(psrpCommand({ shellId: pool.id, pipelineId: ps.id, arguments: payload.data }))
        if (d.fields.noInput) {
          await receive(ps.id, () => {
            const st = results.get(step.pipeline)?.state
            return st !== undefined && isTerminalPipelineState(st as PipelineStateName)
          })
        }
        break
      }
      case 'pipeline.input':
      case 'pipeline.endInput': {
        const id = [...pipeNames].find(([, n]) => n === step.pipeline)?.[0]
        assert.ok(id !== undefined)
        const ps = pool.pipelines.get(id)
        assert.ok(ps !== undefined)
        if (step.op === 'pipeline.input') {
          ps.sendInput(
            step.clixml.map((x) => (decodeMessageBody(0x00041002, x).fields as { value: unknown }).value),
          )
          await flush()
        } else {
          ps.endInput()
          await flush()
          await receive(id, () => {
            const st = results.get(step.pipeline)?.state
            return st !== undefined && isTerminalPipelineState(st as PipelineStateName)
          })
        }
        break
      }
      case 'pool.close':
        await post(psrpDelete({ shellId: pool.id }))
        break
      default:
        break
    }
  }
  return results
}

test('own client: our sans-IO stack replays the simpler PSRP recordings', { skip }, async () => {
  let replayed = 0
  const names: string[] = []
  for (const file of listRecordings(dir as string)) {
    const exchanges = readRecording(file)
    const name = basename(file, '.yml')
    const s = deriveScenario(exchanges, name)
    if (!s.kinds.every((k) => SUPPORTED.has(k))) continue
    if (s.steps.filter((x) => x.op === 'pool.open').length !== 1) continue
    const server = await startReplayServer(exchanges, { ignore: IGNORE, delayScale: 0.01 })
    try {
      const results = await drive(server, s)
      assert.deepEqual(server.mismatches, [], name)
      assert.equal(server.remainingRequired, 0, `${name}: recorded exchanges left over`)
      for (const [pipe, r] of results) {
        const expected = s.pipelines[pipe]
        assert.ok(expected !== undefined, `${name}: ${pipe}`)
        assert.equal(r.output, expected.output.length, `${name}: ${pipe} output count`)
        assert.equal(r.state, expected.state, `${name}: ${pipe} final state`)
      }
      replayed++
      names.push(name.replace(/^test_/, ''))
    } finally {
      await server.close()
    }
  }
  console.log(`own client: ${replayed} recordings replayed with 0 mismatches: ${names.join(', ')}`)
  assert.ok(replayed >= 8, `only ${replayed} recordings replayed`)
})

/** Seconds of a `PT…S` duration. */
const seconds = (d: string | undefined): number | undefined =>
  d === undefined ? undefined : Number(/^PT([\d.]+)S$/.exec(d)?.[1] ?? Number.NaN)

async function driveWinrs(
  server: ReplayServer,
  s: Scenario,
): Promise<Map<string, { stdout: Buffer; stderr: Buffer; exitCode?: number }>> {
  const post = async (req: WSManRequest): Promise<ReturnType<typeof parseResponse>> => {
    const res = await fetch(server.url, { method: 'POST', body: buildEnvelope(req, { to: server.url }) })
    const text = await res.text()
    assert.deepEqual(server.mismatches, [], 'mismatch')
    return parseResponse(text)
  }
  const shells = new Map<string, string>()
  const commands = new Map<string, { id: string; shell: string }>()
  const out = new Map<string, { stdout: Buffer; stderr: Buffer; exitCode?: number }>()
  const bool = (v: string | undefined): boolean | undefined =>
    v === undefined ? undefined : /^true$/i.test(v)
  for (const step of s.steps) {
    switch (step.op) {
      case 'winrs.open': {
        const o = step.options
        const idle = seconds(step.idleTimeout)
        const life = seconds(step.lifetime)
        const noProfile = bool(o['WINRS_NOPROFILE'])
        const r = await post(
          winrsCreate({
            ...(o['WINRS_CODEPAGE'] === undefined ? {} : { codepage: Number(o['WINRS_CODEPAGE']) }),
            ...(noProfile === undefined ? {} : { noProfile }),
            ...(Object.keys(step.environment).length > 0 ? { environment: step.environment } : {}),
            ...(step.workingDirectory === undefined ? {} : { workingDirectory: step.workingDirectory }),
            ...(idle === undefined ? {} : { idleTimeout: idle }),
            ...(life === undefined ? {} : { lifetime: life }),
            ...(step.name === undefined ? {} : { name: step.name }),
          }),
        )
        assert.ok(r.kind === 'created' && r.shellId !== undefined)
        shells.set(step.shell, r.shellId)
        break
      }
      case 'winrs.command': {
        const shellId = shells.get(step.shell) as string
        const skip = bool(step.options['WINRS_SKIP_CMD_SHELL'])
        const consoleMode = bool(step.options['WINRS_CONSOLEMODE_STDIN'])
        const r = await post(
          winrsCommand({
            shellId,
            command: step.executable,
            arguments: step.arguments,
            ...(skip === undefined ? {} : { skipCmdShell: skip }),
            ...(consoleMode === undefined ? {} : { consoleModeStdin: consoleMode }),
          }),
        )
        assert.equal(r.kind, 'commandCreated')
        if (r.kind !== 'commandCreated') break
        commands.set(step.command, { id: r.commandId, shell: shellId })
        out.set(step.command, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) })
        break
      }
      case 'winrs.stdin': {
        const c = commands.get(step.command)
        assert.ok(c !== undefined)
        await post(
          winrsSend({
            shellId: c.shell,
            commandId: c.id,
            data: Buffer.from(step.data, 'base64'),
            end: step.end,
          }),
        )
        break
      }
      case 'receive': {
        const c = commands.get(step.target)
        if (c === undefined) {
          // a Receive on the shell itself (before any command): the recording answers with a fault
          const shellId = shells.get(step.target) ?? [...shells.values()].at(-1)
          const r = await post(winrsReceive({ shellId: shellId as string }))
          assert.equal(r.kind, 'fault')
          break
        }
        const o = out.get(step.target) as { stdout: Buffer; stderr: Buffer; exitCode?: number }
        for (let polls = 0; polls < 20; polls++) {
          const r = await post(winrsReceive({ shellId: c.shell, commandId: c.id }))
          if (r.kind === 'timedOut') continue
          assert.equal(r.kind, 'receive')
          if (r.kind !== 'receive') break
          for (const st of r.streams) {
            if (st.name === 'stdout') o.stdout = Buffer.concat([o.stdout, st.data])
            if (st.name === 'stderr') o.stderr = Buffer.concat([o.stderr, st.data])
          }
          if (r.commandState?.done === true) {
            if (r.commandState.exitCode !== undefined) o.exitCode = r.commandState.exitCode
            break
          }
        }
        break
      }
      case 'winrs.signal': {
        // pypsrp's ctrl_c after Done is optional; send it anyway as pypsrp did
        const c = commands.get(step.command)
        assert.ok(c !== undefined)
        await post(winrsSignal({ shellId: c.shell, commandId: c.id, code: step.code as SignalCodeInput }))
        break
      }
      case 'winrs.close':
        await post(winrsDelete({ shellId: shells.get(step.shell) as string }))
        break
      default:
        break
    }
  }
  return out
}

test('own client: our WinRS requests replay every WinRS recording', { skip }, async () => {
  const names: string[] = []
  for (const file of listRecordings(dir as string)) {
    const exchanges = readRecording(file)
    const name = basename(file, '.yml')
    const s = deriveScenario(exchanges, name)
    if (!s.kinds.includes('winrs') || s.kinds.includes('psrp')) continue
    const server = await startReplayServer(exchanges)
    try {
      const results = await driveWinrs(server, s)
      assert.deepEqual(server.mismatches, [], name)
      assert.equal(server.remainingRequired, 0, `${name}: recorded exchanges left over`)
      for (const [cmd, r] of results) {
        const expected = s.commands[cmd]
        assert.ok(expected !== undefined, `${name}: ${cmd}`)
        assert.equal(r.stdout.toString('base64'), expected.stdout, `${name}: ${cmd} stdout`)
        assert.equal(r.stderr.toString('base64'), expected.stderr, `${name}: ${cmd} stderr`)
        assert.equal(r.exitCode, expected.exitCode, `${name}: ${cmd} exit code`)
      }
      names.push(name.replace(/^test_/, ''))
    } finally {
      await server.close()
    }
  }
  console.log(`own client: ${names.length} WinRS recordings replayed with 0 mismatches: ${names.join(', ')}`)
  assert.ok(names.length >= 10, `only ${names.length} WinRS recordings replayed`)
})
