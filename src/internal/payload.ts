/**
 * The one payload type between the PSRP core, the transports and the OutOfProc core: whole PSRP
 * fragments for one target and one stream. It lives here, below both `psrp/` and `outofproc/`, so
 * neither sans-IO core has to import the other; `psrp` exports it as `PsrpPayload`.
 *
 * @module
 */

/** Bytes to hand to (or received from) a transport. */
export interface PsrpPayload {
  /** One or more whole fragments for one target and stream. */
  readonly data: Uint8Array
  /** `promptResponse` for host responses (WS-Man `pr` stream, OutOfProc `PromptResponse`), else `default`. */
  readonly stream: 'default' | 'promptResponse'
  /** The pipeline the fragments are for, or undefined for the pool. */
  readonly pipelineId?: string | undefined
}
