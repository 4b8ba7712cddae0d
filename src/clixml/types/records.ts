/**
 * Typed classes for the complex types of MS-PSRP 2.2.3 (and the record bodies of 2.2.2). Each is a
 * {@link PSObject} subclass whose typed fields are getters over the property maps, so a received
 * object re-serializes exactly as it came, and each has a static factory to build one from JS values.
 *
 * @module
 */
import { PSObject } from '../ps-object.ts'
import { registerType } from '../registry.ts'
import { PSChar, PSSecureString } from '../primitives.ts'
import { ConsoleColor, ControlKeyStates, ErrorCategory, ProgressRecordType, BufferCellType } from './enums.ts'

function str(o: PSObject, name: string): string | undefined {
  const v = o.get(name)
  return v === undefined || v === null ? undefined : String(v)
}

function num(o: PSObject, name: string): number | undefined {
  const v = o.get(name)
  return v === undefined || v === null ? undefined : Number(v)
}

function bool(o: PSObject, name: string): boolean | undefined {
  const v = o.get(name)
  return typeof v === 'boolean' ? v : undefined
}

function obj(o: PSObject, name: string): PSObject | undefined {
  const v = o.get(name)
  return v instanceof PSObject ? v : undefined
}

/** Category information of an ErrorRecord (`ErrorCategory_*` properties, MS-PSRP 2.2.3.15). */
export interface ErrorCategoryInfo {
  category: number
  categoryName: string | undefined
  activity: string | undefined
  reason: string | undefined
  targetName: string | undefined
  targetType: string | undefined
  message: string | undefined
}

/** Where a command ran (`InvocationInfo_*`/`InvocationInfo` properties, MS-PSRP 2.2.3.15/16). */
export interface InvocationInfoView {
  scriptName: string | undefined
  scriptLineNumber: number | undefined
  offsetInLine: number | undefined
  line: string | undefined
  positionMessage: string | undefined
  commandName: string | undefined
}

function invocationInfo(o: PSObject): InvocationInfoView | undefined {
  const inv = obj(o, 'InvocationInfo')
  const serialized =
    bool(o, 'SerializeExtendedInfo') ?? bool(o, 'InformationalRecord_SerializeInvocationInfo')
  if (inv === undefined && serialized !== true) return undefined
  const from = (name: string): unknown => inv?.get(name) ?? o.get(`InvocationInfo_${name}`)
  const s = (name: string): string | undefined => {
    const v = from(name)
    return v === undefined || v === null ? undefined : String(v)
  }
  const n = (name: string): number | undefined => {
    const v = from(name)
    return v === undefined || v === null ? undefined : Number(v)
  }
  const myCommand = inv?.get('MyCommand') ?? o.get('InvocationInfo_MyCommand')
  return {
    scriptName: s('ScriptName'),
    scriptLineNumber: n('ScriptLineNumber'),
    offsetInLine: n('OffsetInLine'),
    line: s('Line'),
    positionMessage: s('PositionMessage'),
    commandName: s('InvocationName') ?? (myCommand instanceof PSObject ? str(myCommand, 'Name') : undefined),
  }
}

