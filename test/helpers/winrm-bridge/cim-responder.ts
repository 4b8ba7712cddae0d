/**
 * A small WMI plug-in for the WinRM test server: the `…/wsman/1/wmi/root/cimv2/…` resource URIs
 * answered from an in-memory CIM model, with the shapes Windows sends (the recorded WinRb/WinRM
 * responses in shared/corpus/WinRM-sneal-reference/spec/mock and MS-WSMV 4.1.4):
 *
 * - Get of `Win32_OperatingSystem` (a singleton) and of a `Win32_Service` by its `Name` selector:
 *   `x:GetResponse` whose body is the instance (`p:<Class>` in the class's namespace, `xsi:type`
 *   `p:<Class>_Type`, `xsi:nil` for NULL, `cim:Datetime` for datetimes, repeated elements for arrays);
 * - Enumerate (optimized: the first `MaxElements` items in `w:Items`, DSP0226 8.2.3) of a class, or of
 *   `…/root/cimv2/*` with a WQL filter (`SELECT <props|*> FROM <class> [WHERE <prop> = '<v>']`), then
 *   Pull batches of `MaxElements` in `n:Items` until `n:EndOfSequence`; Release drops the context;
 * - Invoke of `Win32_Service` StartService/StopService: `p:<Method>_OUTPUT` with `p:ReturnValue`
 *   (0 done, 6 for a service not in a state that allows it: the Win32_Service documentation's codes);
 * - faults: a WQL query over a class that does not exist answers `n:CannotProcessFilter` (code
 *   2150858778, the WMI provider's nested WSManFault) as in the recorded wsman_fault.xml; an unknown
 *   instance `w:InvalidSelectors`; a Pull of an unknown context WS-Enumeration's
 *   `n:InvalidEnumerationContext` (its reason and code are not from a Windows recording).
 */
import { Namespace, WSManAction } from '../../../src/wsman/constants.ts'
import { el, type XmlChild, type XmlNode } from '../../../src/wsman/xml-node.ts'
import { nsAttr, nsChild } from '../../../src/wsman/xml-ns.ts'
import type { OpResult } from './shell-common.ts'
import type { FaultSpec, SoapRequest } from './soap.ts'

/** Prefix of the resource URIs this responder answers. */
export const WMI_CIMV2 = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/'
const WQL = 'http://schemas.microsoft.com/wbem/wsman/1/WQL'
const CIM_NS = 'http://schemas.dmtf.org/wbem/wscim/1/common'
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance'
const RELEASE = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release'
const RELEASE_RESPONSE = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse'

/** A property value of the model: text, NULL, a datetime, or an array (repeated elements). */
type Value = string | null | { readonly datetime: string } | readonly string[]
type Instance = Record<string, Value>

/** The default model: one operating system and a handful of services. */
function defaultModel(): Map<string, Instance[]> {
  const service = (name: string, display: string, state: 'Running' | 'Stopped', pid: number): Instance => ({
    AcceptPause: 'false',
    AcceptStop: state === 'Running' ? 'true' : 'false',
    Caption: display,
    DisplayName: display,
    ExitCode: '0',
    InstallDate: null,
    Name: name,
    ProcessId: String(pid),
    StartMode: state === 'Running' ? 'Auto' : 'Manual',
    Started: state === 'Running' ? 'true' : 'false',
    State: state,
    Status: 'OK',
    SystemName: 'BRIDGE',
  })
  return new Map([
    [
      'Win32_OperatingSystem',
      [
        {
          BuildNumber: '20348',
          Caption: 'Microsoft Windows Server 2022 Datacenter',
          CSDVersion: null,
          CSName: 'BRIDGE',
          FreePhysicalMemory: '9007199254740993',
          LastBootUpTime: { datetime: '2024-01-02T03:04:05.123456-05:00' },
          MUILanguages: ['en-US', 'de-DE'],
          NumberOfProcesses: '120',
          OSType: '18',
          Primary: 'true',
          Version: '10.0.20348',
        },
      ],
    ],
    [
      'Win32_Service',
      [
        service('BITS', 'Background Intelligent Transfer Service', 'Stopped', 0),
        service('Dhcp', 'DHCP Client', 'Running', 1204),
        service('Dnscache', 'DNS Client', 'Running', 1588),
        service('EventLog', 'Windows Event Log', 'Running', 1432),
        service('Spooler', 'Print Spooler', 'Running', 2556),
        service('W32Time', 'Windows Time', 'Running', 1660),
        service('WinRM', 'Windows Remote Management (WS-Management)', 'Running', 1296),
        service('wuauserv', 'Windows Update', 'Stopped', 0),
      ],
    ],
  ])
}

interface Enumeration {
  readonly items: XmlNode[]
  next: number
}

