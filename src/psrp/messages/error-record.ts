/**
 * ERROR_RECORD (MS-PSRP 2.2.2.20): an error record written to the error stream (2.2.3.15). The body is the record object.
 *
 * @module
 */
import { ErrorRecord, type PSObject } from '../../clixml/index.ts'
import { asTyped } from './body.ts'

/** Fields of ERROR_RECORD. */
export interface ErrorRecordMessage {
  /** The record (a typed ErrorRecord , also when the wire form carries no type names). */
  record: ErrorRecord
}

/** Encodes a ERROR_RECORD body. */
export function encodeErrorRecord(m: ErrorRecordMessage): PSObject {
  return m.record
}

/** Decodes a ERROR_RECORD body. */
export function decodeErrorRecord(value: unknown): ErrorRecordMessage {
  return { record: asTyped(ErrorRecord, value, 'ERROR_RECORD body') }
}
