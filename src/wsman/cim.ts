/**
 * CIM over WS-Management: resource URIs of WMI classes, CIM instances as plain objects, and method
 * invocation, per the DMTF WS-CIM mapping (DSP0230) and the WS-Management CIM binding (DSP0227) as
 * Windows implements them (MS-WSMV 4.1.4 "Invoking a Method", the WMI plug-in's URIs
 * `http://schemas.microsoft.com/wbem/wsman/1/wmi/<namespace>/<class>`).
 *
 * An instance is an element named after its class in the class's namespace (the resource URI), one
 * child per property:
 *
 * ```xml
 * <p:Win32_Service xmlns:p="…/wmi/root/cimv2/Win32_Service" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"
 *     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="p:Win32_Service_Type">
 *   <p:Name>WinRM</p:Name>
 *   <p:ExitCode>0</p:ExitCode>
 *   <p:InstallDate xsi:nil="true"/>                                   NULL property (DSP0230: xsi:nil)
 *   <p:CreationDate><cim:Datetime>2013-04-29T11:43:11.203125-07:00</cim:Datetime></p:CreationDate>
 *   <p:MUILanguages>en-US</p:MUILanguages><p:MUILanguages>de-DE</p:MUILanguages>   an array: repeated
 * </p:Win32_Service>
 * ```
 *
 * Parsed conservatively: every value is a string, except `xsi:nil` (null), repeated elements (an
 * array), nested elements (an object, e.g. an embedded instance or an endpoint reference), the
 * `cim:` date-time wrappers (their text), an `xsi:type` of an XML Schema primitive, and properties
 * whose CIM type is known — given by the caller or in the small table of {@link KNOWN_CIM_TYPES}
 * (from the classes' MOF). CIM integers up to 32 bits become numbers, 64-bit ones bigints, booleans
 * booleans.
 *
 * A method call is a custom action `<resourceUri>/<Method>` whose body is `<p:Method_INPUT>` with one
 * child per input parameter, in the class's namespace; the answer is `<p:Method_OUTPUT>` with
 * `ReturnValue` and the output parameters (MS-WSMV 4.1.4).
 *
 * @module
 */
import { InvalidArgumentError, ProtocolError } from '../errors.ts'
import type { CustomRequest, RequestCommon } from './envelope.ts'
import { el, type XmlNode } from './xml-node.ts'
import { nsAttr, type NsElement } from './xml-ns.ts'

/** Prefix of the WMI plug-in's resource URIs (`…/wmi/root/cimv2/Win32_Service`). */
export const WMI_RESOURCE_PREFIX = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/'
/** The WS-CIM common namespace (`cim:Datetime`, `cim:Interval`, …). */
export const CIM_COMMON_NAMESPACE = 'http://schemas.dmtf.org/wbem/wscim/1/common'
/** XML Schema instance (`xsi:nil`, `xsi:type`). */
export const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance'
/** XML Schema (the namespace of `xs:int` and friends in `xsi:type`). */
const XSD_NAMESPACE = 'http://www.w3.org/2001/XMLSchema'

/** A CIM value as parsed. */
export type CimValue = string | number | bigint | boolean | null | CimObject | CimValue[]
/** A CIM instance (or embedded object / method output): property name → value. */
export interface CimObject {
  [name: string]: CimValue
}

/** CIM intrinsic data types (DSP0004) the parser can convert to. */
export type CimType =
  | 'boolean'
  | 'string'
  | 'char16'
  | 'datetime'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'sint8'
  | 'sint16'
  | 'sint32'
  | 'sint64'
  | 'real32'
  | 'real64'

/** Property types by name. */
export type CimSchema = Readonly<Record<string, CimType>>

const u32: CimType = 'uint32'
/**
 * Property types of the classes this package knows (from their MOF in the Win32 provider
 * documentation), by class name; method outputs as `<Class>.<Method>_OUTPUT`. Properties not listed
 * stay strings.
 */
