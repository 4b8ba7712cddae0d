/**
 * APPLICATION_PRIVATE_DATA (MS-PSRP 2.2.2.13): Server sends its application private data (includes PSVersionTable).
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, required } from './body.ts'

/** Fields of APPLICATION_PRIVATE_DATA. */
export interface ApplicationPrivateDataMessage {
  /** PSPrimitiveDictionary (a Map), e.g. with key PSVersionTable. */
  applicationPrivateData: unknown
}

/** Encodes the APPLICATION_PRIVATE_DATA body. */
export function encodeApplicationPrivateData(m: ApplicationPrivateDataMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['ApplicationPrivateData', m.applicationPrivateData])
  return msObject(props)
}

/** Decodes the APPLICATION_PRIVATE_DATA body. */
export function decodeApplicationPrivateData(value: unknown): ApplicationPrivateDataMessage {
  const o = bodyObject('APPLICATION_PRIVATE_DATA', value)
  return {
    applicationPrivateData: required('APPLICATION_PRIVATE_DATA', o, 'ApplicationPrivateData'),
  }
}