/** `System.Management.Automation.ErrorRecord` (MS-PSRP 2.2.3.15). */
export class ErrorRecord extends PSObject {
  /** The exception object (typically with `Message`, `StackTrace`, … in its adapted properties). */
  get exception(): PSObject | undefined {
    return obj(this, 'Exception')
  }
  /** The error message: ErrorDetails message, else the exception message, else ToString. */
  get message(): string {
    return (
      str(this, 'ErrorDetails_Message') ??
      (this.exception !== undefined ? str(this.exception, 'Message') : undefined) ??
      this.toString()
    )
  }
  /** E.g. `CommandNotFoundException`. */
  get fullyQualifiedErrorId(): string | undefined {
    return str(this, 'FullyQualifiedErrorId')
  }
  /** The object the error was about. */
  get targetObject(): unknown {
    return this.get('TargetObject')
  }
  /** ErrorDetails recommended action. */
  get recommendedAction(): string | undefined {
    return str(this, 'ErrorDetails_RecommendedAction')
  }
  /** Category information. */
  get categoryInfo(): ErrorCategoryInfo {
    const category = num(this, 'ErrorCategory_Category') ?? 0
    const names = Object.entries(ErrorCategory.values).find(([, v]) => v === category)
    return {
      category,
      categoryName: names?.[0],
      activity: str(this, 'ErrorCategory_Activity'),
      reason: str(this, 'ErrorCategory_Reason'),
      targetName: str(this, 'ErrorCategory_TargetName'),
      targetType: str(this, 'ErrorCategory_TargetType'),
      message: str(this, 'ErrorCategory_Message'),
    }
  }
  /** Script position, when the server serialized invocation info. */
  get invocationInfo(): InvocationInfoView | undefined {
    return invocationInfo(this)
  }
  /** The script stack trace, if sent. */
  get scriptStackTrace(): string | undefined {
    return str(this, 'ErrorDetails_ScriptStackTrace')
  }

  /** Builds an ErrorRecord to send (e.g. as a host-call exception). */
  static create(init: {
    message: string
    fullyQualifiedErrorId: string
    category?: number
    exceptionType?: string
    targetObject?: unknown
  }): ErrorRecord {
    const exception = new PSObject({
      typeNames: [init.exceptionType ?? 'System.Exception', 'System.Object'],
      toStringValue: `${init.exceptionType ?? 'System.Exception'}: ${init.message}`,
      adapted: [
        ['Message', init.message],
        ['Data', new Map()],
        ['Source', null],
        ['HResult', -2146233088],
      ],
    })
    const category = init.category ?? 0
    return new ErrorRecord({
      typeNames: ['System.Management.Automation.ErrorRecord', 'System.Object'],
      toStringValue: init.message,
      extended: [
        ['Exception', exception],
        ['TargetObject', init.targetObject ?? null],
        ['FullyQualifiedErrorId', init.fullyQualifiedErrorId],
        ['InvocationInfo', null],
        ['ErrorCategory_Category', category],
        ['ErrorCategory_Activity', ''],
        ['ErrorCategory_Reason', init.exceptionType?.split('.').pop() ?? 'Exception'],
        ['ErrorCategory_TargetName', ''],
        ['ErrorCategory_TargetType', ''],
        [
          'ErrorCategory_Message',
          `${ErrorCategory.of(category).name}: (:) [], ${init.exceptionType?.split('.').pop() ?? 'Exception'}`,
        ],
        ['SerializeExtendedInfo', false],
      ],
    })
  }
}
registerType('System.Management.Automation.ErrorRecord', ErrorRecord)

/** `System.Management.Automation.InformationalRecord` (MS-PSRP 2.2.3.16): warning, verbose, debug. */
export class InformationalRecord extends PSObject {
  /** The message text. */
  get message(): string {
    return str(this, 'InformationalRecord_Message') ?? str(this, 'Message') ?? this.toString()
  }
  /** Script position, when sent. */
  get invocationInfo(): InvocationInfoView | undefined {
    return invocationInfo(this)
  }
  /** Builds a record of the given kind. */
  static create(kind: 'Warning' | 'Verbose' | 'Debug', message: string): InformationalRecord {
    const cls = kind === 'Warning' ? WarningRecord : kind === 'Verbose' ? VerboseRecord : DebugRecord
    return new cls({
      typeNames: [
        `System.Management.Automation.${kind}Record`,
        'System.Management.Automation.InformationalRecord',
        'System.Object',
      ],
      toStringValue: message,
      extended: [
        ['InformationalRecord_Message', message],
        ['InformationalRecord_SerializeInvocationInfo', false],
      ],
    })
  }
}
/** A `WarningRecord`. */
export class WarningRecord extends InformationalRecord {}
/** A `VerboseRecord`. */
export class VerboseRecord extends InformationalRecord {}
/** A `DebugRecord`. */
export class DebugRecord extends InformationalRecord {}
registerType('System.Management.Automation.WarningRecord', WarningRecord)
registerType('System.Management.Automation.VerboseRecord', VerboseRecord)
registerType('System.Management.Automation.DebugRecord', DebugRecord)
registerType('System.Management.Automation.InformationalRecord', InformationalRecord)

