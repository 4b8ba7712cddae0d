/**
 * One typed sample of every PSRP message type (MS-PSRP 2.2.2), shared by the unit, CLI and fuzz
 * tests. Values exercise the interesting shapes: call ids, enums, records, nested objects, two
 * statements in CREATE_PIPELINE, host calls with and without results.
 */
import { pipelineCommand, HostMethodId, type MessageFieldsMap } from '../../../src/psrp/index.ts'
import {
  ErrorRecord,
  HostInfo,
  InformationalRecord,
  InformationRecord,
  PSDateTime,
  PSGuid,
  PSObject,
  ProgressRecord,
  Size,
} from '../../../src/clixml/index.ts'

const err = ErrorRecord.create({ message: 'bad', fullyQualifiedErrorId: 'E1' })
const info = new InformationRecord({
  typeNames: ['System.Management.Automation.InformationRecord', 'System.Object'],
  extended: [
    ['MessageData', 'hello'],
    ['Source', 'src'],
    ['Tags', ['a']],
  ],
})

/** A typed sample per message type. */
export const sampleMessages: { [K in keyof MessageFieldsMap]: MessageFieldsMap[K] } = {
  SESSION_CAPABILITY: { protocolVersion: '2.3', psVersion: '2.0', serializationVersion: '1.1.0.1' },
  INIT_RUNSPACEPOOL: {
    minRunspaces: 1,
    maxRunspaces: 4,
    threadOptions: 0,
    apartmentState: 2,
    hostInfo: HostInfo.create(),
    applicationArguments: new Map([['k', 'v']]),
  },
  PUBLIC_KEY: { publicKey: 'AQID' },
  ENCRYPTED_SESSION_KEY: { encryptedSessionKey: 'BAUG' },
  PUBLIC_KEY_REQUEST: {},
  CONNECT_RUNSPACEPOOL: { minRunspaces: 1, maxRunspaces: 2 },
  SET_MAX_RUNSPACES: { maxRunspaces: 5, callId: 1n },
  SET_MIN_RUNSPACES: { minRunspaces: 2, callId: 2n },
  RUNSPACE_AVAILABILITY: { response: true, callId: 3n },
  RUNSPACEPOOL_STATE: { state: 5, error: err },
  CREATE_PIPELINE: {
    statements: [
      [
        pipelineCommand({
          command: 'Get-Item',
          args: [
            { name: 'Path', value: 'C:\\' },
            { name: undefined, value: 5 },
          ],
        }),
        pipelineCommand({ command: 'Select-Object', mergeError: 1, mergeMyResult: 2, mergeToResult: 1 }),
      ],
      [pipelineCommand({ command: '$a = 1; $a', isScript: true, useLocalScope: true })],
    ],
    noInput: false,
    addToHistory: true,
    isNested: false,
    apartmentState: 2,
    remoteStreamOptions: 0,
    hostInfo: HostInfo.create(),
    history: 'Get-Item',
    redirectShellErrorOutputPipe: true,
  },
  GET_AVAILABLE_RUNSPACES: { callId: 4n },
  USER_EVENT: {
    eventIdentifier: 1,
    sourceIdentifier: 'src',
    timeGenerated: PSDateTime.parse('2020-01-01T00:00:00Z'),
    messageData: 'data',
    runspaceId: new PSGuid('6e2f4cc5-3bd8-4a4a-9d52-27e5b0f0a6c1'),
  },
  APPLICATION_PRIVATE_DATA: {
    applicationPrivateData: new Map([['PSVersionTable', new Map([['PSVersion', '7.6.9']])]]),
  },
  GET_COMMAND_METADATA: { names: ['Get-*'], commandType: 8, namespace: ['Microsoft.PowerShell.Core'] },
  RUNSPACEPOOL_INIT_DATA: { minRunspaces: 1, maxRunspaces: 3 },
  RESET_RUNSPACE_STATE: { callId: 5n },
  RUNSPACEPOOL_HOST_CALL: {
    callId: 6n,
    methodId: HostMethodId.ReadLine,
    methodName: 'ReadLine',
    parameters: [],
  },
  RUNSPACEPOOL_HOST_RESPONSE: { callId: 6n, methodId: HostMethodId.ReadLine, result: 'typed' },
  PIPELINE_INPUT: { value: PSObject.custom({ x: 1 }) },
  END_OF_PIPELINE_INPUT: {},
  PIPELINE_OUTPUT: { value: [1, 'two', 3n] },
  ERROR_RECORD: { record: err },
  PIPELINE_STATE: { state: 4 },
  DEBUG_RECORD: { record: InformationalRecord.create('Debug', 'dbg') },
  VERBOSE_RECORD: { record: InformationalRecord.create('Verbose', 'vrb') },
  WARNING_RECORD: { record: InformationalRecord.create('Warning', 'wrn') },
  PROGRESS_RECORD: {
    record: ProgressRecord.create({ activity: 'a', statusDescription: 's', percentComplete: 7 }),
  },
  INFORMATION_RECORD: { record: info },
  PIPELINE_HOST_CALL: {
    callId: 7n,
    methodId: HostMethodId.SetWindowSize,
    methodName: 'SetWindowSize',
    parameters: [Size.create(80, 25)],
  },
  PIPELINE_HOST_RESPONSE: { callId: 8n, methodId: HostMethodId.Prompt, error: err },
}
