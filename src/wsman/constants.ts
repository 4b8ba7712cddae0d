/**
 * WS-Management wire constants: XML namespaces, WS-Addressing/WS-Transfer/WS-Enumeration/WinRS action
 * URIs and well-known resource URIs, named as MS-WSMV and DMTF DSP0226 name them.
 *
 * MS-WSMV 3.1.4 lists the operations (Get 3.1.4.2, Put 3.1.4.3, Create 3.1.4.5, Enumerate/Pull,
 * Command 3.1.4.11, Signal 3.1.4.12, Send 3.1.4.13, Receive 3.1.4.14, Disconnect 3.1.4.15,
 * Reconnect 3.1.4.16, Connect 3.1.4.17) and their action URIs.
 *
 * @module
 */

/** XML namespaces used in WS-Management envelopes, keyed by the prefix this package writes. */
export const Namespace = {
  /** SOAP 1.2 envelope. */
  s: 'http://www.w3.org/2003/05/soap-envelope',
  /** WS-Addressing (2004/08, the version WS-Management uses). */
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  /** WS-Transfer. */
  wst: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  /** WS-Enumeration. */
  wsen: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
  /** DMTF WS-Management (DSP0226). */
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  /** Microsoft WS-Management extensions (MS-WSMV). */
  wsmv: 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
  /** Remote shell (WinRS) bodies. */
  rsp: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  /** `WSManFault` detail (MS-WSMV 2.2.4.43). */
  wsmanfault: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
  /** PowerShell extension elements (`creationXml`, `connectXml`, `connectResponseXml`). */
  psrp: 'http://schemas.microsoft.com/powershell',
  /** The XML namespace bound to the `xml:` prefix. */
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const

/** Action URIs of the requests this package builds and the responses it parses. */
export const WSManAction = {
  Get: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get',
  GetResponse: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse',
  Put: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Put',
  PutResponse: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/PutResponse',
  Create: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create',
  CreateResponse: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse',
  Delete: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete',
  DeleteResponse: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse',
  Enumerate: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate',
  EnumerateResponse: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse',
  Pull: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull',
  PullResponse: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse',
  Command: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command',
  CommandResponse: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse',
  Send: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send',
  SendResponse: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse',
  Receive: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive',
  ReceiveResponse: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse',
  Signal: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal',
  SignalResponse: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse',
  Connect: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Connect',
  ConnectResponse: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ConnectResponse',
  Disconnect: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Disconnect',
  DisconnectResponse: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/DisconnectResponse',
  Reconnect: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Reconnect',
  ReconnectResponse: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReconnectResponse',
  /** The action of a WS-Management fault message (DSP0226). */
  Fault: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
  /** The action of a WS-Addressing fault message. */
  AddressingFault: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/fault',
} as const

/** One of the {@link WSManAction} URIs. */
export type WSManAction = (typeof WSManAction)[keyof typeof WSManAction]

/** Well-known resource URIs. */
export const ResourceUri = {
  /** The Text-based Command Shell (`cmd.exe`), MS-WSMV 3.1.4.5.2. */
  Cmd: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd',
  /** Every shell of the caller; used to Get or Enumerate shells of any plug-in. */
  Shell: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  /** Commands of a shell; enumerated with a ShellId selector filter. */
  ShellCommand: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command',
  /** WinRM configuration (`MaxEnvelopeSizekb`, `MaxTimeoutms` …). */
  Config: 'http://schemas.microsoft.com/wbem/wsman/1/config',
  /** Prefix of the PowerShell plug-in resource URIs (`…/powershell/<configurationName>`). */
  PowerShellPrefix: 'http://schemas.microsoft.com/powershell/',
} as const

/** The WS-Addressing anonymous endpoint, used as ReplyTo. */
export const ANONYMOUS_ADDRESS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous'

/** Dialect URI of a DSP0226 selector filter (`wsman:Filter` holding a `wsman:SelectorSet`). */
export const SELECTOR_FILTER_DIALECT = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter'
