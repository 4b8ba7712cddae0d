/**
 * INFORMATION_RECORD (MS-PSRP 2.2.2.26): a record on the information stream (Write-Information, Write-Host). The body is the record object.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { InformationRecord, PSObject } from '../../clixml/index.ts'

/** Fields of INFORMATION_RECORD. */
export interface InformationRecordMessage {
  /** The record (a typed InformationRecord when the type names are the expected ones). */
  record: InformationRecord
}

/** Encodes a INFORMATION_RECORD body. */
export function encodeInformationRecord(m: InformationRecordMessage): PSObject {
  return m.record
}

/** Decodes a INFORMATION_RECORD body. */
export function decodeInformationRecord(value: unknown): InformationRecordMessage {
  if (value instanceof InformationRecord) return { record: value }
  if (!(value instanceof PSObject)) throw new ProtocolError('INFORMATION_RECORD body is not an object')
  // Records without the usual type names (e.g. from old servers) still get the typed view.
  const record = new InformationRecord({ typeNames: value.typeNames })
  record.toStringValue = value.toStringValue
  record.baseValue = value.baseValue
  for (const [k, v] of value.adapted) record.adapted.set(k, v)
  for (const [k, v] of value.extended) record.extended.set(k, v)
  return { record }
}
