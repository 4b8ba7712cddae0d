/**
 * psrp/outofproc: the sans-IO OutOfProc transport core used by `pwsh -s`, SSH (`-sshs`) and named pipes:
 * the packet codec, a line splitter and the client session that enforces PowerShell's ack rules.
 *
 * @module
 */
export {
  DEFAULT_PACKET_DATA,
  MAX_PACKET_DATA,
  SESSION_GUID,
  decodeLine,
  encodePacket,
  encodePacketLine,
  type DataPacket,
  type GuidPacket,
  type GuidPacketKind,
  type OutOfProcLine,
  type OutOfProcPacket,
  type OutOfProcStream,
  type ServerErrorLine,
  type ServerErrorPrefix,
} from './packet.ts'
/** The chunks {@link OutOfProcSession.send} takes: the one payload type of the transports. */
export type { PsrpPayload } from '../internal/payload.ts'
export { DEFAULT_MAX_LINE_LENGTH, LineReader, type LineReaderOptions } from './line-reader.ts'
export {
  OutOfProcSession,
  type AckKind,
  type OutOfProcEvent,
  type OutOfProcSessionOptions,
  type OutOfProcSessionState,
  type OutgoingPacket,
  type RequestId,
} from './session.ts'
