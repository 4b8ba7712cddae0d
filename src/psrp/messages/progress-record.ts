/**
 * PROGRESS_RECORD (MS-PSRP 2.2.2.25): a progress record. The body is the record object.
 *
 * @module
 */
import { ProgressRecord, type PSObject } from '../../clixml/index.ts'
import { asTyped } from './body.ts'

/** Fields of PROGRESS_RECORD. */
export interface ProgressRecordMessage {
  /** The record (a typed ProgressRecord , also when the wire form carries no type names). */
  record: ProgressRecord
}

/** Encodes a PROGRESS_RECORD body. */
export function encodeProgressRecord(m: ProgressRecordMessage): PSObject {
  return m.record
}

/** Decodes a PROGRESS_RECORD body. */
export function decodeProgressRecord(value: unknown): ProgressRecordMessage {
  return { record: asTyped(ProgressRecord, value, 'PROGRESS_RECORD body') }
}