export const KNOWN_CIM_TYPES: Readonly<Record<string, CimSchema>> = {
  Win32_Service: {
    AcceptPause: 'boolean',
    AcceptStop: 'boolean',
    CheckPoint: u32,
    DelayedAutoStart: 'boolean',
    DesktopInteract: 'boolean',
    ExitCode: u32,
    InstallDate: 'datetime',
    ProcessId: u32,
    ServiceSpecificExitCode: u32,
    Started: 'boolean',
    TagId: u32,
    WaitHint: u32,
  },
  Win32_OperatingSystem: {
    CurrentTimeZone: 'sint16',
    DataExecutionPrevention_Available: 'boolean',
    DataExecutionPrevention_32BitApplications: 'boolean',
    DataExecutionPrevention_Drivers: 'boolean',
    DataExecutionPrevention_SupportPolicy: 'uint8',
    Debug: 'boolean',
    Distributed: 'boolean',
    EncryptionLevel: u32,
    ForegroundApplicationBoost: 'uint8',
    FreePhysicalMemory: 'uint64',
    FreeSpaceInPagingFiles: 'uint64',
    FreeVirtualMemory: 'uint64',
    InstallDate: 'datetime',
    LargeSystemCache: u32,
    LastBootUpTime: 'datetime',
    LocalDateTime: 'datetime',
    MaxNumberOfProcesses: u32,
    MaxProcessMemorySize: 'uint64',
    NumberOfLicensedUsers: u32,
    NumberOfProcesses: u32,
    NumberOfUsers: u32,
    OperatingSystemSKU: u32,
    OSLanguage: u32,
    OSProductSuite: u32,
    OSType: 'uint16',
    PAEEnabled: 'boolean',
    PortableOperatingSystem: 'boolean',
    Primary: 'boolean',
    ProductType: u32,
    SizeStoredInPagingFiles: 'uint64',
    TotalSwapSpaceSize: 'uint64',
    TotalVirtualMemorySize: 'uint64',
    TotalVisibleMemorySize: 'uint64',
  },
  // the Win32_Service control methods answer a uint32 ReturnValue
  'Win32_Service.StartService_OUTPUT': { ReturnValue: u32 },
  'Win32_Service.StopService_OUTPUT': { ReturnValue: u32 },
  'Win32_Service.PauseService_OUTPUT': { ReturnValue: u32 },
  'Win32_Service.ResumeService_OUTPUT': { ReturnValue: u32 },
  'Win32_Service.ChangeStartMode_OUTPUT': { ReturnValue: u32 },
}
/**
 * The resource URI of a WMI class: a class name (`Win32_Service`, or `*` for a WQL query over the
 * namespace) becomes `…/wmi/<namespace>/<class>`; a URI (`http…`) is returned as is.
 */
export function cimResourceUri(classOrUri: string, namespace = 'root/cimv2'): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(classOrUri)) return classOrUri
  if (!/^(\*|[A-Za-z_][A-Za-z0-9_]*)$/.test(classOrUri)) {
    throw new InvalidArgumentError(`not a CIM class name or resource URI: ${JSON.stringify(classOrUri)}`)
  }
  const ns = namespace.replace(/\\/g, '/').replace(/^\/+|\/+$/g, '')
  if (!/^[A-Za-z0-9_]+(\/[A-Za-z0-9_]+)*$/.test(ns)) {
    throw new InvalidArgumentError(`not a CIM namespace: ${JSON.stringify(namespace)}`)
  }
  return `${WMI_RESOURCE_PREFIX}${ns}/${classOrUri}`
}

/** The class name at the end of a resource URI (`…/Win32_Service` → `Win32_Service`). */
export function cimClassOf(resourceUri: string): string {
  return resourceUri.slice(resourceUri.lastIndexOf('/') + 1)
}

/** Options of {@link parseCimInstance} and {@link parseCimMethodOutput}. */
export interface CimParseOptions {
  /** Property types; default the {@link KNOWN_CIM_TYPES} entry of the element's name. */
  readonly schema?: CimSchema | undefined
}

const INT_RANGE: Readonly<Record<string, readonly [bigint, bigint]>> = {
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
  uint64: [0n, 18446744073709551615n],
  sint8: [-128n, 127n],
  sint16: [-32768n, 32767n],
  sint32: [-2147483648n, 2147483647n],
  sint64: [-9223372036854775808n, 9223372036854775807n],
}

/** XML Schema primitive (`xsi:type`) → CIM type, for the ones with an exact counterpart. */
const XSD_TYPES: Readonly<Record<string, CimType>> = {
  boolean: 'boolean',
  unsignedByte: 'uint8',
  unsignedShort: 'uint16',
  unsignedInt: 'uint32',
  unsignedLong: 'uint64',
  byte: 'sint8',
  short: 'sint16',
  int: 'sint32',
  long: 'sint64',
  float: 'real32',
  double: 'real64',
  string: 'string',
  dateTime: 'datetime',
}

/** Converts property text to its CIM type; text that does not fit the type is a {@link ProtocolError}. */
export function convertCimValue(text: string, type: CimType, name = 'value'): CimValue {
  const t = text.trim()
  const bad = (): ProtocolError =>
    new ProtocolError(`CIM property ${name}: ${JSON.stringify(t)} is not a ${type}`)
  const range = INT_RANGE[type]
  if (range !== undefined) {
    if (!/^[-+]?\d{1,20}$/.test(t)) throw bad()
    const n = BigInt(t)
    if (n < range[0] || n > range[1]) throw bad()
    return type.endsWith('64') ? n : Number(n)
  }
  switch (type) {
    case 'boolean':
      if (t === 'true' || t === '1') return true
      if (t === 'false' || t === '0') return false
      throw bad()
    case 'real32':
    case 'real64': {
      if (!/^([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]?INF|NaN)$/.test(t)) throw bad()
      return t.endsWith('INF') ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t)
    }
    default:
      return text
  }
}

