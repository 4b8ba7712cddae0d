/**
 * WARNING_RECORD (MS-PSRP 2.2.2.24): a record on the warning stream (InformationalRecord, 2.2.3.16). The body is the record object.
 *
 * @module
 */
import { InformationalRecord, type PSObject } from '../../clixml/index.ts'
import { asTyped } from './body.ts'

/** Fields of WARNING_RECORD. */
export interface WarningRecordMessage {
  /** The record (a typed InformationalRecord , also when the wire form carries no type names). */
  record: InformationalRecord
}

/** Encodes a WARNING_RECORD body. */
export function encodeWarningRecord(m: WarningRecordMessage): PSObject {
  return m.record
}

/** Decodes a WARNING_RECORD body. */
export function decodeWarningRecord(value: unknown): WarningRecordMessage {
  return { record: asTyped(InformationalRecord, value, 'WARNING_RECORD body') }
}