/** The WMI responder; give it to `startWinRMBridge({ cim })`. */
export class CimResponder {
  readonly #model = defaultModel()
  readonly #enumerations = new Map<string, Enumeration>()
  #nextContext = 1

  /** Enumeration contexts still open (neither finished nor released). */
  get openEnumerations(): number {
    return this.#enumerations.size
  }

  /** True for the resource URIs this responder answers. */
  handles(resourceUri: string): boolean {
    return resourceUri.startsWith(WMI_CIMV2)
  }

  /** Answers one request for a `handles` resource URI. */
  handle(req: SoapRequest): OpResult {
    const cls = req.resourceUri.slice(WMI_CIMV2.length)
    if (req.action === WSManAction.Get) return this.#get(cls, req)
    if (req.action === WSManAction.Enumerate) return this.#enumerate(cls, req)
    if (req.action === WSManAction.Pull) return this.#pull(req)
    if (req.action === RELEASE) {
      this.#enumerations.delete(contextOf(req) ?? '')
      return { kind: 'ok', action: RELEASE_RESPONSE }
    }
    if (req.action.startsWith(`${req.resourceUri}/`))
      return this.#invoke(cls, req.action.slice(req.resourceUri.length + 1), req)
    return { kind: 'fault', fault: actionNotSupported(req.action) }
  }

  #find(cls: string, selectors: Readonly<Record<string, string>>): Instance | undefined {
    const all = this.#model.get(cls) ?? []
    if (cls === 'Win32_OperatingSystem') return all[0]
    const name = selectors['Name']
    return all.find((i) => typeof i['Name'] === 'string' && i['Name'].toLowerCase() === name?.toLowerCase())
  }

  #get(cls: string, req: SoapRequest): OpResult {
    if (!this.#model.has(cls)) return { kind: 'fault', fault: invalidSelectors() }
    const instance = this.#find(cls, req.selectors)
    if (instance === undefined) return { kind: 'fault', fault: invalidSelectors() }
    return { kind: 'ok', action: WSManAction.GetResponse, body: instanceXml(cls, instance) }
  }

  #enumerate(cls: string, req: SoapRequest): OpResult {
    const filter = nsChild(req.body, Namespace.wsman, 'Filter')
    let items: XmlNode[]
    if (filter !== undefined && nsAttr(filter, 'Dialect') === WQL) {
      const query =
        /^\s*select\s+(.+?)\s+from\s+(\w+)(?:\s+where\s+(\w+)\s*(=|<>|!=)\s*'([^']*)')?\s*$/i.exec(
          filter.text,
        )
      if (query === null) return { kind: 'fault', fault: cannotProcessFilter('The query is not valid WQL. ') }
      const [, props, from, whereProp, op, whereValue] = query as unknown as string[]
      const instances = this.#model.get(from as string)
      if (cls !== '*' || instances === undefined) {
        return {
          kind: 'fault',
          fault: cannotProcessFilter('The specified class does not exist in the given namespace. '),
        }
      }
      const wanted =
        props?.trim() === '*' ? undefined : new Set(props?.split(',').map((p) => p.trim().toLowerCase()))
      items = instances
        .filter((i) => {
          if (whereProp === undefined) return true
          const v = i[whereProp]
          const equal = typeof v === 'string' && v.toLowerCase() === whereValue?.toLowerCase()
          return op === '=' ? equal : !equal
        })
        .map((i) =>
          instanceXml(
            from as string,
            wanted === undefined
              ? i
              : Object.fromEntries(Object.entries(i).filter(([k]) => wanted.has(k.toLowerCase()))),
          ),
        )
    } else {
      const instances = this.#model.get(cls)
      if (instances === undefined) return { kind: 'fault', fault: invalidSelectors() }
      items = instances.map((i) => instanceXml(cls, i))
    }
    const context = `uuid:${String(this.#nextContext++).padStart(8, '0')}-0000-4000-8000-00000000C1A0`
    const e: Enumeration = { items, next: 0 }
    const optimized = nsChild(req.body, Namespace.wsman, 'OptimizeEnumeration') !== undefined
    const batch = optimized ? take(e, maxElements(req)) : []
    const end = e.next >= e.items.length
    if (!end) this.#enumerations.set(context, e)
    return {
      kind: 'ok',
      action: WSManAction.EnumerateResponse,
      body: el(
        'n:EnumerateResponse',
        undefined,
        el('n:EnumerationContext', undefined, end ? undefined : context),
        optimized && el('w:Items', undefined, ...batch),
        end && el('w:EndOfSequence'),
      ),
    }
  }

  #pull(req: SoapRequest): OpResult {
    const context = contextOf(req) ?? ''
    const e = this.#enumerations.get(context)
    if (e === undefined) return { kind: 'fault', fault: invalidEnumerationContext() }
    const batch = take(e, maxElements(req))
    const end = e.next >= e.items.length
    if (end) this.#enumerations.delete(context)
    return {
      kind: 'ok',
      action: WSManAction.PullResponse,
      body: el(
        'n:PullResponse',
        { 'xmlns:n': Namespace.wsen },
        !end && el('n:EnumerationContext', undefined, context),
        el('n:Items', undefined, ...batch),
        end && el('n:EndOfSequence'),
      ),
    }
  }

  #invoke(cls: string, method: string, req: SoapRequest): OpResult {
    if (cls !== 'Win32_Service' || (method !== 'StopService' && method !== 'StartService')) {
      return { kind: 'fault', fault: actionNotSupported(req.action) }
    }
    if (req.body?.local !== `${method}_INPUT`) {
      return { kind: 'fault', fault: cannotProcessFilter(`expected ${method}_INPUT`) }
    }
    const svc = this.#find(cls, req.selectors)
    if (svc === undefined) return { kind: 'fault', fault: invalidSelectors() }
    const running = svc['State'] === 'Running'
    let rc = '0'
    if (method === 'StopService' ? !running : running) rc = '6'
    else {
      svc['State'] = running ? 'Stopped' : 'Running'
      svc['Started'] = running ? 'false' : 'true'
    }
    const uri = req.resourceUri
    return {
      kind: 'ok',
      action: `${uri}/${method}Response`,
      body: el(`p:${method}_OUTPUT`, { 'xmlns:p': uri }, el('p:ReturnValue', undefined, rc)),
    }
  }
}

