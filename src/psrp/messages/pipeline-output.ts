/**
 * PIPELINE_OUTPUT (MS-PSRP 2.2.2.19): one output object of a pipeline; the body is the serialized
 * object itself.
 *
 * @module
 */

/** Fields of PIPELINE_OUTPUT. */
export interface PipelineOutputMessage {
  /** The output object. */
  value: unknown
}

/** Encodes a PIPELINE_OUTPUT body. */
export function encodePipelineOutput(m: PipelineOutputMessage): unknown {
  return m.value
}

/**
 * Decodes a PIPELINE_OUTPUT body. PowerShell sends `$null` as an empty body (no `<Nil />`), which
 * decodes to `null`.
 */
export function decodePipelineOutput(value: unknown): PipelineOutputMessage {
  return { value: value === undefined ? null : value }
}
