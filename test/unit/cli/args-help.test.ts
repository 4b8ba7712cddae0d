/**
 * Every subcommand's `--help` text is what `psrp <command> --help` printed before args.ts was split
 * into the parser and the command specs: `args-help/<command>.txt` holds that output (captured from
 * the CLI, with the newline `main.ts` adds). A change to a help text fails here until the file is
 * updated with it, so it shows up in review. Also checks that each command's `--help` flag is parsed
 * as help (what makes main.ts print the text) and that every flag the parser accepts appears in it.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  CMD_HELP,
  CONNECTION_OPTIONS,
  DECODE_HELP,
  RUN_HELP,
  SHELL_HELP,
  parseCmdArgs,
  parseDecodeArgs,
  parseRunArgs,
  parseShellArgs,
  parseTransferArgs,
  transferHelp,
} from '../../../src/cli/args.ts'

const golden = (command: string): string =>
  readFileSync(join(import.meta.dirname, 'args-help', `${command}.txt`), 'utf8')

/** Per command: its help text, whether `--help` parses as help, and the flags it accepts beyond the connection's. */
const commands: Record<string, { help: string; parsesHelp: () => boolean; own: string[] }> = {
  run: {
    help: RUN_HELP,
    parsesHelp: () => parseRunArgs(['--help']).help,
    own: ['file', 'json', 'width', 'no-stdin', 'hosts-file', 'throttle'],
  },
  cmd: {
    help: CMD_HELP,
    parsesHelp: () => parseCmdArgs(['-h']).help,
    own: ['no-cmd-shell', 'no-stdin', 'raw-stderr', 'hosts-file', 'throttle'],
  },
  shell: { help: SHELL_HELP, parsesHelp: () => parseShellArgs(['--help']).help, own: [] },
  copy: {
    help: transferHelp('copy'),
    parsesHelp: () => parseTransferArgs('copy', ['--help']).help,
    own: ['force', 'expand', 'no-progress', 'hosts-file', 'throttle'],
  },
  fetch: {
    help: transferHelp('fetch'),
    parsesHelp: () => parseTransferArgs('fetch', ['-h']).help,
    own: ['force', 'expand', 'no-progress'],
  },
  decode: { help: DECODE_HELP, parsesHelp: () => parseDecodeArgs(['--help']).help, own: ['no-body'] },
}

for (const [command, spec] of Object.entries(commands)) {
  test(`psrp ${command} --help prints the same text as before the split`, () => {
    assert.ok(spec.parsesHelp(), `${command} --help is parsed as help`)
    assert.equal(`${spec.help}\n`, golden(command))
    const flags =
      command === 'decode' ? ['help', ...spec.own] : [...Object.keys(CONNECTION_OPTIONS), ...spec.own]
    for (const flag of flags)
      assert.ok(spec.help.includes(`--${flag}`), `${command} --help mentions --${flag}`)
  })
}
