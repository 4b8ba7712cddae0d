/**
 * The client-side PowerShell host (MS-PSRP 2.2.3.17 RemoteHostMethodId, 3.1.4.5 host calls): what a
 * remote script reaches through `$Host`, `Write-Host`, `Read-Host`, `Get-Credential`, prompts and
 * `$Host.UI.RawUI`. Implement {@link PSHost} (every member optional) or use {@link DefaultHost}.
 *
 * @module
 */
import {
  ChoiceDescription,
  Coordinates,
  ConsoleColor,
  ErrorRecord,
  FieldDescription,
  HostInfo,
  KeyInfo,
  ProgressRecord,
  PSCredential,
  PSObject,
  PSSecureString,
  Size,
  CultureInfo,
  PSVersion,
  PSGuid,
  retype,
} from '../clixml/index.ts'
import type { HostMethodName } from '../psrp/index.ts'
import { HostError } from '../errors.ts'

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>

/** `$Host.UI.RawUI` (PSHostRawUserInterface). Plain values are read for Get*; setters are optional. */
export interface PSHostRawUserInterface {
  foregroundColor?: number
  backgroundColor?: number
  cursorPosition?: { x: number; y: number }
  windowPosition?: { x: number; y: number }
  cursorSize?: number
  bufferSize?: { width: number; height: number }
  windowSize?: { width: number; height: number }
  maxWindowSize?: { width: number; height: number }
  maxPhysicalWindowSize?: { width: number; height: number }
  windowTitle?: string
  /** `$Host.UI.RawUI.KeyAvailable`: whether a key press is waiting. */
  keyAvailable?: () => Awaitable<boolean>
  /** `$Host.UI.RawUI.ReadKey(options)`: the next key press (`options` are ReadKeyOptions flags). */
  readKey?: (
    options: number,
  ) => Awaitable<{ virtualKeyCode: number; character: string; controlKeyState?: number; keyDown: boolean }>
  /** `$Host.UI.RawUI.FlushInputBuffer()`: drop pending key presses. */
  flushInputBuffer?: () => Awaitable<void>
  /** `$Host.UI.RawUI.SetBufferContents(…)`, with the call's arguments as received. */
  setBufferContents?: (args: unknown[]) => Awaitable<void>
  /** `$Host.UI.RawUI.GetBufferContents(rectangle)`: the cells of the rectangle. */
  getBufferContents?: (rectangle: unknown) => Awaitable<unknown>
  /** `$Host.UI.RawUI.ScrollBufferContents(…)`, with the call's arguments as received. */
  scrollBufferContents?: (args: unknown[]) => Awaitable<void>
}

/** A credential answered to `Get-Credential` / PromptForCredential. */
export interface CredentialAnswer {
  userName: string
  password: string
}

/** `$Host.UI` (PSHostUserInterface). */
export interface PSHostUserInterface {
  /** `Write-Host -NoNewline`, `$Host.UI.Write`: text without a line end; colours as ConsoleColor numbers. */
  write?: (text: string, foreground?: number, background?: number) => Awaitable<void>
  /** `Write-Host`, `$Host.UI.WriteLine`: a line of text; colours as ConsoleColor numbers. */
  writeLine?: (text: string, foreground?: number, background?: number) => Awaitable<void>
  /** `$Host.UI.WriteErrorLine`: a line of error text. */
  writeErrorLine?: (text: string) => Awaitable<void>
  /** `$Host.UI.WriteWarningLine`: a warning line. */
  writeWarningLine?: (text: string) => Awaitable<void>
  /** `$Host.UI.WriteVerboseLine`: a verbose line. */
  writeVerboseLine?: (text: string) => Awaitable<void>
  /** `$Host.UI.WriteDebugLine`: a debug line. */
  writeDebugLine?: (text: string) => Awaitable<void>
  /** `Write-Progress`, `$Host.UI.WriteProgress`: a progress record and the id of its source. */
  writeProgress?: (sourceId: bigint, record: ProgressRecord) => Awaitable<void>
  /** `Read-Host`. */
  readLine?: () => Awaitable<string>
  /** `Read-Host -AsSecureString`. */
  readLineAsSecureString?: () => Awaitable<string>
  /** Prompt for fields (e.g. a mandatory parameter); answer by field name. */
  prompt?: (
    caption: string,
    message: string,
    fields: FieldDescription[],
  ) => Awaitable<Record<string, unknown>>
  /** `Get-Credential`. */
  promptForCredential?: (
    caption: string,
    message: string,
    userName: string,
    targetName: string,
  ) => Awaitable<CredentialAnswer>
  /** `$Host.UI.PromptForChoice`: the index chosen. */
  promptForChoice?: (
    caption: string,
    message: string,
    choices: ChoiceDescription[],
    defaultChoice: number,
  ) => Awaitable<number>
  /** Multiple selection: the indexes chosen. */
  promptForChoiceMultipleSelection?: (
    caption: string,
    message: string,
    choices: ChoiceDescription[],
    defaults: number[],
  ) => Awaitable<number[]>
  rawUI?: PSHostRawUserInterface
}

