/**
 * The enumerations MS-PSRP 2.2.3 defines, as typed {@link PSEnum} subclasses with their numeric
 * values. Each is registered so that incoming CLIXML enum objects deserialize to its class.
 *
 * @module
 */
import { PSEnum } from '../ps-object.ts'
import { registerType } from '../registry.ts'

/** Shape of the generated enum classes. */
export interface EnumClass<V extends Record<string, number>> {
  new (init?: { typeNames?: string[] }): PSEnum
  /** The .NET type name. */
  readonly typeName: string
  /** Name → value table. */
  readonly values: V
  /** Builds a value (flags: several names combined with `|`). */
  of(value: number): PSEnum
}

function defineEnum<V extends Record<string, number>>(
  typeName: string,
  values: V,
  flags = false,
): EnumClass<V> {
  const cls = class extends PSEnum {
    static readonly typeName = typeName
    static readonly values = values
    static of(value: number): PSEnum {
      return cls.create(typeName, value, enumName(values, value, flags))
    }
  }
  Object.defineProperty(cls, 'name', { value: typeName.slice(typeName.lastIndexOf('.') + 1) })
  registerType(typeName, cls)
  return cls
}

/** The name PowerShell writes in `<ToString>` for an enum value. */
export function enumName(values: Record<string, number>, value: number, flags: boolean): string {
  for (const [k, v] of Object.entries(values)) if (v === value) return k
  if (!flags) return String(value)
  const parts: string[] = []
  let rest = value
  for (const [k, v] of Object.entries(values).sort((a, b) => b[1] - a[1])) {
    if (v !== 0 && (rest & v) === v) {
      parts.unshift(k)
      rest &= ~v
    }
  }
  return rest === 0 && parts.length > 0 ? parts.join(', ') : String(value)
}

/** 2.2.3.6 PSThreadOptions. */
export const PSThreadOptions = defineEnum('System.Management.Automation.Runspaces.PSThreadOptions', {
  Default: 0,
  UseNewThread: 1,
  ReuseThread: 2,
  UseCurrentThread: 3,
})

/** 2.2.3.7 ApartmentState. */
export const ApartmentState = defineEnum('System.Threading.ApartmentState', { STA: 0, MTA: 1, Unknown: 2 })

/** 2.2.3.8 RemoteStreamOptions (flags). */
export const RemoteStreamOptions = defineEnum(
  'System.Management.Automation.RemoteStreamOptions',
  {
    None: 0,
    AddInvocationInfoToErrorRecord: 1,
    AddInvocationInfoToWarningRecord: 2,
    AddInvocationInfoToDebugRecord: 4,
    AddInvocationInfoToVerboseRecord: 8,
    AddInvocationInfo: 15,
  },
  true,
)

/** 2.2.3.4 RunspacePoolState. */
export const RunspacePoolState = defineEnum('System.Management.Automation.Runspaces.RunspacePoolState', {
  BeforeOpen: 0,
  Opening: 1,
  Opened: 2,
  Closed: 3,
  Closing: 4,
  Broken: 5,
  NegotiationSent: 6,
  NegotiationSucceeded: 7,
  Connecting: 8,
  Disconnected: 9,
})

/** 2.2.3.5 PSInvocationState. */
export const PSInvocationState = defineEnum('System.Management.Automation.PSInvocationState', {
  NotStarted: 0,
  Running: 1,
  Stopping: 2,
  Stopped: 3,
  Completed: 4,
  Failed: 5,
  Disconnected: 6,
})

/** 2.2.3.9 ErrorCategory. */
export const ErrorCategory = defineEnum('System.Management.Automation.ErrorCategory', {
  NotSpecified: 0,
  OpenError: 1,
  CloseError: 2,
  DeviceError: 3,
  DeadlockDetected: 4,
  InvalidArgument: 5,
  InvalidData: 6,
  InvalidOperation: 7,
  InvalidResult: 8,
  InvalidType: 9,
  MetadataError: 10,
  NotImplemented: 11,
  NotInstalled: 12,
  ObjectNotFound: 13,
  OperationStopped: 14,
  OperationTimeout: 15,
  SyntaxError: 16,
  ParserError: 17,
  PermissionDenied: 18,
  ResourceBusy: 19,
  ResourceExists: 20,
  ResourceUnavailable: 21,
  ReadError: 22,
  WriteError: 23,
  FromStdErr: 24,
  SecurityError: 25,
  ProtocolError: 26,
  ConnectionError: 27,
  AuthenticationError: 28,
  LimitsExceeded: 29,
  QuotaExceeded: 30,
  NotEnabled: 31,
})

/** 2.2.3.19 CommandType (flags). */
export const CommandTypes = defineEnum(
  'System.Management.Automation.CommandTypes',
  {
    Alias: 1,
    Function: 2,
    Filter: 4,
    Cmdlet: 8,
    ExternalScript: 16,
    Application: 32,
    Script: 64,
    Workflow: 128,
    Configuration: 256,
    All: 511,
  },
  true,
)

/** ProgressRecordType (2.2.2.25 PROGRESS_RECORD). */
export const ProgressRecordType = defineEnum('System.Management.Automation.ProgressRecordType', {
  Processing: 0,
  Completed: 1,
})

/** 2.2.3.31 PipelineResultTypes (merge targets). */
export const PipelineResultTypes = defineEnum('System.Management.Automation.Runspaces.PipelineResultTypes', {
  None: 0,
  Output: 1,
  Error: 2,
  Warning: 3,
  Verbose: 4,
  Debug: 5,
  Information: 6,
  All: 7,
  Null: 8,
})

/** 2.2.3.3 Color (System.ConsoleColor). */
export const ConsoleColor = defineEnum('System.ConsoleColor', {
  Black: 0,
  DarkBlue: 1,
  DarkGreen: 2,
  DarkCyan: 3,
  DarkRed: 4,
  DarkMagenta: 5,
  DarkYellow: 6,
  Gray: 7,
  DarkGray: 8,
  Blue: 9,
  Green: 10,
  Cyan: 11,
  Red: 12,
  Magenta: 13,
  Yellow: 14,
  White: 15,
})

/** 2.2.3.27 ControlKeyStates (flags). */
export const ControlKeyStates = defineEnum(
  'System.Management.Automation.Host.ControlKeyStates',
  {
    RightAltPressed: 1,
    LeftAltPressed: 2,
    RightCtrlPressed: 4,
    LeftCtrlPressed: 8,
    ShiftPressed: 16,
    NumLockOn: 32,
    ScrollLockOn: 64,
    CapsLockOn: 128,
    EnhancedKey: 256,
  },
  true,
)

/** 2.2.3.29 BufferCellType. */
export const BufferCellType = defineEnum('System.Management.Automation.Host.BufferCellType', {
  Complete: 0,
  Leading: 1,
  Trailing: 2,
})

/** ReadKeyOptions (flags; argument of RawUI ReadKey, 2.2.3.17). */
export const ReadKeyOptions = defineEnum(
  'System.Management.Automation.Host.ReadKeyOptions',
  { AllowCtrlC: 1, NoEcho: 2, IncludeKeyDown: 4, IncludeKeyUp: 8 },
  true,
)

/** SessionStateEntryVisibility (CommandMetadata visibility). */
export const SessionStateEntryVisibility = defineEnum(
  'System.Management.Automation.SessionStateEntryVisibility',
  {
    Public: 0,
    Private: 1,
  },
)
