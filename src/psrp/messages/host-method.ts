/**
 * Remote host method identifiers (MS-PSRP 2.2.3.17): which PSHost, PSHostUserInterface or
 * PSHostRawUserInterface method a host call invokes.
 *
 * @module
 */

/** Every RemoteHostMethodId and its value. */
export const HostMethodId = {
  GetName: 1,
  GetVersion: 2,
  GetInstanceId: 3,
  GetCurrentCulture: 4,
  GetCurrentUICulture: 5,
  SetShouldExit: 6,
  EnterNestedPrompt: 7,
  ExitNestedPrompt: 8,
  NotifyBeginApplication: 9,
  NotifyEndApplication: 10,
  ReadLine: 11,
  ReadLineAsSecureString: 12,
  Write1: 13,
  Write2: 14,
  WriteLine1: 15,
  WriteLine2: 16,
  WriteLine3: 17,
  WriteErrorLine: 18,
  WriteDebugLine: 19,
  WriteProgress: 20,
  WriteVerboseLine: 21,
  WriteWarningLine: 22,
  Prompt: 23,
  PromptForCredential1: 24,
  PromptForCredential2: 25,
  PromptForChoice: 26,
  GetForegroundColor: 27,
  SetForegroundColor: 28,
  GetBackgroundColor: 29,
  SetBackgroundColor: 30,
  GetCursorPosition: 31,
  SetCursorPosition: 32,
  GetWindowPosition: 33,
  SetWindowPosition: 34,
  GetCursorSize: 35,
  SetCursorSize: 36,
  GetBufferSize: 37,
  SetBufferSize: 38,
  GetWindowSize: 39,
  SetWindowSize: 40,
  GetWindowTitle: 41,
  SetWindowTitle: 42,
  GetMaxWindowSize: 43,
  GetMaxPhysicalWindowSize: 44,
  GetKeyAvailable: 45,
  ReadKey: 46,
  FlushInputBuffer: 47,
  SetBufferContents1: 48,
  SetBufferContents2: 49,
  GetBufferContents: 50,
  ScrollBufferContents: 51,
  PushRunspace: 52,
  PopRunspace: 53,
  GetIsRunspacePushed: 54,
  GetRunspace: 55,
  PromptForChoiceMultipleSelection: 56,
} as const

/** Name of a host method. */
export type HostMethodName = keyof typeof HostMethodId

const names = new Map<number, HostMethodName>(
  Object.entries(HostMethodId).map(([k, v]) => [v, k as HostMethodName]),
)

/** Name of a host method id, or undefined. */
export function hostMethodName(id: number): HostMethodName | undefined {
  return names.get(id)
}

/**
 * Methods that return nothing: the server does not wait for a response (MS-PSRP 3.1.4.6; e.g.
 * Write*, SetShouldExit, Set* RawUI properties).
 */
export const VOID_HOST_METHODS: ReadonlySet<HostMethodName> = new Set<HostMethodName>([
  'SetShouldExit',
  'EnterNestedPrompt',
  'ExitNestedPrompt',
  'NotifyBeginApplication',
  'NotifyEndApplication',
  'Write1',
  'Write2',
  'WriteLine1',
  'WriteLine2',
  'WriteLine3',
  'WriteErrorLine',
  'WriteDebugLine',
  'WriteProgress',
  'WriteVerboseLine',
  'WriteWarningLine',
  'SetForegroundColor',
  'SetBackgroundColor',
  'SetCursorPosition',
  'SetWindowPosition',
  'SetCursorSize',
  'SetBufferSize',
  'SetWindowSize',
  'SetWindowTitle',
  'FlushInputBuffer',
  'SetBufferContents1',
  'SetBufferContents2',
  'ScrollBufferContents',
  'PushRunspace',
  'PopRunspace',
])
