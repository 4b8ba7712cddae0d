/**
 * Known complex types of MS-PSRP 2.2.3 (typed PSObject subclasses and enums), registered with the
 * deserializer on import.
 *
 * @module
 */
export * from './enums.ts'
export * from './records.ts'
