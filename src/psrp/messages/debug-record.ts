/**
 * DEBUG_RECORD (MS-PSRP 2.2.2.22): a record on the debug stream (InformationalRecord, 2.2.3.16). The body is the record object.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { InformationalRecord, PSObject } from '../../clixml/index.ts'

/** Fields of DEBUG_RECORD. */
export interface DebugRecordMessage {
  /** The record (a typed InformationalRecord when the type names are the expected ones). */
  record: InformationalRecord
}

/** Encodes a DEBUG_RECORD body. */
export function encodeDebugRecord(m: DebugRecordMessage): PSObject {
  return m.record
}

/** Decodes a DEBUG_RECORD body. */
export function decodeDebugRecord(value: unknown): DebugRecordMessage {
  if (value instanceof InformationalRecord) return { record: value }
  if (!(value instanceof PSObject)) throw new ProtocolError('DEBUG_RECORD body is not an object')
  // Records without the usual type names (e.g. from old servers) still get the typed view.
  const record = new InformationalRecord({ typeNames: value.typeNames })
  record.toStringValue = value.toStringValue
  record.baseValue = value.baseValue
  for (const [k, v] of value.adapted) record.adapted.set(k, v)
  for (const [k, v] of value.extended) record.extended.set(k, v)
  return { record }
}
