/**
 * ERROR_RECORD (MS-PSRP 2.2.2.20): an error record written to the error stream (2.2.3.15). The body is the record object.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ErrorRecord, PSObject } from '../../clixml/index.ts'

/** Fields of ERROR_RECORD. */
export interface ErrorRecordMessage {
  /** The record (a typed ErrorRecord when the type names are the expected ones). */
  record: ErrorRecord
}

/** Encodes a ERROR_RECORD body. */
export function encodeErrorRecord(m: ErrorRecordMessage): PSObject {
  return m.record
}

/** Decodes a ERROR_RECORD body. */
export function decodeErrorRecord(value: unknown): ErrorRecordMessage {
  if (value instanceof ErrorRecord) return { record: value }
  if (!(value instanceof PSObject)) throw new ProtocolError('ERROR_RECORD body is not an object')
  // Records without the usual type names (e.g. from old servers) still get the typed view.
  const record = new ErrorRecord({ typeNames: value.typeNames })
  record.toStringValue = value.toStringValue
  record.baseValue = value.baseValue
  for (const [k, v] of value.adapted) record.adapted.set(k, v)
  for (const [k, v] of value.extended) record.extended.set(k, v)
  return { record }
}
