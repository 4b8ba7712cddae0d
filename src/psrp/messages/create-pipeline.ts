/**
 * CREATE_PIPELINE (MS-PSRP 2.2.2.10): the client creates and starts a pipeline. The body carries
 * the PowerShell object (2.2.3.11) with its commands (2.2.3.12), statements (`ExtraCmds`), merge
 * settings, history, host info and stream options.
 *
 * @module
 */
import type { PSEnum } from '../../clixml/index.ts'
import {
  ApartmentState,
  HostInfo,
  PipelineResultTypes,
  PSObject,
  RemoteStreamOptions,
} from '../../clixml/index.ts'
import { ProtocolError } from '../../errors.ts'
import { asTyped, bodyObject, msObject, numberValue, optional, required, requiredBoolean } from './body.ts'

/** Stream merge targets (PipelineResultTypes, 2.2.3.31). */
export type MergeTarget = 'None' | 'Output' | 'Null'

/** One parameter or positional argument of a command. */
export interface CommandArgument {
  /** Parameter name, or undefined for a positional argument. */
  name: string | undefined
  /** The value (a switch parameter given without value is `true` with `name`). */
  value: unknown
}

/** One command of a statement (2.2.3.12). */
export interface PipelineCommand {
  /** Command name or script text. */
  command: string
  /** True when `command` is a script. */
  isScript: boolean
  /** Run the script in the current scope (`. script`) when false, a new scope when true; undefined = default. */
  useLocalScope: boolean | undefined
  /** Arguments and parameters in order. */
  args: CommandArgument[]
  /** Merge settings (2.2.3.12): which streams are redirected to output. */
  mergeMyResult: number
  mergeToResult: number
  mergePreviousResults: number
  mergeError: number
  mergeWarning: number
  mergeVerbose: number
  mergeDebug: number
  mergeInformation: number
}

/** Fields of CREATE_PIPELINE. */
export interface CreatePipelineMessage {
  /** Statements, each a list of piped commands. */
  statements: PipelineCommand[][]
  /** True when no input will be sent. */
  noInput: boolean
  /** Add the invocation to history. */
  addToHistory: boolean
  /** Nested pipeline (runs inside a running one). */
  isNested: boolean
  /** ApartmentState value. */
  apartmentState: number
  /** RemoteStreamOptions flags. */
  remoteStreamOptions: number
  /** HostInfo object (2.2.3.14). */
  hostInfo: unknown
  /** History string (`History` in the PowerShell object), if any. */
  history?: string | undefined
  /** RedirectShellErrorOutputPipe. */
  redirectShellErrorOutputPipe: boolean
  /** Protocol version the body is written for: merge fields for Warning/Verbose/Debug need 2.2+, Information 2.3+. */
  protocolVersion?: string
}

/**
 * A {@link PipelineCommand} (one command of a CREATE_PIPELINE statement, MS-PSRP 2.2.3.12) from the
 * fields given, with the rest at their defaults: not a script, no arguments, no stream merging.
 *
 * ```ts
 * pipelineCommand({ command: 'Get-Process', args: [{ name: 'Name', value: 'pwsh' }] })
 * ```
 */
export function pipelineCommand(init: Partial<PipelineCommand> & { command: string }): PipelineCommand {
  return {
    isScript: false,
    useLocalScope: undefined,
    args: [],
    mergeMyResult: 0,
    mergeToResult: 0,
    mergePreviousResults: 0,
    mergeError: 0,
    mergeWarning: 0,
    mergeVerbose: 0,
    mergeDebug: 0,
    mergeInformation: 0,
    ...init,
  }
}

const merge = (v: number): PSEnum => PipelineResultTypes.of(v)

function versionAtLeast(v: string | undefined, major: number, minor: number): boolean {
  if (v === undefined) return true
  const [a, b] = v.split('.').map(Number) as [number, number]
  return a > major || (a === major && b >= minor)
}

function encodeCommand(c: PipelineCommand, protocolVersion: string | undefined): PSObject {
  const args = c.args.map(
    (a) =>
      new PSObject({
        extended: [
          ['N', a.name ?? null],
          ['V', a.value],
        ],
      }),
  )
  const props: [string, unknown][] = [
    ['Cmd', c.command],
    ['Args', args],
    ['IsScript', c.isScript],
    ['UseLocalScope', c.useLocalScope ?? null],
    ['MergeMyResult', merge(c.mergeMyResult)],
    ['MergeToResult', merge(c.mergeToResult)],
    ['MergePreviousResults', merge(c.mergePreviousResults)],
  ]
  if (versionAtLeast(protocolVersion, 2, 2)) {
    props.push(['MergeError', merge(c.mergeError)], ['MergeWarning', merge(c.mergeWarning)])
    props.push(['MergeVerbose', merge(c.mergeVerbose)], ['MergeDebug', merge(c.mergeDebug)])
  }
  if (versionAtLeast(protocolVersion, 2, 3)) props.push(['MergeInformation', merge(c.mergeInformation)])
  return msObject(props)
}

