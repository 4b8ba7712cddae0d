/**
 * Argument parsing for the `psrp` subcommands, in three parts: the generic parser (`args-parser.ts`:
 * tokens, flag types, {@link UsageError}), the connection flags shared by `run`, `cmd`, `shell`,
 * `copy` and `fetch` (`commands-connection.ts`), and each subcommand's flags, help and parse function
 * (`commands.ts`). This module is the one the rest of the CLI imports them from. Pure: no I/O, so the
 * unit tests exercise it directly. Files named by flags (`--ca`, `--cert`, `--key`, `-f`) are read
 * later, by the command that runs.
 *
 * @module
 */
export { UsageError, parseOptions, type OptionSpec, type ParsedOptions } from './args-parser.ts'
export {
  AUTH_METHODS,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  ENCRYPTION_MODES,
  connectionSpec,
  parsePipeTarget,
  parseSshTarget,
  type AuthMethod,
  type ConnectionSpec,
  type PipeTarget,
} from './commands-connection.ts'
export {
  CMD_HELP,
  DECODE_HELP,
  RUN_HELP,
  SHELL_HELP,
  parseCmdArgs,
  parseDecodeArgs,
  parseRunArgs,
  parseShellArgs,
  parseTransferArgs,
  transferHelp,
  type CmdArgs,
  type DecodeArgs,
  type RunArgs,
  type ShellArgs,
  type TransferArgs,
} from './commands.ts'
