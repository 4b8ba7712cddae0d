/**
 * INFORMATION_RECORD (MS-PSRP 2.2.2.26): a record on the information stream (Write-Information, Write-Host). The body is the record object.
 *
 * @module
 */
import { InformationRecord, type PSObject } from '../../clixml/index.ts'
import { asTyped } from './body.ts'

/** Fields of INFORMATION_RECORD. */
export interface InformationRecordMessage {
  /** The record (a typed InformationRecord , also when the wire form carries no type names). */
  record: InformationRecord
}

/** Encodes a INFORMATION_RECORD body. */
export function encodeInformationRecord(m: InformationRecordMessage): PSObject {
  return m.record
}

/** Decodes a INFORMATION_RECORD body. */
export function decodeInformationRecord(value: unknown): InformationRecordMessage {
  return { record: asTyped(InformationRecord, value, 'INFORMATION_RECORD body') }
}
