/**
 * END_OF_PIPELINE_INPUT (MS-PSRP 2.2.2.18): the client has no more input for the pipeline. The
 * message has an empty body.
 *
 * @module
 */

/** END_OF_PIPELINE_INPUT has no fields. */
export type EndOfPipelineInputMessage = Record<string, never>

/** The END_OF_PIPELINE_INPUT body: nothing. */
export function encodeEndOfPipelineInput(_m: EndOfPipelineInputMessage = {}): undefined {
  return undefined
}

/** Decodes END_OF_PIPELINE_INPUT. */
export function decodeEndOfPipelineInput(_value: unknown): EndOfPipelineInputMessage {
  return {}
}
