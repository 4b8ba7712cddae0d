/**
 * The client host of a replayed recording: built from what the recording announced (the HostInfo of
 * INIT_RUNSPACEPOOL) and answering every interactive host call with what the recorded client answered
 * (the RUNSPACEPOOL_/PIPELINE_HOST_RESPONSE messages of the scenario). It records what the server made
 * it do (Write*, progress, SetShouldExit), so the runner can compare that with the recorded host calls.
 */
import { DefaultHost, PSSecureString, type HostWrite, type PSHost } from '../../src/index.ts'
import type { Plain, Scenario, Step } from '../helpers/winrm-replay.ts'

type HostResponseStep = Extract<Step, { op: 'pool.hostResponse' | 'pipeline.hostResponse' }>

/** One host call the server made, as our host saw it. */
export interface SeenHostCall {
  method: string
  text?: string
  foreground?: number | undefined
  background?: number | undefined
}

/** A host for one recording, with what it saw. */
export interface ReplayHost {
  /** The host to give the pool and its pipelines (undefined: the recording announced none). */
  host: PSHost | undefined
  /** Write*, WriteProgress and SetShouldExit calls seen, in order. */
  seen: SeenHostCall[]
  /** Recorded answers not asked for by the end of the run. */
  unused(): string[]
  /** Host calls that found no recorded answer. */
  unanswered: string[]
}

const props = (v: Plain | undefined): Record<string, Plain> => {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return {}
  const p = (v as Record<string, Plain>)['$props']
  return p !== null && p !== undefined && typeof p === 'object' && !Array.isArray(p)
    ? (p as Record<string, Plain>)
    : {}
}

/** The entries of a recorded dictionary (`{ $dict }`, possibly inside a typed object's `$value`). */
function dictEntries(v: Plain | undefined): [Plain, Plain][] {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return []
  const d = (v as Record<string, Plain>)['$dict']
  if (Array.isArray(d)) return d as [Plain, Plain][]
  return dictEntries((v as Record<string, Plain>)['$value'])
}

/**
 * The RawUI values the recorded client announced in HostInfo `_hostDefaultData` (MS-PSRP 2.2.3.14,
 * keys 0 ForegroundColor … 9 WindowTitle), as {@link DefaultHost} rawUI options: the replayed client
 * must announce the same terminal the recorded one did.
 */
export function recordedRawUI(info: Record<string, Plain>): Record<string, unknown> {
  const data = props(info['_hostDefaultData'])['data']
  const out: Record<string, unknown> = {}
  const num = (v: Plain | undefined): number | undefined => (typeof v === 'number' ? v : undefined)
  for (const [k, entry] of dictEntries(data)) {
    const v = props(entry)['V']
    const xy = props(v)
    const size = { width: num(xy['width']), height: num(xy['height']) }
    const at = { x: num(xy['x']), y: num(xy['y']) }
    switch (Number(k)) {
      case 0:
        out['foregroundColor'] = num(v)
        break
      case 1:
        out['backgroundColor'] = num(v)
        break
      case 2:
        out['cursorPosition'] = at
        break
      case 3:
        out['windowPosition'] = at
        break
      case 4:
        out['cursorSize'] = num(v)
        break
      case 5:
        out['bufferSize'] = size
        break
      case 6:
        out['windowSize'] = size
        break
      case 7:
        out['maxWindowSize'] = size
        break
      case 8:
        out['maxPhysicalWindowSize'] = size
        break
      case 9:
        if (typeof v === 'string') out['windowTitle'] = v
        break
    }
  }
  return out
}

/** A recorded `<C>` value (a PSChar as `{ $type, value }`, a number or a one-character string). */
function charOf(v: Plain | undefined): string {
  if (typeof v === 'number') return String.fromCharCode(v)
  if (typeof v === 'string') return /^\d+$/.test(v) && v.length > 1 ? String.fromCharCode(Number(v)) : v
  if (v !== null && typeof v === 'object' && !Array.isArray(v))
    return charOf((v as Record<string, Plain>)['value'])
  return ''
}

/** The number of a recorded enum (`{ $enum, value }`) or plain number. */
function enumValue(v: Plain | undefined): number | undefined {
  if (typeof v === 'number') return v
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const x = (v as Record<string, Plain>)['value'] ?? (v as Record<string, Plain>)['$value']
    return typeof x === 'number' ? x : undefined
  }
  return undefined
}

/** The plaintext of a `{ $secureString }` value (or the value itself when it is a string). */
function secureText(v: Plain | undefined): string | undefined {
  if (typeof v === 'string') return v
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && '$secureString' in v) {
    const s = (v as Record<string, Plain>)['$secureString']
    return typeof s === 'string' ? s : undefined
  }
  return undefined
}

/** A recorded host answer value as the JS value our host callbacks return. */
function answerValue(v: Plain | undefined): unknown {
  const secure = v !== null && typeof v === 'object' && !Array.isArray(v) && '$secureString' in v
  if (secure) return new PSSecureString(secureText(v) ?? '')
  return v
}

/**
 * Builds the host. `hostInfo` is the recorded INIT_RUNSPACEPOOL HostInfo (its `$props` carry
 * `_isHostNull`, `_isHostUINull`, `_isHostRawUINull` and `_hostDefaultData`).
 */
