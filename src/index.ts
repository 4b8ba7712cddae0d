/**
 * psrp: the PowerShell Remoting Protocol for Node.js.
 *
 * @module
 */
export * from './errors.ts'