/** The client host (PSHost). Every member is optional; missing ones get sensible answers or a clear error. */
export interface PSHost {
  name?: string
  version?: string
  instanceId?: string
  currentCulture?: string
  currentUICulture?: string
  /** `exit <code>` in the remote session (SetShouldExit): the exit code the script asked for. */
  setShouldExit?: (exitCode: number) => Awaitable<void>
  /** `$Host.EnterNestedPrompt()`: the script asks for a nested prompt. */
  enterNestedPrompt?: () => Awaitable<void>
  /** `$Host.ExitNestedPrompt()`: leave the nested prompt. */
  exitNestedPrompt?: () => Awaitable<void>
  /** NotifyBeginApplication: a native program is about to run in the session. */
  notifyBeginApplication?: () => Awaitable<void>
  /** NotifyEndApplication: the native program has ended. */
  notifyEndApplication?: () => Awaitable<void>
  ui?: PSHostUserInterface
}

const DEFAULT_RAW_UI: Required<
  Pick<
    PSHostRawUserInterface,
    | 'foregroundColor'
    | 'backgroundColor'
    | 'cursorPosition'
    | 'windowPosition'
    | 'cursorSize'
    | 'bufferSize'
    | 'windowSize'
    | 'maxWindowSize'
    | 'maxPhysicalWindowSize'
    | 'windowTitle'
  >
> = {
  foregroundColor: ConsoleColor.values.Gray,
  backgroundColor: ConsoleColor.values.Black,
  cursorPosition: { x: 0, y: 0 },
  windowPosition: { x: 0, y: 0 },
  cursorSize: 25,
  bufferSize: { width: 120, height: 3000 },
  windowSize: { width: 120, height: 50 },
  maxWindowSize: { width: 120, height: 50 },
  maxPhysicalWindowSize: { width: 120, height: 50 },
  windowTitle: 'psrp',
}

/** The HostInfo sent to the server for a host (MS-PSRP 2.2.3.14), carrying its RawUI defaults. */
export function hostInfoFor(host: PSHost | undefined): HostInfo {
  if (host === undefined) return HostInfo.create()
  const rawUI = host.ui?.rawUI
  const flags = {
    isHostNull: false,
    isHostUINull: host.ui === undefined,
    isHostRawUINull: rawUI === undefined,
    useRunspaceHost: false,
  }
  // the RawUI values travel only for a host that has a RawUI (MS-PSRP 2.2.3.14)
  if (rawUI === undefined) return HostInfo.create(flags)
  const raw = { ...DEFAULT_RAW_UI, ...rawUI }
  return HostInfo.create({
    ...flags,
    defaultData: new Map<number, unknown>([
      [0, ConsoleColor.of(raw.foregroundColor)],
      [1, ConsoleColor.of(raw.backgroundColor)],
      [2, Coordinates.create(raw.cursorPosition.x, raw.cursorPosition.y)],
      [3, Coordinates.create(raw.windowPosition.x, raw.windowPosition.y)],
      [4, raw.cursorSize],
      [5, Size.create(raw.bufferSize.width, raw.bufferSize.height)],
      [6, Size.create(raw.windowSize.width, raw.windowSize.height)],
      [7, Size.create(raw.maxWindowSize.width, raw.maxWindowSize.height)],
      [8, Size.create(raw.maxPhysicalWindowSize.width, raw.maxPhysicalWindowSize.height)],
      [9, raw.windowTitle],
    ]),
  })
}