/** `System.Management.Automation.InformationRecord` (MS-PSRP 2.2.2.26). */
export class InformationRecord extends PSObject {
  /** The payload (for `Write-Host`, a HostInformationMessage object). */
  get messageData(): unknown {
    return this.get('MessageData')
  }
  /** The message as text. */
  get message(): string {
    const d = this.messageData
    if (d instanceof PSObject) return str(d, 'Message') ?? d.toString()
    return d === undefined || d === null ? this.toString() : String(d)
  }
  get source(): string | undefined {
    return str(this, 'Source')
  }
  get tags(): string[] {
    const t = this.get('Tags')
    return Array.isArray(t) ? t.map(String) : []
  }
  get user(): string | undefined {
    return str(this, 'User')
  }
  get computer(): string | undefined {
    return str(this, 'Computer')
  }
  get processId(): number | undefined {
    return num(this, 'ProcessId')
  }
  /** When the record was made. */
  get timeGenerated(): unknown {
    return this.get('TimeGenerated')
  }
}
registerType('System.Management.Automation.InformationRecord', InformationRecord)

/** `System.Management.Automation.ProgressRecord` (MS-PSRP 2.2.2.25). */
export class ProgressRecord extends PSObject {
  /**
   * The CLIXML form the record is written in: `'Obj'`, an object with the record's properties (how
   * PROGRESS_RECORD messages carry it, MS-PSRP 2.2.2.25), or `'PR'`, the compact `<PR>` element that
   * PowerShell's serializer writes for a live ProgressRecord (e.g. one sent as pipeline output). A
   * record read from `<PR>` keeps `'PR'`, so it re-serializes byte for byte.
   */
  element: 'Obj' | 'PR' = 'Obj'
  get activity(): string | undefined {
    return str(this, 'Activity')
  }
  get activityId(): number | undefined {
    return num(this, 'ActivityId')
  }
  get statusDescription(): string | undefined {
    return str(this, 'StatusDescription')
  }
  get currentOperation(): string | undefined {
    return str(this, 'CurrentOperation')
  }
  get parentActivityId(): number | undefined {
    return num(this, 'ParentActivityId')
  }
  get percentComplete(): number | undefined {
    return num(this, 'PercentComplete')
  }
  get secondsRemaining(): number | undefined {
    return num(this, 'SecondsRemaining')
  }
  /** `Processing` or `Completed`. */
  get recordType(): string | undefined {
    return str(this, 'Type')
  }
  /** Builds a ProgressRecord. */
  static create(init: {
    activity: string
    activityId?: number
    statusDescription: string
    currentOperation?: string
    parentActivityId?: number
    percentComplete?: number
    secondsRemaining?: number
    completed?: boolean
  }): ProgressRecord {
    return new ProgressRecord({
      extended: [
        ['Activity', init.activity],
        ['ActivityId', init.activityId ?? 0],
        ['StatusDescription', init.statusDescription],
        ['CurrentOperation', init.currentOperation ?? null],
        ['ParentActivityId', init.parentActivityId ?? -1],
        ['PercentComplete', init.percentComplete ?? -1],
        ['SecondsRemaining', init.secondsRemaining ?? -1],
        ['Type', ProgressRecordType.of(init.completed === true ? 1 : 0)],
      ],
    })
  }
}
registerType('System.Management.Automation.ProgressRecord', ProgressRecord)

/** `System.Management.Automation.PSCredential` (MS-PSRP 2.2.3.25). */
export class PSCredential extends PSObject {
  get userName(): string | undefined {
    return str(this, 'UserName')
  }
  get password(): PSSecureString | undefined {
    const p = this.get('Password')
    return p instanceof PSSecureString ? p : undefined
  }
  /** Builds a credential (the password is sent as a SecureString). */
  static create(userName: string, password: string | PSSecureString): PSCredential {
    return new PSCredential({
      typeNames: ['System.Management.Automation.PSCredential', 'System.Object'],
      adapted: [
        ['UserName', userName],
        ['Password', typeof password === 'string' ? new PSSecureString(password) : password],
      ],
    })
  }
}
registerType('System.Management.Automation.PSCredential', PSCredential)

