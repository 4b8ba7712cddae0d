/**
 * PSRP wire layer (MS-PSRP 2.2.1, 2.2.4): fragments, fragmenter/defragmenter, message headers and
 * message types.
 *
 * @module
 */
export * from './fragment.ts'
export * from './fragmenter.ts'
export * from './defragmenter.ts'
export * from './message.ts'
export * from './message-type.ts'
