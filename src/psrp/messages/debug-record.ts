/**
 * DEBUG_RECORD (MS-PSRP 2.2.2.22): a record on the debug stream (InformationalRecord, 2.2.3.16). The body is the record object.
 *
 * @module
 */
import { InformationalRecord, type PSObject } from '../../clixml/index.ts'
import { asTyped } from './body.ts'

/** Fields of DEBUG_RECORD. */
export interface DebugRecordMessage {
  /** The record (a typed InformationalRecord , also when the wire form carries no type names). */
  record: InformationalRecord
}

/** Encodes a DEBUG_RECORD body. */
export function encodeDebugRecord(m: DebugRecordMessage): PSObject {
  return m.record
}

/** Decodes a DEBUG_RECORD body. */
export function decodeDebugRecord(value: unknown): DebugRecordMessage {
  return { record: asTyped(InformationalRecord, value, 'DEBUG_RECORD body') }
}