/** `System.Management.Automation.Host.Coordinates` (MS-PSRP 2.2.3.1). */
export class Coordinates extends PSObject {
  get x(): number {
    return num(this, 'X') ?? 0
  }
  get y(): number {
    return num(this, 'Y') ?? 0
  }
  /** Coordinates with these values, typed as PowerShell sends them. */
  static create(x: number, y: number): Coordinates {
    return new Coordinates({
      typeNames: ['System.Management.Automation.Host.Coordinates', 'System.ValueType', 'System.Object'],
      toStringValue: `${x},${y}`,
      adapted: [
        ['X', x],
        ['Y', y],
      ],
    })
  }
}
registerType('System.Management.Automation.Host.Coordinates', Coordinates)

/** `System.Management.Automation.Host.Size` (MS-PSRP 2.2.3.2). */
export class Size extends PSObject {
  get width(): number {
    return num(this, 'Width') ?? 0
  }
  get height(): number {
    return num(this, 'Height') ?? 0
  }
  /** A Size with these values, typed as PowerShell sends it. */
  static create(width: number, height: number): Size {
    return new Size({
      typeNames: ['System.Management.Automation.Host.Size', 'System.ValueType', 'System.Object'],
      toStringValue: `${width},${height}`,
      adapted: [
        ['Width', width],
        ['Height', height],
      ],
    })
  }
}
registerType('System.Management.Automation.Host.Size', Size)

/** `System.Management.Automation.Host.Rectangle` (MS-PSRP 2.2.3.? used by RawUI GetBufferContents). */
export class Rectangle extends PSObject {
  get left(): number {
    return num(this, 'Left') ?? 0
  }
  get top(): number {
    return num(this, 'Top') ?? 0
  }
  get right(): number {
    return num(this, 'Right') ?? 0
  }
  get bottom(): number {
    return num(this, 'Bottom') ?? 0
  }
}
registerType('System.Management.Automation.Host.Rectangle', Rectangle)

/** `System.Management.Automation.Host.KeyInfo` (MS-PSRP 2.2.3.26). */
export class KeyInfo extends PSObject {
  get virtualKeyCode(): number {
    return num(this, 'VirtualKeyCode') ?? 0
  }
  get character(): string {
    const c = this.get('Character')
    return c instanceof PSChar ? c.toString() : String(c ?? '')
  }
  get controlKeyState(): number {
    return num(this, 'ControlKeyState') ?? 0
  }
  get keyDown(): boolean {
    return bool(this, 'KeyDown') ?? false
  }
  /** A KeyInfo (the answer to `$Host.UI.RawUI.ReadKey`) with these values. */
  static create(init: {
    virtualKeyCode: number
    character: string
    controlKeyState?: number
    keyDown: boolean
  }): KeyInfo {
    return new KeyInfo({
      typeNames: ['System.Management.Automation.Host.KeyInfo', 'System.ValueType', 'System.Object'],
      adapted: [
        ['VirtualKeyCode', init.virtualKeyCode],
        ['Character', new PSChar(init.character === '' ? 0 : init.character.charCodeAt(0))],
        ['ControlKeyState', ControlKeyStates.of(init.controlKeyState ?? 0)],
        ['KeyDown', init.keyDown],
      ],
    })
  }
}
registerType('System.Management.Automation.Host.KeyInfo', KeyInfo)

