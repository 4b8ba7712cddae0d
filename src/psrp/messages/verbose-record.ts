/**
 * VERBOSE_RECORD (MS-PSRP 2.2.2.23): a record on the verbose stream (InformationalRecord, 2.2.3.16). The body is the record object.
 *
 * @module
 */
import { InformationalRecord, type PSObject } from '../../clixml/index.ts'
import { asTyped } from './body.ts'

/** Fields of VERBOSE_RECORD. */
export interface VerboseRecordMessage {
  /** The record (a typed InformationalRecord , also when the wire form carries no type names). */
  record: InformationalRecord
}

/** Encodes a VERBOSE_RECORD body. */
export function encodeVerboseRecord(m: VerboseRecordMessage): PSObject {
  return m.record
}

/** Decodes a VERBOSE_RECORD body. */
export function decodeVerboseRecord(value: unknown): VerboseRecordMessage {
  return { record: asTyped(InformationalRecord, value, 'VERBOSE_RECORD body') }
}
