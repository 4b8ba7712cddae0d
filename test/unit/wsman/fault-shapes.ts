/**
 * WS-Management fault envelopes as servers send them, each with the HTTP status it arrives with and
 * the parse result we expect. Used by faults.test.ts (and as seeds by envelope-variants.test.ts).
 *
 * Where a shape comes from is in its `source`:
 *
 * - **captured**: the response text of a recording made against a real Windows host (pypsrp's
 *   recordings in ../shared/corpus/pypsrp, MIT; the WinRb/WinRM stubs in ../shared/corpus/WinRM,
 *   Apache-2.0, which are Windows responses pretty-printed), kept verbatim;
 * - **client test**: a fault body another WinRM client's tests use (pywinrm `test_exceptions.py`);
 * - **constructed**: built here from the structure the specifications give (MS-WSMV 2.2.4.43
 *   `WSManFaultType`; DSP0226 section 14 fault table; SOAP 1.2 part 1 section 5.4) and the Windows
 *   error code and message text named in the source, for faults no recording holds.
 *
 * Windows error codes used here (winerror.h / wsmerror.h names, as listed by the `windows` crate's
 * `Win32::System::RemoteManagement` constants):
 *
 * | code | name |
 * |---|---|
 * | 5 | ERROR_ACCESS_DENIED |
 * | 87 | ERROR_INVALID_PARAMETER |
 * | 2147942402 (0x80070002) | HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) |
 * | 2150858767 | ERROR_WSMAN_INVALID_MESSAGE_INFORMATION_HEADER |
 * | 2150858778 | ERROR_WSMAN_ENUMERATE_CANNOT_PROCESS_FILTER |
 * | 2150858793 | ERROR_WSMAN_OPERATION_TIMEDOUT |
 * | 2150858817 | ERROR_WSMAN_SCHEMA_VALIDATION_ERROR |
 * | 2150858843 | ERROR_WSMAN_INVALID_SELECTORS |
 * | 2150859113 | ERROR_WSMAN_PUBLIC_FIREWALL_PROFILE_ACTIVE |
 * | 2150859173 | ERROR_WSMAN_QUOTA_MAX_SHELLS |
 * | 2150859180 | ERROR_WSMAN_REMOTESHELLS_NOT_ALLOWED |
 *
 * Not here: 2150858770 (ERROR_WSMAN_DESTINATION_UNREACHABLE) and 2150859046 (ERROR_WSMAN_NETWORK_TIMEDOUT)
 * are raised by the Windows WinRM *client* when it cannot reach a server (Test-WSMan prints them as an
 * f:WSManFault); no server sends them in a SOAP envelope. Our client meets the same situations as a
 * TransportError (connection refused or reset) or a TimeoutError (src/transport/http/soap-client.ts).
 */
import { Namespace } from '../../../src/wsman/constants.ts'
import type { WSManFault } from '../../../src/wsman/fault.ts'

/** One fault as a server delivers it. */
export interface FaultShape {
  /** Short id, used as the test name. */
  readonly name: string
  /** Where the XML comes from (see the module doc). */
  readonly source: string
  /** The HTTP status the server sends it with. */
  readonly status: number
  /** The envelope text. */
  readonly xml: string
  /** `timedOut` for an OperationTimeout fault (a Receive polls again), else `fault`. */
  readonly kind: 'fault' | 'timedOut'
  /** The complete parse result of the `s:Fault`. */
  readonly fault: WSManFault
}

const S = Namespace.s
const W = Namespace.wsman

const sender = { ns: S, local: 'Sender' } as const
const receiver = { ns: S, local: 'Receiver' } as const
const wsman = (local: string): { readonly ns: string; readonly local: string } => ({ ns: W, local })

const TIMEOUT_TEXT =
  'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.'
const SELECTORS_TEXT =
  'The WS-Management service cannot process the request because the request contained invalid selectors for the resource.'
const WINDOWS_NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
  'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" ' +
  'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" ' +
  'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"'

