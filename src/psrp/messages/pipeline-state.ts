/**
 * PIPELINE_STATE (MS-PSRP 2.2.2.21): Server reports a pipeline state change.
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, optional, requiredNumber } from './body.ts'

/** Fields of PIPELINE_STATE. */
export interface PipelineStateMessage {
  /** PSInvocationState value (2.2.3.5). */
  state: number
  /** ErrorRecord of a Failed or Stopped pipeline. */
  error?: unknown
}

/** Encodes the PIPELINE_STATE body. */
export function encodePipelineState(m: PipelineStateMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['PipelineState', m.state])
  if (m.error !== undefined) props.push(['ExceptionAsErrorRecord', m.error])
  return msObject(props)
}

/** Decodes the PIPELINE_STATE body. */
export function decodePipelineState(value: unknown): PipelineStateMessage {
  const o = bodyObject('PIPELINE_STATE', value)
  const error = optional(o, 'ExceptionAsErrorRecord')
  return {
    state: requiredNumber('PIPELINE_STATE', o, 'PipelineState'),
    ...(error === undefined ? {} : { error }),
  }
}