function isNil(e: NsElement): boolean {
  const v = nsAttr(e, 'nil', XSI_NAMESPACE)?.trim()
  return v === 'true' || v === '1'
}

function xsiType(e: NsElement): CimType | undefined {
  const q = nsAttr(e, 'type', XSI_NAMESPACE)?.trim()
  if (q === undefined) return undefined
  const i = q.indexOf(':')
  const ns = e.scope.get(i < 0 ? '' : q.slice(0, i))
  return ns === XSD_NAMESPACE ? XSD_TYPES[q.slice(i + 1)] : undefined
}

function valueOf(e: NsElement, type: CimType | undefined): CimValue {
  if (isNil(e)) return null
  if (e.children.length === 0) {
    const t = type ?? xsiType(e)
    return t === undefined ? e.text : convertCimValue(e.text, t, e.local)
  }
  // cim:Datetime, cim:Interval, cim:Date, cim:Time, cim:CIM_DateTime (DSP0230 cimDateTime): the text
  const only = e.children.length === 1 ? e.children[0] : undefined
  if (only !== undefined && only.ns === CIM_COMMON_NAMESPACE && only.children.length === 0)
    return only.text.trim()
  return objectOf(e, undefined)
}

function objectOf(e: NsElement, schema: CimSchema | undefined): CimObject {
  const groups = new Map<string, CimValue[]>()
  for (const c of e.children) {
    const type = schema !== undefined && Object.hasOwn(schema, c.local) ? schema[c.local] : undefined
    const value = valueOf(c, type)
    const list = groups.get(c.local)
    if (list === undefined) groups.set(c.local, [value])
    else list.push(value)
  }
  // fromEntries defines own properties, so a property named __proto__ stays data
  return Object.fromEntries(
    [...groups].map(([name, list]) => [name, list.length === 1 ? (list[0] as CimValue) : list]),
  ) as CimObject
}

/**
 * A CIM instance element as a plain object: property name → value (see the module comment).
 * Properties are read by local name; `schema` (default: {@link KNOWN_CIM_TYPES} of the element's
 * class) types them.
 */
export function parseCimInstance(instance: NsElement, options: CimParseOptions = {}): CimObject {
  return objectOf(instance, options.schema ?? KNOWN_CIM_TYPES[instance.local])
}

/** A method input parameter: text, a number, a boolean, null (`xsi:nil`) or an array (repeated). */
export type CimInputValue = string | number | bigint | boolean | null | readonly CimInputValue[]

function inputText(v: string | number | bigint | boolean): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'INF' : '-INF'
  return String(v)
}

/**
 * The request invoking method `method` of the class (or, with selectors, the instance) at
 * `resourceUri`: action `<resourceUri>/<method>`, body `<p:<method>_INPUT xmlns:p="<resourceUri>">`
 * with one element per parameter (MS-WSMV 4.1.4).
 */
export function cimMethodRequest(
  common: RequestCommon,
  method: string,
  input: Readonly<Record<string, CimInputValue>> = {},
): CustomRequest {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(method)) {
    throw new InvalidArgumentError(`not a CIM method name: ${JSON.stringify(method)}`)
  }
  const params: XmlNode[] = []
  const add = (name: string, v: CimInputValue): void => {
    if (Array.isArray(v)) for (const item of v as readonly CimInputValue[]) add(name, item)
    else if (v === null) params.push(el(`p:${name}`, { 'xsi:nil': 'true', 'xmlns:xsi': XSI_NAMESPACE }))
    else params.push(el(`p:${name}`, undefined, inputText(v as string | number | bigint | boolean)))
  }
  for (const [name, v] of Object.entries(input)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new InvalidArgumentError(`not a CIM parameter name: ${JSON.stringify(name)}`)
    }
    add(name, v)
  }
  return {
    ...common,
    action: 'custom',
    actionUri: `${common.resourceUri}/${method}`,
    body: el(`p:${method}_INPUT`, { 'xmlns:p': common.resourceUri }, ...params),
  }
}

/**
 * The output of a CIM method (`<p:<method>_OUTPUT>`: `ReturnValue` and output parameters) as a plain
 * object. A body of another element is a {@link ProtocolError}.
 */
export function parseCimMethodOutput(
  content: NsElement | undefined,
  resourceUri: string,
  method: string,
  options: CimParseOptions = {},
): CimObject {
  const expected = `${method}_OUTPUT`
  if (content === undefined || content.local !== expected) {
    throw new ProtocolError(
      `expected ${expected} in the answer to ${method}, got ${content === undefined ? 'an empty body' : `<${content.name}>`}`,
    )
  }
  return objectOf(content, options.schema ?? KNOWN_CIM_TYPES[`${cimClassOf(resourceUri)}.${expected}`])
}
