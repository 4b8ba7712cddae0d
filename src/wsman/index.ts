/**
 * The sans-IO WS-Management layer: build request envelopes from typed values, parse response
 * envelopes into a typed union, and the WinRS and PowerShell-over-WinRS bodies (MS-WSMV, MS-PSRP
 * 3.1.5.3). No I/O, no clock; the only entropy is the injectable MessageID GUID source.
 *
 * ```ts
 * const xml = buildEnvelope(psrpReceive({ shellId, pipelineId }), { to, sessionId, messageId })
 * const res = parseResponse(await post(xml), { relatesTo: messageId })
 * switch (res.kind) {
 *   case 'receive': …; break
 *   case 'timedOut': break                         // long poll expired: poll again
 *   case 'fault': throw faultToError(res.fault)
 * }
 * ```
 *
 * What is exported is what a user of this layer needs: the request builders and their option types,
 * `buildEnvelope`, `parseResponse` and the response types, `parseShell` and `faultToError`, and the
 * constants those values are compared with (resource URIs, signal codes, command states, fault
 * codes). The XML helpers, namespace tables and duration codecs behind them stay internal.
 *
 * @module
 */
export { parseActionResponse } from './action-response.ts'
export type { ActionResponse } from './action-response.ts'
export {
  cimMethodRequest,
  cimResourceUri,
  convertCimValue,
  KNOWN_CIM_TYPES,
  parseCimInstance,
  parseCimMethodOutput,
} from './cim.ts'
export type { CimInputValue, CimObject, CimParseOptions, CimSchema, CimType, CimValue } from './cim.ts'
export { ResourceUri } from './constants.ts'
export { buildEnvelope, buildEnvelopeBytes } from './envelope.ts'
export type {
  CreateRequest,
  CustomRequest,
  EnumerateRequest,
  EnumerationFilter,
  EnvelopeOptions,
  PullRequest,
  PutRequest,
  RequestCommon,
  SelectorSet,
  ShellRequest,
  TransferRequest,
  WSManOption,
  WSManRequest,
  WSManRequestAction,
} from './envelope.ts'
export { EnumerationCursor, releaseRequest, wqlFilter, WQL_DIALECT } from './enumeration.ts'
export type { EnumerationOptions } from './enumeration.ts'
export { faultToError, WSManFaultCode } from './fault.ts'
export type {
  FaultToErrorOptions,
  ProviderFault,
  WmiError,
  WSManFault,
  WSManFaultErrorDetails,
} from './fault.ts'
export {
  DEFAULT_CONFIGURATION_NAME,
  DEFAULT_PROTOCOL_VERSION,
  powerShellResourceUri,
  psrpCommand,
  psrpConnect,
  psrpConnectCommand,
  psrpCreate,
  psrpDelete,
  psrpDisconnect,
  psrpEnumerateCommands,
  psrpEnumerateShells,
  psrpGetShell,
  psrpReceive,
  psrpReconnect,
  psrpSend,
  psrpSignal,
} from './psrp-shell.ts'
export type {
  OutputBufferingMode,
  PsrpCommandOptions,
  PsrpConnectOptions,
  PsrpCreateOptions,
  PsrpDisconnectOptions,
  PsrpEnumerateShellsOptions,
  PsrpReceiveOptions,
  PsrpReconnectOptions,
  PsrpSendOptions,
  PsrpShellTarget,
  PsrpSignalOptions,
} from './psrp-shell.ts'
export { parseResponse, parseResponseBytes } from './response.ts'
export type {
  AckResponse,
  CommandCreatedResponse,
  ConnectedResponse,
  CreatedResponse,
  EnumerationResponse,
  FaultResponse,
  ParseResponseOptions,
  ReceiveResponse,
  RepresentationResponse,
  ResponseHeader,
  TimedOutResponse,
  WSManResponse,
  WSManResponseKind,
} from './response.ts'
export {
  CommandStateUri,
  parseShell,
  SignalCode,
  winrsCommand,
  winrsCreate,
  winrsDelete,
  winrsReceive,
  winrsSend,
  winrsSignal,
  WinRSOption,
} from './winrs.ts'
export type {
  CommandLineOptions,
  CommandState,
  ReceivedStream,
  ReceiveResult,
  ShellBodyOptions,
  ShellInfo,
  SignalCodeInput,
  SignalName,
  WinRSCommandOptions,
  WinRSCreateOptions,
  WinRSReceiveOptions,
  WinRSSendOptions,
  WinRSSignalOptions,
} from './winrs.ts'
// request bodies are element trees of this shape (CreateRequest.body, ShellBodyOptions.extensions)
export type { XmlBase64, XmlChild, XmlNode } from './xml-node.ts'
export { base64Text } from './xml-node.ts'
// response bodies and enumerated items are namespace-resolved elements of this shape
export type { NamespaceScope, NsElement } from './xml-ns.ts'