/** `System.Management.Automation.Host.BufferCell` (MS-PSRP 2.2.3.28). */
export class BufferCell extends PSObject {
  get character(): string {
    const c = this.get('Character')
    return c instanceof PSChar ? c.toString() : String(c ?? '')
  }
  get foregroundColor(): number {
    return num(this, 'ForegroundColor') ?? 0
  }
  get backgroundColor(): number {
    return num(this, 'BackgroundColor') ?? 0
  }
  get bufferCellType(): number {
    return num(this, 'BufferCellType') ?? 0
  }
  /** A BufferCell: one character with its ConsoleColor numbers and BufferCellType. */
  static create(character: string, foreground: number, background: number, type = 0): BufferCell {
    return new BufferCell({
      typeNames: ['System.Management.Automation.Host.BufferCell', 'System.ValueType', 'System.Object'],
      adapted: [
        ['Character', new PSChar(character === '' ? 32 : character.charCodeAt(0))],
        ['ForegroundColor', ConsoleColor.of(foreground)],
        ['BackgroundColor', ConsoleColor.of(background)],
        ['BufferCellType', BufferCellType.of(type)],
      ],
    })
  }
}
registerType('System.Management.Automation.Host.BufferCell', BufferCell)

/** `System.Management.Automation.Host.ChoiceDescription` (PromptForChoice argument). */
export class ChoiceDescription extends PSObject {
  get label(): string {
    return str(this, 'Label') ?? ''
  }
  get helpMessage(): string {
    return str(this, 'HelpMessage') ?? ''
  }
}
registerType('System.Management.Automation.Host.ChoiceDescription', ChoiceDescription)

/** `System.Management.Automation.Host.FieldDescription` (Prompt argument). */
export class FieldDescription extends PSObject {
  get name(): string {
    return str(this, 'Name') ?? ''
  }
  get label(): string {
    return str(this, 'Label') ?? ''
  }
  get parameterTypeName(): string | undefined {
    return str(this, 'ParameterTypeName')
  }
  get parameterTypeFullName(): string | undefined {
    return str(this, 'ParameterTypeFullName')
  }
  get helpMessage(): string {
    return str(this, 'HelpMessage') ?? ''
  }
  get isMandatory(): boolean {
    return bool(this, 'IsMandatory') ?? false
  }
  get defaultValue(): unknown {
    return this.get('DefaultValue')
  }
}
registerType('System.Management.Automation.Host.FieldDescription', FieldDescription)

/** `System.Globalization.CultureInfo` (as PowerShell serializes it: name in ToString and properties). */
export class CultureInfo extends PSObject {
  get cultureName(): string {
    return str(this, 'Name') ?? this.toString()
  }
  get lcid(): number | undefined {
    return num(this, 'LCID')
  }
  get displayName(): string | undefined {
    return str(this, 'DisplayName')
  }
}
registerType('System.Globalization.CultureInfo', CultureInfo)

/** `System.Management.Automation.Runspaces.HostInfo` (MS-PSRP 2.2.3.14). */
export class HostInfo extends PSObject {
  get isHostNull(): boolean {
    return bool(this, '_isHostNull') ?? true
  }
  get isHostUINull(): boolean {
    return bool(this, '_isHostUINull') ?? true
  }
  get isHostRawUINull(): boolean {
    return bool(this, '_isHostRawUINull') ?? true
  }
  get useRunspaceHost(): boolean {
    return bool(this, '_useRunspaceHost') ?? true
  }
  /** The host default data (2.2.3.13) as key → value, when sent. */
  get hostDefaultData(): Map<number, unknown> | undefined {
    const d = obj(this, '_hostDefaultData')
    const data = d?.get('data')
    if (!(data instanceof Map)) return undefined
    const out = new Map<number, unknown>()
    for (const [k, v] of data) out.set(Number(k), v instanceof PSObject ? v.get('V') : v)
    return out
  }