/** One Write* call recorded by {@link DefaultHost}. */
export interface HostWrite {
  method:
    'write' | 'writeLine' | 'writeErrorLine' | 'writeWarningLine' | 'writeVerboseLine' | 'writeDebugLine'
  text: string
  foreground?: number | undefined
  background?: number | undefined
}

/** Callbacks that answer interactive host calls for {@link DefaultHost}. */
export type DefaultHostCallbacks = Pick<
  PSHostUserInterface,
  | 'readLine'
  | 'readLineAsSecureString'
  | 'prompt'
  | 'promptForCredential'
  | 'promptForChoice'
  | 'promptForChoiceMultipleSelection'
  | 'writeProgress'
> & {
  /** Called for every Write* call as it happens (e.g. to print `Write-Host` text). */
  onWrite?: (write: HostWrite) => void
  /** RawUI values and methods; `false` for a host without a RawUI (`$Host.UI.RawUI` is then null). */
  rawUI?: PSHostRawUserInterface | false
}

function withoutRawUI(callbacks: DefaultHostCallbacks): Omit<DefaultHostCallbacks, 'rawUI'> {
  const { rawUI: _rawUI, ...rest } = callbacks
  return rest
}

/**
 * A host that records every Write* call (in {@link writes}) and answers `Read-Host`, prompts,
 * credentials and choices through callbacks. Without the callback for a prompt, the remote call fails
 * with an error that names the missing callback.
 */
export class DefaultHost implements PSHost {
  readonly name = 'psrp'
  readonly version = '1.0'
  readonly instanceId = globalThis.crypto.randomUUID()
  readonly currentCulture = 'en-US'
  readonly currentUICulture = 'en-US'
  /** Every Write* call received, in order. */
  readonly writes: HostWrite[] = []
  /** The exit code passed to SetShouldExit (`exit n` in a remote shell), if any. */
  shouldExit: number | undefined
  readonly ui: PSHostUserInterface

  constructor(callbacks: DefaultHostCallbacks = {}) {
    const record =
      (method: HostWrite['method']) => (text: string, foreground?: number, background?: number) => {
        const w: HostWrite = { method, text, foreground, background }
        this.writes.push(w)
        callbacks.onWrite?.(w)
      }
    this.ui = {
      write: record('write'),
      writeLine: record('writeLine'),
      writeErrorLine: record('writeErrorLine'),
      writeWarningLine: record('writeWarningLine'),
      writeVerboseLine: record('writeVerboseLine'),
      writeDebugLine: record('writeDebugLine'),
      ...withoutRawUI(callbacks),
      ...(callbacks.rawUI === false ? {} : { rawUI: { ...DEFAULT_RAW_UI, ...callbacks.rawUI } }),
    }
  }

  /** All text written with Write/WriteLine (what `Write-Host` printed). */
  get output(): string {
    return this.writes
      .filter((w) => w.method === 'write' || w.method === 'writeLine')
      .map((w) => (w.method === 'writeLine' ? `${w.text}\n` : w.text))
      .join('')
  }

  /** Records the exit code in {@link shouldExit}. */
  setShouldExit(exitCode: number): void {
    this.shouldExit = exitCode
  }
}

function missing(method: string, callback: string): HostError {
  return new HostError(
    `the script called $Host ${method}, but the client host has no ${callback} callback to answer it`,
  )
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v))
const num = (v: unknown): number => Number(v ?? 0)

function xy(v: unknown): { x: number; y: number } {
  return v instanceof PSObject
    ? { x: num(v.get('X') ?? v.get('x')), y: num(v.get('Y') ?? v.get('y')) }
    : { x: 0, y: 0 }
}

function wh(v: unknown): { width: number; height: number } {
  return v instanceof PSObject
    ? { width: num(v.get('Width')), height: num(v.get('Height')) }
    : { width: 0, height: 0 }
}

function typed<T extends PSObject>(cls: new (init?: { typeNames?: string[] }) => T, v: unknown): T {
  return retype(cls, v) ?? new cls()
}

/**
 * Runs one host call against a host. Returns the value to send back (for non-void methods), or
 * throws a {@link HostError} that becomes the remote exception.
 */
