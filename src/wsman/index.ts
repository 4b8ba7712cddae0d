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
 * @module
 */
export {
  ANONYMOUS_ADDRESS,
  Namespace,
  ResourceUri,
  SELECTOR_FILTER_DIALECT,
  WSManAction,
} from './constants.ts'
export { formatDuration, parseDuration } from './duration.ts'
export {
  buildEnvelope,
  DEFAULT_MAX_ELEMENTS,
  DEFAULT_MAX_ENVELOPE_SIZE,
  DEFAULT_OPERATION_TIMEOUT,
  uuidUri,
} from './envelope.ts'
export type {
  CreateRequest,
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
export { faultToError, isTimedOutFault, parseFault, WSManFaultCode } from './fault.ts'
export type { ProviderFault, WmiError, WSManFault, WSManFaultErrorDetails } from './fault.ts'
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
  wireGuid,
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
export { parseResponse } from './response.ts'
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
  CommandState,
  ReceivedStream,
  ShellInfo,
  SignalCodeInput,
  SignalName,
  WinRSCommandOptions,
  WinRSCreateOptions,
  WinRSReceiveOptions,
  WinRSSendOptions,
  WinRSSignalOptions,
} from './winrs.ts'
export { el } from './xml-node.ts'
export type { XmlChild, XmlNode } from './xml-node.ts'
export { nsAttr, nsChild, nsChildren } from './xml-ns.ts'
export type { NsElement } from './xml-ns.ts'
