/**
 * VERBOSE_RECORD (MS-PSRP 2.2.2.23): a record on the verbose stream (InformationalRecord, 2.2.3.16). The body is the record object.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { InformationalRecord, PSObject } from '../../clixml/index.ts'

/** Fields of VERBOSE_RECORD. */
export interface VerboseRecordMessage {
  /** The record (a typed InformationalRecord when the type names are the expected ones). */
  record: InformationalRecord
}

/** Encodes a VERBOSE_RECORD body. */
export function encodeVerboseRecord(m: VerboseRecordMessage): PSObject {
  return m.record
}

/** Decodes a VERBOSE_RECORD body. */
export function decodeVerboseRecord(value: unknown): VerboseRecordMessage {
  if (value instanceof InformationalRecord) return { record: value }
  if (!(value instanceof PSObject)) throw new ProtocolError('VERBOSE_RECORD body is not an object')
  // Records without the usual type names (e.g. from old servers) still get the typed view.
  const record = new InformationalRecord({ typeNames: value.typeNames })
  record.toStringValue = value.toStringValue
  record.baseValue = value.baseValue
  for (const [k, v] of value.adapted) record.adapted.set(k, v)
  for (const [k, v] of value.extended) record.extended.set(k, v)
  return { record }
}