function contextOf(req: SoapRequest): string | undefined {
  return nsChild(req.body, Namespace.wsen, 'EnumerationContext')?.text.trim()
}

function maxElements(req: SoapRequest): number {
  const n = Number(nsChild(req.body, Namespace.wsman, 'MaxElements')?.text.trim() ?? '32000')
  return Number.isSafeInteger(n) && n > 0 ? n : 32000
}

function take(e: Enumeration, n: number): XmlNode[] {
  const batch = e.items.slice(e.next, e.next + n)
  e.next += batch.length
  return batch
}

/** An instance as the WMI plug-in writes it (enumerate_1.xml's Win32_Process items). */
function instanceXml(cls: string, instance: Instance): XmlNode {
  const props: XmlChild[] = []
  for (const [name, v] of Object.entries(instance).sort(([a], [b]) => a.localeCompare(b))) {
    if (v === null) props.push(el(`p:${name}`, { 'xsi:nil': 'true' }))
    else if (typeof v === 'string') props.push(el(`p:${name}`, undefined, v))
    else if (Array.isArray(v))
      for (const item of v as readonly string[]) props.push(el(`p:${name}`, undefined, item))
    else
      props.push(
        el(`p:${name}`, undefined, el('cim:Datetime', undefined, (v as { datetime: string }).datetime)),
      )
  }
  return el(
    `p:${cls}`,
    {
      'xmlns:p': `${WMI_CIMV2}${cls}`,
      'xmlns:cim': CIM_NS,
      'xmlns:xsi': XSI_NS,
      'xsi:type': `p:${cls}_Type`,
    },
    ...props,
  )
}

const WMI_PROVIDER = { provider: 'WMI Provider', path: '%systemroot%\\system32\\WsmWmiPl.dll', nested: true }

/** wsman_fault.xml: a WQL query the WMI provider refused. */
function cannotProcessFilter(message: string): FaultSpec {
  return {
    action: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault',
    code: 'Sender',
    subcode: 'n:CannotProcessFilter',
    reason:
      'The data source could not process the filter. The filter might be missing or it might be invalid. Change the filter and try the request again.  ',
    wsmanCode: 2150858778,
    message,
    provider: WMI_PROVIDER,
  }
}

function invalidSelectors(): FaultSpec {
  const text =
    'The WS-Management service cannot process the request because the request contained invalid selectors for the resource. '
  return {
    code: 'Sender',
    subcode: 'w:InvalidSelectors',
    reason: text,
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors',
    wsmanCode: 2150858843,
    message: text,
    provider: WMI_PROVIDER,
  }
}

function invalidEnumerationContext(): FaultSpec {
  const text = 'The enumeration context supplied in the message is not valid. '
  return {
    action: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault',
    code: 'Receiver',
    subcode: 'n:InvalidEnumerationContext',
    reason: text,
    wsmanCode: 2150858777, // not from a recording
    message: text,
  }
}

function actionNotSupported(action: string): FaultSpec {
  return {
    action: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/fault',
    code: 'Sender',
    subcode: 'a:ActionNotSupported',
    reason: 'The WS-Management service does not support the specified action. ',
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/ActionMismatch',
    wsmanCode: 2150858771,
    message: `The WS-Management service does not support the action ${action} specified in the request. `,
  }
}
