/**
 * PIPELINE_INPUT (MS-PSRP 2.2.2.17): one input object for a pipeline; the body is the serialized
 * object itself.
 *
 * @module
 */

/** Fields of PIPELINE_INPUT. */
export interface PipelineInputMessage {
  /** The input object. */
  value: unknown
}

/** Encodes a PIPELINE_INPUT body. */
export function encodePipelineInput(m: PipelineInputMessage): unknown {
  return m.value
}

/**
 * Decodes a PIPELINE_INPUT body. PowerShell sends `$null` as an empty body (no `<Nil />`), which
 * decodes to `null`.
 */
export function decodePipelineInput(value: unknown): PipelineInputMessage {
  return { value: value === undefined ? null : value }
}
