/**
 * Names for the NTSTATUS codes a CredSSP server reports in TSRequest.errorCode (MS-CSSP 2.2.1,
 * values from MS-ERREF 2.3.1), and which of them mean "these credentials were refused".
 *
 * @module
 */

/** Common NTSTATUS values of failed logons, by name. */
export const NtStatus = {
  STATUS_ACCESS_DENIED: 0xc0000022,
  STATUS_INVALID_PARAMETER: 0xc000000d,
  STATUS_NO_SUCH_USER: 0xc0000064,
  STATUS_WRONG_PASSWORD: 0xc000006a,
  STATUS_LOGON_FAILURE: 0xc000006d,
  STATUS_ACCOUNT_RESTRICTION: 0xc000006e,
  STATUS_INVALID_LOGON_HOURS: 0xc000006f,
  STATUS_INVALID_WORKSTATION: 0xc0000070,
  STATUS_PASSWORD_EXPIRED: 0xc0000071,
  STATUS_ACCOUNT_DISABLED: 0xc0000072,
  STATUS_NOT_SUPPORTED: 0xc00000bb,
  STATUS_NO_LOGON_SERVERS: 0xc000005e,
  STATUS_TIME_DIFFERENCE_AT_DC: 0xc0000133,
  STATUS_LOGON_TYPE_NOT_GRANTED: 0xc000015b,
  STATUS_ACCOUNT_EXPIRED: 0xc0000193,
  STATUS_PASSWORD_MUST_CHANGE: 0xc0000224,
  STATUS_ACCOUNT_LOCKED_OUT: 0xc0000234,
  STATUS_DOWNGRADE_DETECTED: 0xc0000388,
  STATUS_AUTHENTICATION_FIREWALL_FAILED: 0xc0000413,
} as const

const NAMES = new Map<number, string>(Object.entries(NtStatus).map(([k, v]) => [v, k]))

const REFUSED = new Set<number>([
  NtStatus.STATUS_NO_SUCH_USER,
  NtStatus.STATUS_WRONG_PASSWORD,
  NtStatus.STATUS_LOGON_FAILURE,
  NtStatus.STATUS_ACCOUNT_RESTRICTION,
  NtStatus.STATUS_INVALID_LOGON_HOURS,
  NtStatus.STATUS_INVALID_WORKSTATION,
  NtStatus.STATUS_PASSWORD_EXPIRED,
  NtStatus.STATUS_ACCOUNT_DISABLED,
  NtStatus.STATUS_LOGON_TYPE_NOT_GRANTED,
  NtStatus.STATUS_ACCOUNT_EXPIRED,
  NtStatus.STATUS_PASSWORD_MUST_CHANGE,
  NtStatus.STATUS_ACCOUNT_LOCKED_OUT,
  NtStatus.STATUS_ACCESS_DENIED,
])

/** `STATUS_LOGON_FAILURE 0xC000006D`, or just the hex for an unknown code. */
export function describeNtStatus(code: number): string {
  const hex = `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`
  const name = NAMES.get(code >>> 0)
  return name === undefined ? hex : `${name} ${hex}`
}

/** True for the codes that mean the account or its password was refused. */
export function isCredentialsRefused(code: number): boolean {
  return REFUSED.has(code >>> 0)
}