export function buildReplayHost(s: Scenario, hostInfo: Plain): ReplayHost {
  const info = props(hostInfo)
  const seen: SeenHostCall[] = []
  const unanswered: string[] = []
  const answers = new Map<string, HostResponseStep[]>()
  for (const st of s.steps) {
    if (st.op !== 'pool.hostResponse' && st.op !== 'pipeline.hostResponse') continue
    const list = answers.get(st.method) ?? []
    list.push(st)
    answers.set(st.method, list)
  }
  const take = (...methods: string[]): HostResponseStep => {
    for (const m of methods) {
      const a = answers.get(m)?.shift()
      if (a === undefined) continue
      if (a.error !== undefined)
        throw new Error(typeof a.error === 'string' ? a.error : JSON.stringify(a.error))
      return a
    }
    unanswered.push(methods[0] ?? '?')
    throw new Error(`the recording has no answer to host call ${methods.join('/')}`)
  }
  const unused = (): string[] => [...answers].flatMap(([m, l]) => l.map((a) => `${m} (call ${a.callId})`))

  if (info['_isHostNull'] !== false) return { host: undefined, seen, unused, unanswered }

  const exitCodes = {
    setShouldExit: (code: number) => void seen.push({ method: 'SetShouldExit', text: String(code) }),
  }
  if (info['_isHostUINull'] !== false) {
    // a host without a user interface (pypsrp's PSHost(None, …)): only the PSHost members
    return { host: { ...exitCodes }, seen, unused, unanswered }
  }
  const onWrite = (w: HostWrite): void => {
    seen.push({
      method: w.method,
      text: w.text,
      ...(w.foreground === undefined ? {} : { foreground: w.foreground }),
      ...(w.background === undefined ? {} : { background: w.background }),
    })
  }
  const host = new DefaultHost({
    onWrite,
    // pypsrp's PSHostUserInterface(None): a UI without a RawUI; else the RawUI the recording announced
    ...(info['_isHostRawUINull'] !== false
      ? { rawUI: false as const }
      : {
          rawUI: {
            ...recordedRawUI(info),
            // ReadKey answers the KeyInfo the recorded client returned (pypsrp writes its members
            // as extended properties in lower case; PowerShell's are adapted, in Pascal case)
            readKey: () => {
              const k = Object.fromEntries(
                Object.entries(props(take('ReadKey').result)).map(([name, v]) => [name.toLowerCase(), v]),
              )
              return {
                virtualKeyCode: Number(k['virtualkeycode'] ?? 0),
                character: charOf(k['character']),
                controlKeyState: Number(enumValue(k['controlkeystate']) ?? 0),
                keyDown: k['keydown'] === true,
              }
            },
          },
        }),
    readLine: () => String(take('ReadLine').result ?? ''),
    readLineAsSecureString: () => secureText(take('ReadLineAsSecureString').result) ?? '',
    prompt: () => {
      const r = take('Prompt').result
      const out: Record<string, unknown> = {}
      const dict = r !== null && typeof r === 'object' && !Array.isArray(r) ? r['$dict'] : undefined
      if (Array.isArray(dict)) {
        for (const e of dict) if (Array.isArray(e)) out[String(e[0])] = answerValue(e[1])
      }
      return out
    },
    promptForCredential: () => {
      const p = props(take('PromptForCredential2', 'PromptForCredential1').result)
      return { userName: String(p['UserName'] ?? ''), password: secureText(p['Password']) ?? '' }
    },
    promptForChoice: () => Number(take('PromptForChoice').result),
    promptForChoiceMultipleSelection: () => {
      const r = take('PromptForChoiceMultipleSelection').result
      return Array.isArray(r) ? r.map(Number) : []
    },
    writeProgress: (_source, record) =>
      void seen.push({ method: 'writeProgress', text: record.activity ?? '' }),
  })
  const setShouldExit = host.setShouldExit.bind(host)
  host.setShouldExit = (code: number): void => {
    setShouldExit(code)
    exitCodes.setShouldExit(code)
  }
  return { host, seen, unused, unanswered }
}

/** What a recorded host call means for our host's callbacks (undefined: not observable). */
export function expectedSeen(method: string, parameters: Plain): SeenHostCall | undefined {
  const p = Array.isArray(parameters) ? parameters : []
  const s = (i: number): string => (p[i] === null || p[i] === undefined ? '' : String(p[i]))
  const n = (i: number): number => Number(p[i])
  switch (method) {
    case 'Write1':
      return { method: 'write', text: s(0) }
    case 'Write2':
      return { method: 'write', text: s(2), foreground: n(0), background: n(1) }
    case 'WriteLine1':
      return { method: 'writeLine', text: '' }
    case 'WriteLine2':
      return { method: 'writeLine', text: s(0) }
    case 'WriteLine3':
      return { method: 'writeLine', text: s(2), foreground: n(0), background: n(1) }
    case 'WriteErrorLine':
      return { method: 'writeErrorLine', text: s(0) }
    case 'WriteDebugLine':
      return { method: 'writeDebugLine', text: s(0) }
    case 'WriteVerboseLine':
      return { method: 'writeVerboseLine', text: s(0) }
    case 'WriteWarningLine':
      return { method: 'writeWarningLine', text: s(0) }
    case 'WriteProgress':
      return { method: 'writeProgress', text: String(props(p[1] ?? null)['Activity'] ?? '') }
    case 'SetShouldExit':
      return { method: 'SetShouldExit', text: s(0) }
    default:
      return undefined
  }
}