/** Encodes the CREATE_PIPELINE body. */
export function encodeCreatePipeline(m: CreatePipelineMessage): PSObject {
  const [first] = m.statements
  if (first === undefined || first.length === 0) {
    throw new ProtocolError('a pipeline needs at least one command', { side: 'local' })
  }
  const cmds = (list: PipelineCommand[]): PSObject[] => list.map((c) => encodeCommand(c, m.protocolVersion))
  const powershell: [string, unknown][] = [
    ['Cmds', cmds(first)],
    ['IsNested', m.isNested],
    ['History', m.history ?? null],
    ['RedirectShellErrorOutputPipe', m.redirectShellErrorOutputPipe],
  ]
  if (m.statements.length > 1) {
    // PowerShell lists every statement (the first one too) in ExtraCmds when there are several
    powershell.push(['ExtraCmds', m.statements.map((s) => msObject([['Cmds', cmds(s)]]))])
  }
  return msObject([
    ['NoInput', m.noInput],
    ['ApartmentState', ApartmentState.of(m.apartmentState)],
    ['RemoteStreamOptions', RemoteStreamOptions.of(m.remoteStreamOptions)],
    ['AddToHistory', m.addToHistory],
    ['HostInfo', m.hostInfo],
    ['PowerShell', msObject(powershell)],
    ['IsNested', m.isNested],
  ])
}

function decodeCommand(value: unknown): PipelineCommand {
  const o = bodyObject('CREATE_PIPELINE command', value)
  const num = (name: string): number => numberValue('CREATE_PIPELINE command', name, optional(o, name) ?? 0)
  const args = optional(o, 'Args')
  const useLocalScope = optional(o, 'UseLocalScope')
  return {
    command: String(required('CREATE_PIPELINE command', o, 'Cmd')),
    isScript: requiredBoolean('CREATE_PIPELINE command', o, 'IsScript'),
    useLocalScope: typeof useLocalScope === 'boolean' ? useLocalScope : undefined,
    args: (Array.isArray(args) ? args : []).map((a) => {
      const arg = bodyObject('CREATE_PIPELINE argument', a)
      const n = optional(arg, 'N')
      return { name: n === undefined ? undefined : String(n), value: arg.get('V') ?? null }
    }),
    mergeMyResult: num('MergeMyResult'),
    mergeToResult: num('MergeToResult'),
    mergePreviousResults: num('MergePreviousResults'),
    mergeError: num('MergeError'),
    mergeWarning: num('MergeWarning'),
    mergeVerbose: num('MergeVerbose'),
    mergeDebug: num('MergeDebug'),
    mergeInformation: num('MergeInformation'),
  }
}

/** Decodes the CREATE_PIPELINE body. */
export function decodeCreatePipeline(value: unknown): CreatePipelineMessage {
  const o = bodyObject('CREATE_PIPELINE', value)
  const ps = bodyObject('CREATE_PIPELINE.PowerShell', required('CREATE_PIPELINE', o, 'PowerShell'))
  const cmds = required('CREATE_PIPELINE.PowerShell', ps, 'Cmds')
  if (!Array.isArray(cmds)) throw new ProtocolError('CREATE_PIPELINE.PowerShell.Cmds is not a list')
  let statements = [cmds.map(decodeCommand)]
  const extra = optional(ps, 'ExtraCmds')
  if (Array.isArray(extra) && extra.length > 0) {
    statements = []
    for (const s of extra) {
      const list = bodyObject('CREATE_PIPELINE statement', s).get('Cmds')
      if (Array.isArray(list)) statements.push(list.map(decodeCommand))
    }
  }
  const history = optional(ps, 'History')
  return {
    statements,
    noInput: requiredBoolean('CREATE_PIPELINE', o, 'NoInput'),
    addToHistory: requiredBoolean('CREATE_PIPELINE', o, 'AddToHistory'),
    isNested: Boolean(optional(o, 'IsNested') ?? optional(ps, 'IsNested') ?? false),
    apartmentState: numberValue('CREATE_PIPELINE', 'ApartmentState', optional(o, 'ApartmentState') ?? 2),
    remoteStreamOptions: numberValue(
      'CREATE_PIPELINE',
      'RemoteStreamOptions',
      optional(o, 'RemoteStreamOptions') ?? 0,
    ),
    hostInfo: o.has('HostInfo')
      ? asTyped(HostInfo, o.get('HostInfo'), 'CREATE_PIPELINE.HostInfo')
      : HostInfo.create(),
    ...(history === undefined ? {} : { history: String(history) }),
    redirectShellErrorOutputPipe: Boolean(optional(ps, 'RedirectShellErrorOutputPipe') ?? false),
  }
}