export async function invokeHostMethod(
  host: PSHost,
  method: HostMethodName | undefined,
  params: unknown[],
): Promise<unknown> {
  const ui = host.ui
  const raw = ui?.rawUI
  const p = (i: number): unknown => params[i]
  switch (method) {
    case 'GetName':
      return host.name ?? 'psrp'
    case 'GetVersion':
      return new PSVersion(host.version ?? '1.0')
    case 'GetInstanceId':
      return new PSGuid(host.instanceId ?? '00000000-0000-0000-0000-000000000000')
    case 'GetCurrentCulture':
    case 'GetCurrentUICulture':
      return new CultureInfo({
        typeNames: ['System.Globalization.CultureInfo', 'System.Object'],
        toStringValue:
          (method === 'GetCurrentCulture' ? host.currentCulture : host.currentUICulture) ?? 'en-US',
      })
    case 'SetShouldExit':
      return host.setShouldExit?.(num(p(0)))
    case 'EnterNestedPrompt':
      return host.enterNestedPrompt?.()
    case 'ExitNestedPrompt':
      return host.exitNestedPrompt?.()
    case 'NotifyBeginApplication':
      return host.notifyBeginApplication?.()
    case 'NotifyEndApplication':
      return host.notifyEndApplication?.()
    case 'ReadLine':
      if (ui?.readLine === undefined) throw missing('ReadLine (Read-Host)', 'readLine')
      return await ui.readLine()
    case 'ReadLineAsSecureString':
      if (ui?.readLineAsSecureString === undefined)
        throw missing('ReadLineAsSecureString (Read-Host -AsSecureString)', 'readLineAsSecureString')
      return new PSSecureString(await ui.readLineAsSecureString())
    case 'Write1':
      return ui?.write?.(str(p(0)))
    case 'Write2':
      return ui?.write?.(str(p(2)), num(p(0)), num(p(1)))
    case 'WriteLine1':
      return ui?.writeLine?.('')
    case 'WriteLine2':
      return ui?.writeLine?.(str(p(0)))
    case 'WriteLine3':
      return ui?.writeLine?.(str(p(2)), num(p(0)), num(p(1)))
    case 'WriteErrorLine':
      return ui?.writeErrorLine?.(str(p(0)))
    case 'WriteDebugLine':
      return ui?.writeDebugLine?.(str(p(0)))
    case 'WriteVerboseLine':
      return ui?.writeVerboseLine?.(str(p(0)))
    case 'WriteWarningLine':
      return ui?.writeWarningLine?.(str(p(0)))
    case 'WriteProgress':
      return ui?.writeProgress?.(BigInt(p(0) as bigint | number), typed(ProgressRecord, p(1)))
    case 'Prompt': {
      const fields = Array.isArray(p(2)) ? (p(2) as unknown[]).map((f) => typed(FieldDescription, f)) : []
      if (ui?.prompt !== undefined)
        return new Map(Object.entries(await ui.prompt(str(p(0)), str(p(1)), fields)))
      // `Read-Host "question"` prompts for one field: answer it with readLine / readLineAsSecureString
      const answer = new Map<string, unknown>()
      for (const f of fields) {
        const secure = /SecureString$/.test(f.parameterTypeFullName ?? f.parameterTypeName ?? '')
        if (secure && ui?.readLineAsSecureString !== undefined)
          answer.set(f.name, new PSSecureString(await ui.readLineAsSecureString()))
        else if (!secure && ui?.readLine !== undefined) answer.set(f.name, await ui.readLine())
        else
          throw missing(
            'Prompt (Read-Host)',
            secure ? 'prompt or readLineAsSecureString' : 'prompt or readLine',
          )
      }
      return answer
    }
    case 'PromptForCredential1':
    case 'PromptForCredential2': {
      if (ui?.promptForCredential === undefined)
        throw missing('PromptForCredential (Get-Credential)', 'promptForCredential')
      const c = await ui.promptForCredential(str(p(0)), str(p(1)), str(p(2)), str(p(3)))
      return PSCredential.create(c.userName, c.password)
    }
    case 'PromptForChoice': {
      if (ui?.promptForChoice === undefined) throw missing('PromptForChoice', 'promptForChoice')
      const choices = Array.isArray(p(2)) ? (p(2) as unknown[]).map((c) => typed(ChoiceDescription, c)) : []
      return await ui.promptForChoice(str(p(0)), str(p(1)), choices, num(p(3)))
    }
    case 'PromptForChoiceMultipleSelection': {
      if (ui?.promptForChoiceMultipleSelection === undefined)
        throw missing('PromptForChoice (multiple selection)', 'promptForChoiceMultipleSelection')
      const choices = Array.isArray(p(2)) ? (p(2) as unknown[]).map((c) => typed(ChoiceDescription, c)) : []
      const defaults = Array.isArray(p(3)) ? (p(3) as unknown[]).map(num) : []
      return await ui.promptForChoiceMultipleSelection(str(p(0)), str(p(1)), choices, defaults)
    }
    case 'GetForegroundColor':
      return ConsoleColor.of(raw?.foregroundColor ?? DEFAULT_RAW_UI.foregroundColor)
    case 'GetBackgroundColor':
      return ConsoleColor.of(raw?.backgroundColor ?? DEFAULT_RAW_UI.backgroundColor)
    case 'GetCursorPosition': {
      const c = raw?.cursorPosition ?? DEFAULT_RAW_UI.cursorPosition
      return Coordinates.create(c.x, c.y)
    }
    case 'GetWindowPosition': {
      const c = raw?.windowPosition ?? DEFAULT_RAW_UI.windowPosition
      return Coordinates.create(c.x, c.y)
    }
    case 'GetCursorSize':
      return raw?.cursorSize ?? DEFAULT_RAW_UI.cursorSize
    case 'GetBufferSize':
    case 'GetWindowSize':
    case 'GetMaxWindowSize':
    case 'GetMaxPhysicalWindowSize': {
      const key = (
        {
          GetBufferSize: 'bufferSize',
          GetWindowSize: 'windowSize',
          GetMaxWindowSize: 'maxWindowSize',
          GetMaxPhysicalWindowSize: 'maxPhysicalWindowSize',
        } as const
      )[method]
      const s = raw?.[key] ?? DEFAULT_RAW_UI[key]
      return Size.create(s.width, s.height)
    }
    case 'GetWindowTitle':
      return raw?.windowTitle ?? DEFAULT_RAW_UI.windowTitle
    case 'SetForegroundColor':
      if (raw !== undefined) raw.foregroundColor = num(p(0))
      return undefined
    case 'SetBackgroundColor':
      if (raw !== undefined) raw.backgroundColor = num(p(0))
      return undefined
    case 'SetCursorPosition':
      if (raw !== undefined) raw.cursorPosition = xy(p(0))
      return undefined
    case 'SetWindowPosition':
      if (raw !== undefined) raw.windowPosition = xy(p(0))
      return undefined
    case 'SetCursorSize':
      if (raw !== undefined) raw.cursorSize = num(p(0))
      return undefined
    case 'SetBufferSize':
      if (raw !== undefined) raw.bufferSize = wh(p(0))
      return undefined
    case 'SetWindowSize':
      if (raw !== undefined) raw.windowSize = wh(p(0))
      return undefined
    case 'SetWindowTitle':
      if (raw !== undefined) raw.windowTitle = str(p(0))
      return undefined
    case 'GetKeyAvailable':
      return (await raw?.keyAvailable?.()) ?? false
    case 'ReadKey': {
      if (raw?.readKey === undefined) throw missing('ReadKey', 'rawUI.readKey')
      return KeyInfo.create(await raw.readKey(num(p(0))))
    }
    case 'FlushInputBuffer':
      return raw?.flushInputBuffer?.()
    case 'SetBufferContents1':
    case 'SetBufferContents2':
      return raw?.setBufferContents?.(params)
    case 'GetBufferContents':
      if (raw?.getBufferContents === undefined) throw missing('GetBufferContents', 'rawUI.getBufferContents')
      return await raw.getBufferContents(p(0))
    case 'ScrollBufferContents':
      return raw?.scrollBufferContents?.(params)
    case 'PushRunspace':
    case 'PopRunspace':
      return undefined
    case 'GetIsRunspacePushed':
      return false
    case 'GetRunspace':
      throw new HostError('this client host does not expose a runspace (GetRunspace)')
    case undefined:
      throw new HostError('unknown host method')
  }
}

/** The ErrorRecord sent back when a host call fails. */
export function hostErrorRecord(error: unknown): ErrorRecord {
  const message = error instanceof Error ? error.message : String(error)
  return ErrorRecord.create({
    message,
    fullyQualifiedErrorId: 'RemoteHostExecutionException',
    category: 7,
    exceptionType: 'System.Management.Automation.Remoting.RemoteHostException',
  })
}
