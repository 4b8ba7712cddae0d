/**
 * CLIXML (MS-PSRP 2.2.5): the PowerShell object model and its serializer/deserializer.
 *
 * ```ts
 * import { serialize, deserialize, PSObject } from 'psrp/clixml'
 * const xml = serialize(PSObject.custom({ a: 1 }))
 * const back = deserialize(xml) as PSObject
 * back.get('a') // 1
 * ```
 *
 * @module
 */
export {
  serialize,
  serializeNamed,
  formatDouble,
  type SerializeOptions,
  type SecureStringCipher,
} from './serialize.ts'
export { deserialize, type DeserializeOptions } from './deserialize.ts'
export { encodeClixmlString, decodeClixmlString } from './escape.ts'
export {
  PSObject,
  PSEnum,
  psMeta,
  getMeta,
  setMeta,
  retype,
  baseObject,
  CIRCULAR_TEXT,
  NESTED_TEXT,
  type CollectionKind,
  type CollectionMeta,
} from './ps-object.ts'
export {
  PSByte,
  PSChar,
  PSDateTime,
  PSDecimal,
  PSDouble,
  PSGuid,
  PSInt16,
  PSSByte,
  PSScriptBlock,
  PSSecureString,
  PSSingle,
  PSTimeSpan,
  PSUInt16,
  PSUInt32,
  PSUInt64,
  PSUri,
  PSVersion,
  PSXmlDocument,
  type DateTimeKind,
} from './primitives.ts'
export { registerType, lookupType, type PSObjectClass } from './registry.ts'
export * from './types/index.ts'
export { prettyClixml } from './pretty.ts'
