/**
 * USER_EVENT (MS-PSRP 2.2.2.12): Server forwards a PowerShell engine event (New-Event / Register-*Event -Forward).
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, optional, required, requiredNumber, requiredString } from './body.ts'

/** Fields of USER_EVENT. */
export interface UserEventMessage {
  /** Event id. */
  eventIdentifier: number
  /** Source identifier. */
  sourceIdentifier: string
  /** When it happened (PSDateTime). */
  timeGenerated: unknown
  /** Sender object. */
  sender?: unknown
  /** Source arguments. */
  sourceArgs?: unknown
  /** Message data. */
  messageData?: unknown
  /** Computer name. */
  computerName?: unknown
  /** Runspace id (PSGuid). */
  runspaceId?: unknown
}

/** Encodes the USER_EVENT body. */
export function encodeUserEvent(m: UserEventMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['PSEventArgs.EventIdentifier', m.eventIdentifier])
  props.push(['PSEventArgs.SourceIdentifier', m.sourceIdentifier])
  props.push(['PSEventArgs.TimeGenerated', m.timeGenerated])
  if (m.sender !== undefined) props.push(['PSEventArgs.Sender', m.sender])
  if (m.sourceArgs !== undefined) props.push(['PSEventArgs.SourceArgs', m.sourceArgs])
  if (m.messageData !== undefined) props.push(['PSEventArgs.MessageData', m.messageData])
  if (m.computerName !== undefined) props.push(['PSEventArgs.ComputerName', m.computerName])
  if (m.runspaceId !== undefined) props.push(['PSEventArgs.RunspaceId', m.runspaceId])
  return msObject(props)
}

/** Decodes the USER_EVENT body. */
export function decodeUserEvent(value: unknown): UserEventMessage {
  const o = bodyObject('USER_EVENT', value)
  const sender = optional(o, 'PSEventArgs.Sender')
  const sourceArgs = optional(o, 'PSEventArgs.SourceArgs')
  const messageData = optional(o, 'PSEventArgs.MessageData')
  const computerName = optional(o, 'PSEventArgs.ComputerName')
  const runspaceId = optional(o, 'PSEventArgs.RunspaceId')
  return {
    eventIdentifier: requiredNumber('USER_EVENT', o, 'PSEventArgs.EventIdentifier'),
    sourceIdentifier: requiredString('USER_EVENT', o, 'PSEventArgs.SourceIdentifier'),
    timeGenerated: required('USER_EVENT', o, 'PSEventArgs.TimeGenerated'),
    ...(sender === undefined ? {} : { sender }),
    ...(sourceArgs === undefined ? {} : { sourceArgs }),
    ...(messageData === undefined ? {} : { messageData }),
    ...(computerName === undefined ? {} : { computerName }),
    ...(runspaceId === undefined ? {} : { runspaceId }),
  }
}