  /**
   * Builds the HostInfo of INIT_RUNSPACEPOOL / CREATE_PIPELINE. Without a host every flag is true
   * (the server uses its own host). With one, `defaultData` carries the RawUI values (2.2.3.13) keyed
   * by their index (0 ForegroundColor, 1 BackgroundColor, 2 CursorPosition, 3 WindowPosition,
   * 4 CursorSize, 5 BufferSize, 6 WindowSize, 7 MaxWindowSize, 8 MaxPhysicalWindowSize, 9 WindowTitle).
   */
  static create(init?: {
    useRunspaceHost?: boolean
    isHostNull?: boolean
    isHostUINull?: boolean
    isHostRawUINull?: boolean
    defaultData?: Map<number, unknown>
  }): HostInfo {
    const extended: [string, unknown][] = []
    if (init?.defaultData !== undefined) {
      const data = new Map<unknown, unknown>()
      for (const [k, v] of init.defaultData) {
        data.set(
          k,
          new PSObject({
            extended: [
              ['T', dotNetTypeOf(v)],
              ['V', hostDataValue(v)],
            ],
          }),
        )
      }
      extended.push(['_hostDefaultData', new PSObject({ extended: [['data', data]] })])
    }
    extended.push(['_isHostNull', init?.isHostNull ?? init?.defaultData === undefined])
    extended.push(['_isHostUINull', init?.isHostUINull ?? init?.defaultData === undefined])
    extended.push(['_isHostRawUINull', init?.isHostRawUINull ?? init?.defaultData === undefined])
    extended.push(['_useRunspaceHost', init?.useRunspaceHost ?? init?.defaultData === undefined])
    return new HostInfo({ extended })
  }
}
registerType('System.Management.Automation.Runspaces.HostInfo', HostInfo)

function hostDataValue(v: unknown): unknown {
  // MS-PSRP 2.2.3.13: colors travel as their Int32 value, coordinates and sizes as x/y and width/height
  if (v instanceof PSObject && v.typeNames[0] === 'System.ConsoleColor') return Number(v.baseValue)
  if (v instanceof Coordinates)
    return new PSObject({
      extended: [
        ['x', v.x],
        ['y', v.y],
      ],
    })
  if (v instanceof Size)
    return new PSObject({
      extended: [
        ['width', v.width],
        ['height', v.height],
      ],
    })
  return v
}

function dotNetTypeOf(v: unknown): string {
  if (v instanceof Coordinates) return 'System.Management.Automation.Host.Coordinates'
  if (v instanceof Size) return 'System.Management.Automation.Host.Size'
  if (v instanceof PSObject && v.typeNames[0] === 'System.ConsoleColor') return 'System.ConsoleColor'
  if (typeof v === 'string') return 'System.String'
  if (typeof v === 'number') return 'System.Int32'
  return 'System.Object'
}

/** `CommandMetadataCount` (MS-PSRP 2.2.3.21): first reply of GET_COMMAND_METADATA. */
export class CommandMetadataCount extends PSObject {
  get count(): number {
    return num(this, 'Count') ?? 0
  }
}
registerType('Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo', CommandMetadataCount)

/** `ParameterMetadata` (MS-PSRP 2.2.3.23). */
export class ParameterMetadata extends PSObject {
  get parameterName(): string | undefined {
    return str(this, 'Name')
  }
  get parameterType(): string | undefined {
    return str(this, 'ParameterType')
  }
  get isDynamic(): boolean {
    return bool(this, 'IsDynamic') ?? false
  }
}
registerType('System.Management.Automation.ParameterMetadata', ParameterMetadata)

/** `CommandMetadata` (MS-PSRP 2.2.3.22): one reply per command of GET_COMMAND_METADATA. */
export class CommandMetadata extends PSObject {
  get commandName(): string | undefined {
    return str(this, 'Name')
  }
  get namespace(): string | undefined {
    return str(this, 'Namespace')
  }
  get helpUri(): string | undefined {
    return str(this, 'HelpUri')
  }
  get commandType(): number | undefined {
    return num(this, 'CommandType')
  }
  get outputType(): string[] {
    const o = this.get('OutputType')
    return Array.isArray(o) ? o.map(String) : []
  }
  /** Parameters by name. */
  get parameters(): Map<string, unknown> {
    const p = this.get('Parameters')
    const out = new Map<string, unknown>()
    if (p instanceof Map) for (const [k, v] of p) out.set(String(k), v)
    return out
  }
}
registerType('System.Management.Automation.CommandInfo', CommandMetadata)
