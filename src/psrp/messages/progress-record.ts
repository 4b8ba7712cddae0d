/**
 * PROGRESS_RECORD (MS-PSRP 2.2.2.25): a progress record. The body is the record object.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ProgressRecord, PSObject } from '../../clixml/index.ts'

/** Fields of PROGRESS_RECORD. */
export interface ProgressRecordMessage {
  /** The record (a typed ProgressRecord when the type names are the expected ones). */
  record: ProgressRecord
}

/** Encodes a PROGRESS_RECORD body. */
export function encodeProgressRecord(m: ProgressRecordMessage): PSObject {
  return m.record
}

/** Decodes a PROGRESS_RECORD body. */
export function decodeProgressRecord(value: unknown): ProgressRecordMessage {
  if (value instanceof ProgressRecord) return { record: value }
  if (!(value instanceof PSObject)) throw new ProtocolError('PROGRESS_RECORD body is not an object')
  // Records without the usual type names (e.g. from old servers) still get the typed view.
  const record = new ProgressRecord({ typeNames: value.typeNames })
  record.toStringValue = value.toStringValue
  record.baseValue = value.baseValue
  for (const [k, v] of value.adapted) record.adapted.set(k, v)
  for (const [k, v] of value.extended) record.extended.set(k, v)
  return { record }
}
