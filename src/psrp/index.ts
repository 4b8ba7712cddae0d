/**
 * Sans-IO PSRP (MS-PSRP): wire codecs, the 31 message bodies, and GUID helpers.
 *
 * @module
 */
export * from './wire/index.ts'
export * from './messages/index.ts'
export {
  NIL_GUID,
  guidFromBytes,
  guidToBytes,
  normalizeGuid,
  swapGuidByteOrder,
  randomGuid,
  type GuidSource,
} from '../internal/guid.ts'
export * from './states.ts'
export * from './events.ts'
export * from './pipeline.ts'
export * from './runspace-pool.ts'
export * from './session-key.ts'