export const FAULT_SHAPES: readonly FaultShape[] = [
  {
    name: 'WinRS Receive OperationTimeout (w:TimedOut, 2150858793)',
    source: 'captured: pypsrp test_winrs_operation_timeout.yml exchange 5 (transport_error 500)',
    status: 500,
    kind: 'timedOut',
    xml: `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:0D4B0250-D011-45CB-B33F-612745F6BEC5</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:9BE5F54A-6B47-487D-9ACD-65201E650446</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793" Machine="192.168.56.11"><f:Message>The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
    fault: {
      code: 's:Receiver',
      codeName: receiver,
      subcode: 'w:TimedOut',
      subcodeName: wsman('TimedOut'),
      reason: TIMEOUT_TEXT,
      wsmanFaultCode: 2150858793,
      machine: '192.168.56.11',
      message: TIMEOUT_TEXT,
    },
  },
  {
    name: 'PSRP Receive OperationTimeout with p:ActivityId header, delivered with HTTP 200',
    source:
      'captured: pypsrp test_psrp_long_running_cmdlet.yml exchange 4 (recorded without transport_error, notes/replay.md)',
    status: 200,
    kind: 'timedOut',
    xml: `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:96BBC038-8C9C-4D2F-8319-585BDBAD3549</a:MessageID><p:ActivityId>677EB664-036F-0001-08CB-7E676F03D401</p:ActivityId><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:9F5BDC50-0F4A-45FC-94F9-42B40948AB04</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793" Machine="127.0.0.1"><f:Message>The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
    fault: {
      code: 's:Receiver',
      codeName: receiver,
      subcode: 'w:TimedOut',
      subcodeName: wsman('TimedOut'),
      reason: TIMEOUT_TEXT,
      wsmanFaultCode: 2150858793,
      machine: '127.0.0.1',
      message: TIMEOUT_TEXT,
    },
  },
  {
    name: 'Get of a reaped shell: w:InvalidSelectors (2150858843), nested ProviderFault/WSManFault',
    source:
      'captured: pypsrp test_psrp_is_alive_invalid_selectors.yml exchange 3 (Windows Server 2025 preview)',
    status: 500,
    kind: 'fault',
    xml: String.raw`<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:3ED7300E-14C7-4D87-9C57-3FB6259EC2FB</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:877294B2-0B63-493A-9A91-DD6A4D68B0B3</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:InvalidSelectors</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request because the request contained invalid selectors for the resource. </s:Text></s:Reason><s:Detail><w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors</w:FaultDetail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858843" Machine="127.0.0.1"><f:Message><f:ProviderFault provider="Shell provider" path="%systemroot%\system32\WsmSvc.dll"><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858843" Machine="127.0.0.1"><f:Message>The WS-Management service cannot process the request because the request contained invalid selectors for the resource. </f:Message></f:WSManFault></f:ProviderFault></f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'w:InvalidSelectors',
      subcodeName: wsman('InvalidSelectors'),
      reason: SELECTORS_TEXT,
      faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors',
      wsmanFaultCode: 2150858843,
      machine: '127.0.0.1',
      message: SELECTORS_TEXT,
      providerFault: {
        provider: 'Shell provider',
        path: String.raw`%systemroot%\system32\WsmSvc.dll`,
        message: SELECTORS_TEXT,
      },
    },
  },
  {
    name: 'Receive for a command that is gone: w:InvalidSelectors (2150858843), WinRS message',
    source: 'captured: pypsrp test_psrp_receive_failure.yml (transport_error 500)',
    status: 500,
    kind: 'fault',
    xml: `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:79DDD21F-A264-4F9A-B888-69D7901C4F01</a:MessageID><p:ActivityId>677EB664-036F-0001-B4CB-7E676F03D401</p:ActivityId><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:3609FF97-81FB-4C72-944B-E563EECE9C92</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:InvalidSelectors</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request because the request contained invalid selectors for the resource. </s:Text></s:Reason><s:Detail><w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors</w:FaultDetail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858843" Machine="127.0.0.1"><f:Message>The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. Either the command has completed execution or the client specified an invalid command identifier. </f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'w:InvalidSelectors',
      subcodeName: wsman('InvalidSelectors'),
      reason: SELECTORS_TEXT,
      faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors',
      wsmanFaultCode: 2150858843,
      machine: '127.0.0.1',
      message:
        'The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. Either the command has completed execution or the client specified an invalid command identifier.',
    },
  },
  {
    name: 'Receive before Command: w:InvalidParameter (87), faultDetail InvalidValue, provider text',
    source: 'captured: pypsrp test_winrs_fail_poll_process.yml exchange 2 (transport_error 500)',
    status: 500,
    kind: 'fault',
    xml: String.raw`<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:4DE29FF8-859B-4C83-86D3-24E9F59AD368</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:78391CE9-CBCD-4353-AA5E-E73C62791A04</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:InvalidParameter</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The parameter is incorrect. </s:Text></s:Reason><s:Detail><w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue</w:FaultDetail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="87" Machine="127.0.0.1"><f:Message><f:ProviderFault provider="Shell cmd plugin" path="%systemroot%\system32\winrscmd.dll">The parameter is incorrect. </f:ProviderFault></f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'w:InvalidParameter',
      subcodeName: wsman('InvalidParameter'),
      reason: 'The parameter is incorrect.',
      faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue',
      wsmanFaultCode: 87,
      machine: '127.0.0.1',
      message: 'The parameter is incorrect.',
      providerFault: {
        provider: 'Shell cmd plugin',
        path: String.raw`%systemroot%\system32\winrscmd.dll`,
        message: 'The parameter is incorrect.',
      },
    },
  },
  {
    name: 'WINRS_SKIP_CMD_SHELL with a command that is no executable: w:InternalError (0x80070002)',
    source:
      'captured: pypsrp test_winrs_no_cmd_shell.yml exchange 1 (older pypsrp recording, copy in test/recordings/pypsrp-extra)',
    status: 500,
    kind: 'fault',
    xml: String.raw`<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:36DC16C7-3CF9-4FEE-B970-F67A7164E149</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:E6A5E944-92EA-43EE-9642-EE506569E1E4</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The system cannot find the file specified. </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2147942402" Machine="192.168.56.11"><f:Message><f:ProviderFault provider="Shell cmd plugin" path="%systemroot%\system32\winrscmd.dll">The system cannot find the file specified. </f:ProviderFault></f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
    fault: {
      code: 's:Receiver',
      codeName: receiver,
      subcode: 'w:InternalError',
      subcodeName: wsman('InternalError'),
      reason: 'The system cannot find the file specified.',
      wsmanFaultCode: 2147942402,
      machine: '192.168.56.11',
      message: 'The system cannot find the file specified.',
      providerFault: {
        provider: 'Shell cmd plugin',
        path: String.raw`%systemroot%\system32\winrscmd.dll`,
        message: 'The system cannot find the file specified.',
      },
    },
  },
  {
    name: 'bad OperationTimeout header: a:InvalidMessageInformationHeader (2150858767), WS-Addressing subcode',
    source:
      'captured: pypsrp test_psrp_is_alive_other_wsman_error.yml exchange 3 (copy in test/recordings/pypsrp-extra)',
    status: 500,
    kind: 'fault',
    xml: `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/08/addressing/fault</a:Action><a:MessageID>uuid:E2AF1577-CF72-4B84-8AC9-ABC528F823D1</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:6292D774-84D1-4421-8A5E-0EE2EA3831DA</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>a:InvalidMessageInformationHeader</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers. </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858767" Machine="127.0.0.1"><f:Message>The WS-Management service cannot process the request. The XML contains an invalid timeout field in the SOAP header: PT-1S. </f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'a:InvalidMessageInformationHeader',
      subcodeName: { ns: Namespace.wsa, local: 'InvalidMessageInformationHeader' },
      reason:
        'The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers.',
      wsmanFaultCode: 2150858767,
      machine: '127.0.0.1',
      message:
        'The WS-Management service cannot process the request. The XML contains an invalid timeout field in the SOAP header: PT-1S.',
    },
  },
  {
    name: 'WMI Enumerate of a missing class: n:CannotProcessFilter (2150858778) with f:ExtendedError',
    source:
      'captured (pretty-printed): WinRb/WinRM tests/spec/stubs/responses/soap_fault_v2.xml (Windows 2008 R2, WMI plug-in)',
    status: 500,
    kind: 'fault',
    xml: String.raw`<?xml version="1.0"?>
<s:Envelope xml:lang="en-US" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer">
  <s:Header>
    <a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault</a:Action>
    <a:MessageID>uuid:CC816664-896D-46C7-9227-AE6E1231CE49</a:MessageID>
    <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>
    <a:RelatesTo>uuid:0CB1C49A-5054-4C12-AF30-FC60BE995DD9</a:RelatesTo>
  </s:Header>
  <s:Body>
    <s:Fault>
      <s:Code>
        <s:Value>s:Sender</s:Value>
        <s:Subcode>
          <s:Value>n:CannotProcessFilter</s:Value>
        </s:Subcode>
      </s:Code>
      <s:Reason>
        <s:Text xml:lang="en-US">The data source could not process the filter. The filter might be missing or it might be invalid. Change the filter and try the request again.  </s:Text>
      </s:Reason>
      <s:Detail>
        <f:WSManFault Code="2150858778" Machine="localhost" xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault">
          <f:Message>
            <f:ProviderFault path="%systemroot%\system32\WsmWmiPl.dll" provider="WMI Provider">
              <f:WSManFault Code="2150858778" Machine="vagrant-2008R2" xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault">
                <f:Message>The specified class does not exist in the given namespace. </f:Message>
              </f:WSManFault>
              <f:ExtendedError>
                <p:__ExtendedStatus xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/__ExtendedStatus" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="p:__ExtendedStatus_Type">
                  <p:Description xsi:nil="true"/>
                  <p:Operation>ExecQuery</p:Operation>
                  <p:ParameterInfo>Select * from Win32_Processa where name=&quot;sshd.exe&quot;</p:ParameterInfo>
                  <p:ProviderName>WinMgmt</p:ProviderName>
                  <p:StatusCode xsi:nil="true"/>
                </p:__ExtendedStatus>
              </f:ExtendedError>
            </f:ProviderFault>
          </f:Message>
        </f:WSManFault>
      </s:Detail>
    </s:Fault>
  </s:Body>
</s:Envelope>
`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'n:CannotProcessFilter',
      subcodeName: { ns: Namespace.wsen, local: 'CannotProcessFilter' },
      reason:
        'The data source could not process the filter. The filter might be missing or it might be invalid. Change the filter and try the request again.',
      wsmanFaultCode: 2150858778,
      machine: 'localhost',
      message: 'The specified class does not exist in the given namespace.',
      providerFault: {
        provider: 'WMI Provider',
        path: String.raw`%systemroot%\system32\WsmWmiPl.dll`,
        message: 'The specified class does not exist in the given namespace.',
      },
    },
  },
  {
    name: "WMIv1 plug-in: Machine='' (empty), reason text across lines, single-quoted attributes",
    source: 'captured (pretty-printed): WinRb/WinRM tests/spec/stubs/responses/soap_fault_v1.xml',
    status: 500,
    kind: 'fault',
    xml: String.raw`<s:Envelope xml:lang='en-US' xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:a='http://schemas.xmlsoap.org/ws/2004/08/addressing' xmlns:x='http://schemas.xmlsoap.org/ws/2004/09/transfer' xmlns:e='http://schemas.xmlsoap.org/ws/2004/08/eventing' xmlns:n='http://schemas.xmlsoap.org/ws/2004/09/enumeration' xmlns:w='http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd'>
  <s:Header>
    <a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault</a:Action>
    <a:MessageID>uuid:AF8907B2-F47E-4DE5-A4AA-E1EC36EA0E49</a:MessageID>
    <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>
    <a:RelatesTo>uuid:B90EC4BB-4484-4ADA-920B-019517747915</a:RelatesTo>
  </s:Header>
  <s:Body>
    <s:Fault>
      <s:Code>
        <s:Value>s:Sender</s:Value>
        <s:Subcode>
          <s:Value>n:CannotProcessFilter</s:Value>
        </s:Subcode>
      </s:Code>
      <s:Reason>
        <s:Text xml:lang='en-US'>
          The data source could not process the filter. The filter might be
          missing or it might be invalid. Change the filter and try the request
          again. 
        </s:Text>
      </s:Reason>
      <s:Detail>
        <f:WSManFault xmlns:f='http://schemas.microsoft.com/wbem/wsman/1/wsmanfault' Code='2150858778' Machine=''>
          <f:Message>
            <f:ProviderFault provider='WMIv1 plugin for Windows Remote Management ' path='%systemroot%\system32\WsmWmiPl.dll'>
              <f:WSManFault xmlns:f='http://schemas.microsoft.com/wbem/wsman/1/wsmanfault' Code='2150858778' Machine='' xml:lang='en-US'>
                <f:Message>The specified class does not exist in the given namespace. </f:Message>
              </f:WSManFault>
            </f:ProviderFault>
          </f:Message>
        </f:WSManFault>
      </s:Detail>
    </s:Fault>
  </s:Body>
</s:Envelope>`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'n:CannotProcessFilter',
      subcodeName: { ns: Namespace.wsen, local: 'CannotProcessFilter' },
      reason:
        'The data source could not process the filter. The filter might be missing or it might be invalid. Change the filter and try the request again.',
      wsmanFaultCode: 2150858778,
      message: 'The specified class does not exist in the given namespace.',
      providerFault: {
        provider: 'WMIv1 plugin for Windows Remote Management ',
        path: String.raw`%systemroot%\system32\WsmWmiPl.dll`,
        message: 'The specified class does not exist in the given namespace.',
      },
    },
  },
  {
    name: 'too many shells: w:QuotaLimit with an MSFT_WmiError detail (2150859173), no RelatesTo',
    source: 'captured (pretty-printed): WinRb/WinRM tests/spec/stubs/responses/wmi_error_v2.xml',
    status: 500,
    kind: 'fault',
    xml: `<s:Envelope xmlns:a='http://schemas.xmlsoap.org/ws/2004/08/addressing' xmlns:e='http://schemas.xmlsoap.org/ws/2004/08/eventing' xml:lang='en-US' xmlns:n='http://schemas.xmlsoap.org/ws/2004/09/enumeration' xmlns:p='http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd' xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:w='http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd' xmlns:x='http://schemas.xmlsoap.org/ws/2004/09/transfer'>
  <s:Header>
    <a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>
    <a:MessageID>uuid:B8829021-48C3-4F27-B94B-491DAC4F29B1</a:MessageID>
    <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>
  </s:Header>
  <s:Body>
    <s:Fault>
      <s:Code>
        <s:Value>s:Sender</s:Value>
        <s:Subcode>
          <s:Value>w:QuotaLimit</s:Value>
        </s:Subcode>
      </s:Code>
      <s:Reason>
        <s:Text xml:lang='en-US'>The WS-Management service cannot process the request. The maximum number of concurrent shells for this user has been exceeded. Close existing shells or raise the quota for this user. </s:Text>
      </s:Reason>
      <s:Detail>
        <p:MSFT_WmiError b:IsCIM_Error='true' xmlns:b='http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd' xmlns:cim='http://schemas.dmtf.org/wbem/wscim/1/common' xmlns:p='http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError' xsi:type='p:MSFT_WmiError_Type' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'>
          <p:CIMStatusCode xsi:type='cim:cimUnsignedInt'>27</p:CIMStatusCode>
          <p:CIMStatusCodeDescription xsi:nil='true' xsi:type='cim:cimString'/>
          <p:ErrorSource xsi:nil='true' xsi:type='cim:cimString'/>
          <p:ErrorSourceFormat xsi:type='cim:cimUnsignedShort'>0</p:ErrorSourceFormat>
          <p:ErrorType xsi:type='cim:cimUnsignedShort'>0</p:ErrorType>
          <p:Message xsi:type='cim:cimString'>The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. </p:Message>
          <p:MessageID xsi:type='cim:cimString'>HRESULT 0x803381a5</p:MessageID>
          <p:OtherErrorSourceFormat xsi:nil='true' xsi:type='cim:cimString'/>
          <p:OtherErrorType xsi:nil='true' xsi:type='cim:cimString'/>
          <p:OwningEntity xsi:nil='true' xsi:type='cim:cimString'/>
          <p:PerceivedSeverity xsi:type='cim:cimUnsignedShort'>0</p:PerceivedSeverity>
          <p:ProbableCause xsi:type='cim:cimUnsignedShort'>0</p:ProbableCause>
          <p:ProbableCauseDescription xsi:nil='true' xsi:type='cim:cimString'/>
          <p:error_Category xsi:type='cim:cimUnsignedInt'>30</p:error_Category>
          <p:error_Code xsi:type='cim:cimUnsignedInt'>2150859173</p:error_Code>
          <p:error_Type xsi:type='cim:cimString'>HRESULT</p:error_Type>
          <p:error_WindowsErrorMessage xsi:type='cim:cimString'>The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. </p:error_WindowsErrorMessage>
        </p:MSFT_WmiError>
      </s:Detail>
    </s:Fault>
  </s:Body>
</s:Envelope>`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'w:QuotaLimit',
      subcodeName: wsman('QuotaLimit'),
      reason:
        'The WS-Management service cannot process the request. The maximum number of concurrent shells for this user has been exceeded. Close existing shells or raise the quota for this user.',
      wsmanFaultCode: 2150859173,
      message:
        'The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user.',
      wmiError: {
        code: 2150859173,
        message:
          'The WS-Management service cannot process the request. This user is allowed a maximum number of 30 concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user.',
      },
    },
  },
  {
    name: 'OMI server: SOAP-ENV: prefix, wsman:InternalError, no s:Detail at all',
    source:
      'captured (pretty-printed): WinRb/WinRM tests/spec/stubs/responses/soap_fault_omi.xml (OMI, not Windows)',
    status: 500,
    kind: 'fault',
    xml: `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"
    xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
    xmlns:wsen="http://schemas.xmlsoap.org/ws/2004/09/enumeration"
    xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:wsmb="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
    xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    xmlns:wxf="http://schemas.xmlsoap.org/ws/2004/09/transfer"
    xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"
    xmlns:msftwinrm="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
    xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">
    <SOAP-ENV:Header>
        <wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>
        <wsa:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</wsa:Action>
        <wsa:MessageID>uuid:F803101F-76B9-0005-0000-000000010000</wsa:MessageID>
        <wsa:RelatesTo>uuid:AC61AF91-4AA9-428E-9294-670B4C5752A8</wsa:RelatesTo>
    </SOAP-ENV:Header>
    <SOAP-ENV:Body>
        <SOAP-ENV:Fault>
            <SOAP-ENV:Code>
                <SOAP-ENV:Value>SOAP-ENV:Receiver</SOAP-ENV:Value>
                <SOAP-ENV:Subcode>
                    <SOAP-ENV:Value>wsman:InternalError</SOAP-ENV:Value>
                </SOAP-ENV:Subcode>
            </SOAP-ENV:Code>
            <SOAP-ENV:Reason>
                <SOAP-ENV:Text xml:lang="en-US">get-instance: instance name parameter is missing</SOAP-ENV:Text>
            </SOAP-ENV:Reason>
        </SOAP-ENV:Fault>
    </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`,
    fault: {
      code: 'SOAP-ENV:Receiver',
      codeName: receiver,
      subcode: 'wsman:InternalError',
      subcodeName: wsman('InternalError'),
      reason: 'get-instance: instance name parameter is missing',
    },
  },
  {
    name: 's:MustUnderstand with s:NotUnderstood header, no Subcode, no Detail, xml:lang=""',
    source: 'client test: pywinrm winrm/tests/test_exceptions.py test_wsman_fault_must_understand',
    status: 500,
    kind: 'fault',
    xml: `<s:Envelope xml:lang="en-US"
    xmlns:s="http://www.w3.org/2003/05/soap-envelope"
    xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
    xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"
    xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing"
    xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"
    xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
    xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">
    <s:Header>
        <a:Action>http://schemas.xmlsoap.org/ws/2004/08/addressing/fault</a:Action>
        <a:MessageID>uuid:4DB571F9-F8DE-48FD-872C-2AF08D996249</a:MessageID>
        <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>
        <a:RelatesTo>uuid:eaa98952-3188-458f-b265-b03ace115f20</a:RelatesTo>
        <s:NotUnderstood qname="wsman:ResourceUri"
            xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" />
    </s:Header>
    <s:Body>
        <s:Fault>
            <s:Code>
                <s:Value>s:MustUnderstand</s:Value>
            </s:Code>
            <s:Reason>
                <s:Text xml:lang=""> Test reason. </s:Text>
            </s:Reason>
        </s:Fault>
    </s:Body>
</s:Envelope>`,
    fault: {
      code: 's:MustUnderstand',
      codeName: { ns: S, local: 'MustUnderstand' },
      reason: 'Test reason.',
    },
  },
  {
    name: 'w:SchemaValidationError (2150858817): Reason and Message differ',
    source:
      'client test: pywinrm winrm/tests/test_exceptions.py test_wsman_fault_with_wsmanfault (its RelatesTo is malformed, uuid. for uuid:)',
    status: 500,
    kind: 'fault',
    xml: `<s:Envelope xml:lang="en-US"
    xmlns:s="http://www.w3.org/2003/05/soap-envelope"
    xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
    xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer"
    xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing"
    xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"
    xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">
    <s:Header>
        <a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>
        <a:MessageID>uuid:EE71C444-1658-4B3F-916D-54CE43B68BC9</a:MessageID>
        <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>
        <a:RelatesTo>uuid.761ca906-0bf0-41bb-a9d9-4cbbca986aeb</a:RelatesTo>
    </s:Header>
    <s:Body>
        <s:Fault>
            <s:Code>
                <s:Value>s:Sender</s:Value>
                <s:Subcode>
                    <s:Value>w:SchemaValidationError</s:Value>
                </s:Subcode>
            </s:Code>
            <s:Reason>
                <s:Text xml:lang="">Reason text.</s:Text>
            </s:Reason>
            <s:Detail>
                <f:WSManFault
                    xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858817" Machine="SERVER2008.domain.local">
                    <f:Message>Detail message.</f:Message>
                </f:WSManFault>
            </s:Detail>
        </s:Fault>
    </s:Body>
</s:Envelope>`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'w:SchemaValidationError',
      subcodeName: wsman('SchemaValidationError'),
      reason: 'Reason text.',
      wsmanFaultCode: 2150858817,
      machine: 'SERVER2008.domain.local',
      message: 'Detail message.',
    },
  },
  {
    name: 'w:AccessDenied (5) with the env: prefix and an f:WSManFault without f:Message',
    source:
      'constructed: DSP0226 wsman:AccessDenied (code Sender); MS-WSMV 2.2.4.43 (f:Message minOccurs 0); Windows code 5 ERROR_ACCESS_DENIED',
    status: 500,
    kind: 'fault',
    xml:
      '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
      'xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xml:lang="en-US"><env:Header>' +
      '<wsa:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</wsa:Action>' +
      '<wsa:MessageID>uuid:5C1F6C3E-3A48-4C62-9E5E-1B0B7E0AC001</wsa:MessageID>' +
      '<wsa:RelatesTo>uuid:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0</wsa:RelatesTo></env:Header>' +
      '<env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>wsman:AccessDenied</env:Value></env:Subcode></env:Code>' +
      '<env:Reason><env:Text xml:lang="en-US">Access is denied. </env:Text></env:Reason><env:Detail>' +
      '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="5" Machine="win-ad1.example.test"/>' +
      '</env:Detail></env:Fault></env:Body></env:Envelope>',
    fault: {
      code: 'env:Sender',
      codeName: sender,
      subcode: 'wsman:AccessDenied',
      subcodeName: wsman('AccessDenied'),
      reason: 'Access is denied.',
      wsmanFaultCode: 5,
      machine: 'win-ad1.example.test',
    },
  },
  {
    name: 'w:EncodingLimit / faultDetail MaxEnvelopeSize with the soap: prefix, delivered with HTTP 400',
    source:
      'constructed: DSP0226 wsman:EncodingLimit and faultDetail/MaxEnvelopeSize (MS-WSMAN 3.1.4.1.9 requires it for a MaxEnvelopeSize under 8192); ' +
      'SOAP 1.2 part 2 section 7.5.1.2 sends Sender faults with HTTP 400; no WSManFault (a DMTF-only server)',
    status: 400,
    kind: 'fault',
    xml:
      '<?xml version="1.0" encoding="UTF-8"?>\r\n' +
      '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">\r\n' +
      '<soap:Header><wsa:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</wsa:Action>' +
      '<wsa:MessageID>uuid:9A0C1F2E-7B6D-4E5F-8A9B-0C1D2E3F4A5B</wsa:MessageID></soap:Header>\r\n' +
      '<soap:Body><soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode>' +
      '<soap:Value xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">wsman:EncodingLimit</soap:Value></soap:Subcode></soap:Code>' +
      '<soap:Reason><soap:Text xml:lang="en">An internal encoding limit was exceeded in a request or would be violated if the message were processed.</soap:Text></soap:Reason>' +
      '<soap:Detail><wsman:FaultDetail xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize</wsman:FaultDetail></soap:Detail>' +
      '</soap:Fault></soap:Body></soap:Envelope>\r\n',
    fault: {
      code: 'soap:Sender',
      codeName: sender,
      subcode: 'wsman:EncodingLimit',
      subcodeName: wsman('EncodingLimit'),
      reason:
        'An internal encoding limit was exceeded in a request or would be violated if the message were processed.',
      faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize',
    },
  },
  {
    name: 'shell not found: w:InvalidSelectors (2150858843) with a multi-line f:Message, delivered with HTTP 400',
    source:
      'constructed: the Windows message for a missing ShellId (f:WSManFault quoted in WinRb/WinRM issue #253, Server 2012 R2), layout of the captured InvalidSelectors faults; ' +
      'status 400 as a SOAP 1.2 HTTP binding server would send a Sender fault',
    status: 400,
    kind: 'fault',
    xml: `<s:Envelope xml:lang="en-US" ${WINDOWS_NS}>
  <s:Header>
    <a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>
    <a:MessageID>uuid:7D3B2A19-0C4E-4F6A-9B8C-1D2E3F405162</a:MessageID>
    <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>
    <a:RelatesTo>uuid:2B1C0D9E-8F7A-4B6C-5D4E-3F2A1B0C9D8E</a:RelatesTo>
  </s:Header>
  <s:Body>
    <s:Fault>
      <s:Code>
        <s:Value>s:Sender</s:Value>
        <s:Subcode>
          <s:Value>w:InvalidSelectors</s:Value>
        </s:Subcode>
      </s:Code>
      <s:Reason>
        <s:Text xml:lang="en-US">The WS-Management service cannot process the request because the request contained invalid selectors for the
          resource.
        </s:Text>
      </s:Reason>
      <s:Detail>
        <w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors</w:FaultDetail>
        <f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858843" Machine="windows-host">
          <f:Message>The request for the Windows Remote Shell with ShellId 4E5F6A7B-8C9D-4E0F-A1B2-C3D4E5F6A7B8 failed because the shell was not found
            on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct
            ShellId or create a new shell and retry the operation.
          </f:Message>
        </f:WSManFault>
      </s:Detail>
    </s:Fault>
  </s:Body>
</s:Envelope>`,
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'w:InvalidSelectors',
      subcodeName: wsman('InvalidSelectors'),
      reason: SELECTORS_TEXT,
      faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors',
      wsmanFaultCode: 2150858843,
      machine: 'windows-host',
      message:
        'The request for the Windows Remote Shell with ShellId 4E5F6A7B-8C9D-4E0F-A1B2-C3D4E5F6A7B8 failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation.',
    },
  },
  {
    name: 'remote shell access disabled by policy (2150859180), f:WSManFault attributes before xmlns:f',
    source:
      'constructed: message as quoted in jpboyce/cb_cis_windows_2016 issue #5 (CIS 18.9.87.1 sets "Allow Remote Shell Access" to Disabled); ' +
      'code ERROR_WSMAN_REMOTESHELLS_NOT_ALLOWED; subcode w:AccessDenied assumed (DSP0226: an access control restriction)',
    status: 500,
    kind: 'fault',
    xml:
      `<s:Envelope xml:lang="en-US" ${WINDOWS_NS}><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>` +
      '<a:MessageID>uuid:1F2E3D4C-5B6A-4978-8695-A4B3C2D1E0F9</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
      '<a:RelatesTo>uuid:A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value>' +
      '<s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request. ' +
      'The service is configured to not accept any remote shell requests. </s:Text></s:Reason><s:Detail>' +
      "<f:WSManFault Code='2150859180' Machine='win2016-cis' xmlns:f='http://schemas.microsoft.com/wbem/wsman/1/wsmanfault'><f:Message>" +
      'The WS-Management service cannot process the request. The service is configured to not accept any remote shell requests. ' +
      '</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>',
    fault: {
      code: 's:Sender',
      codeName: sender,
      subcode: 'w:AccessDenied',
      subcodeName: wsman('AccessDenied'),
      reason:
        'The WS-Management service cannot process the request. The service is configured to not accept any remote shell requests.',
      wsmanFaultCode: 2150859180,
      machine: 'win2016-cis',
      message:
        'The WS-Management service cannot process the request. The service is configured to not accept any remote shell requests.',
    },
  },
  {
    name: 'Config provider fault with a Korean message (2150859113), machines differ inside and out',
    source:
      'constructed: the f:WSManFault verbatim from MicrosoftDocs/azure-docs.ko-kr issue #1115 (winrm quickconfig on a public network), ' +
      'in a Windows fault envelope; subcode w:InternalError assumed',
    status: 500,
    kind: 'fault',
    xml:
      `<s:Envelope xml:lang="ko-KR" ${WINDOWS_NS}><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>` +
      '<a:MessageID>uuid:6A5B4C3D-2E1F-4A0B-9C8D-7E6F5A4B3C2D</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
      '</s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code>' +
      '<s:Reason><s:Text xml:lang="ko-KR">이 컴퓨터의 네트워크 연결 형식 중 하나가 공용으로 설정되어 WinRM 방화벽 예외가 작동하지 않습니다. </s:Text></s:Reason><s:Detail>' +
      String.raw`<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859113" Machine="localhost"><f:Message><f:ProviderFault provider="Config provider" path="%systemroot%\system32\WsmSvc.dll"><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859113" Machine="PDWCLEENB.pobis.co.kr"><f:Message>이 컴퓨터의 네트워크 연결 형식 중 하나가 공용으로 설정되어 WinRM 방화벽 예외가 작동하지 않습니다. 네트워크 연결 형식을 도메인 또는  개인으로 변경한 후 다시 시도하십시오. </f:Message></f:WSManFault></f:ProviderFault></f:Message></f:WSManFault>` +
      '</s:Detail></s:Fault></s:Body></s:Envelope>',
    fault: {
      code: 's:Receiver',
      codeName: receiver,
      subcode: 'w:InternalError',
      subcodeName: wsman('InternalError'),
      reason:
        '이 컴퓨터의 네트워크 연결 형식 중 하나가 공용으로 설정되어 WinRM 방화벽 예외가 작동하지 않습니다.',
      wsmanFaultCode: 2150859113,
      machine: 'localhost',
      message:
        '이 컴퓨터의 네트워크 연결 형식 중 하나가 공용으로 설정되어 WinRM 방화벽 예외가 작동하지 않습니다. 네트워크 연결 형식을 도메인 또는 개인으로 변경한 후 다시 시도하십시오.',
      providerFault: {
        provider: 'Config provider',
        path: String.raw`%systemroot%\system32\WsmSvc.dll`,
        message:
          '이 컴퓨터의 네트워크 연결 형식 중 하나가 공용으로 설정되어 WinRM 방화벽 예외가 작동하지 않습니다. 네트워크 연결 형식을 도메인 또는 개인으로 변경한 후 다시 시도하십시오.',
      },
    },
  },
]
