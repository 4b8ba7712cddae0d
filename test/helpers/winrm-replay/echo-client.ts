/**
 * A stand-in client for the replay server's own tests: it sends the recorded requests themselves,
 * with every client-chosen GUID (MessageID, SessionId, PSRP ShellId/RPID, CommandId/PID) replaced
 * by a fresh random one and PSRP header GUIDs written in .NET order, so the server has to learn the
 * mapping. GUIDs the server chose (WinRS ShellId/CommandId) are echoed as served.
 */
import type { Exchange } from '../recordings.ts'
import { GUID_IN_TEXT } from './guids.ts'
import { parseEnvelope, rewriteEnvelope } from './envelope.ts'
import type { GuidOrder } from './guids.ts'

/** Recorded GUIDs the client chose: those a request carries before any response mentioned them. */
export function clientChosenGuids(exchanges: readonly Exchange[]): Set<string> {
  const seen = new Set<string>()
  const chosen = new Set<string>()
  for (const ex of exchanges) {
    for (const m of ex.request.matchAll(GUID_IN_TEXT)) {
      const g = m[0].toLowerCase()
      if (!seen.has(g)) chosen.add(g)
      seen.add(g)
    }
    for (const m of (ex.response ?? '').matchAll(GUID_IN_TEXT)) seen.add(m[0].toLowerCase())
  }
  chosen.delete('00000000-0000-0000-0000-000000000000')
  return chosen
}

/** Fresh GUIDs for the client-chosen ones, and the way back. */
export class FreshGuids {
  readonly forward = new Map<string, string>()
  readonly back = new Map<string, string>()
  readonly #chosen: Set<string>

  constructor(exchanges: readonly Exchange[]) {
    this.#chosen = clientChosenGuids(exchanges)
  }

  /** The client's GUID for a recorded one. */
  fresh = (g: string): string => {
    if (!this.#chosen.has(g)) return g
    let f = this.forward.get(g)
    if (f === undefined) {
      f = globalThis.crypto.randomUUID()
      this.forward.set(g, f)
      this.back.set(f, g)
    }
    return f
  }

  /** The recorded GUID for one of the client's. */
  recorded = (g: string): string => this.back.get(g) ?? g
}

/** The request the stand-in client sends for a recorded exchange. */
export function clientRequest(ex: Exchange, guids: FreshGuids, order: GuidOrder): string {
  const psrp = parseEnvelope(ex.request).psrp
  return rewriteEnvelope(ex.request, guids.fresh, psrp ? { from: order, to: 'le' } : undefined)
}

/** A served response mapped back to the recording's GUIDs and header byte order. */
export function backToRecorded(served: string, request: string, guids: FreshGuids, order: GuidOrder): string {
  const psrp = parseEnvelope(request).psrp
  return rewriteEnvelope(served, guids.recorded, psrp ? { from: 'le', to: order } : undefined)
}
