/**
 * `psrp shell` in a real terminal: tmux runs the CLI against a local pwsh in a 120×40 pane; keys go
 * in with send-keys and the screen comes back with capture-pane, polled against a deadline. Checks:
 * the remote prompt, a command's output, Tab completion through TabExpansion2, Ctrl+C stopping a
 * running pipeline within 2 s with the prompt returning, Read-Host (plain and masked), multi-line
 * input, coloured errors as pwsh 7 words them, progress bar, and `exit`; `psrp decode`'s hint on a
 * terminal; `psrp copy`'s transfer bar.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { psrpShellCommand } from '../helpers/cli.ts'

const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')
const pwsh = findPwsh()
const hasTmux = spawnSync('tmux', ['-V'], { timeout: 5000 }).status === 0
const skip = pwshSkip(pwsh) || peerSkip('tmux', hasTmux, 'apt-get install tmux')

/** A private tmux server (own socket), so nothing else's sessions are touched. */
const SOCKET = `psrp-cli-test-${process.pid}`
const SESSION = 'psrp'
/** The prompt as first shown (`PS <location>> `), set by the first check. */
let PROMPT = 'PS > '

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...process.env, PSRP_PWSH: pwsh ?? '' },
  })
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

/** The pane, scrollback included, wrapped lines joined; `escapes` keeps colour codes. */
function screen(escapes = false): string {
  return tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', SESSION, ...(escapes ? ['-e'] : []))
}

const keys = (...k: string[]): void => void tmux('send-keys', '-t', SESSION, ...k)
/** Types text literally (no key-name interpretation), then optionally Enter. */
const type = (text: string, enter = true): void => {
  tmux('send-keys', '-t', SESSION, '-l', text)
  if (enter) keys('Enter')
}

/** Polls the screen until `check` passes or the deadline; returns the screen and the wait in ms. */
async function waitFor(
  what: string,
  check: (text: string) => boolean,
  timeoutMs = 20_000,
  escapes = false,
): Promise<{ text: string; ms: number }> {
  const t0 = Date.now()
  for (;;) {
    const text = screen(escapes)
    if (check(text)) return { text, ms: Date.now() - t0 }
    if (Date.now() - t0 > timeoutMs)
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${text}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const lines = (text: string): string[] => text.split('\n').map((l) => l.trimEnd())
const prompts = (text: string): number => lines(text).filter((l) => l.startsWith(PROMPT.trimEnd())).length
const ESC = String.fromCharCode(27)
/** Any SGR (colour) escape sequence. */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g')
/** The error line in bright red (ConsoleColor Red = SGR 91). */
const RED_ERROR = new RegExp(`${ESC}\\[[0-9;]*91m[^\\n]*Cannot find path '/does-not-exist'`)
/** The screen's last non-empty line. */
const lastLine = (text: string): string =>
  lines(text)
    .filter((l) => l !== '')
    .at(-1) ?? ''

describe('psrp shell in tmux (local pwsh)', { skip }, () => {
  before(() => {
    tmux(
      'new-session',
      '-d',
      '-s',
      SESSION,
      '-x',
      '120',
      '-y',
      '40',
      '-c',
      repo,
      `${psrpShellCommand} shell; echo "EXITED rc=$?"; sleep 600`,
    )
  })
  after(() => {
    try {
      tmux('kill-server')
    } catch {
      // already gone
    }
    // the server leaves its socket file behind
    const uid = process.getuid?.() ?? 0
    rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${uid}`, SOCKET), { force: true })
  })

  test(
    'prompt, output, Tab completion, Ctrl+C, Read-Host, multi-line, colours, progress, exit',
    { timeout: 240_000 },
    async (t) => {
      // 1. the remote prompt function's output
      const first = await waitFor('the prompt', (t) => /^PS .+>$/.test(lastLine(t)), 90_000)
      PROMPT = `${lastLine(first.text)} `

      // 2. a command's output (the echoed command line reads differently from the output line)
      type('Write-Output ("hello" + "-psrp")')
      await waitFor('the output', (t) => lines(t).includes('hello-psrp') && prompts(t) === 2)

      // 3. Tab completion through TabExpansion2: Get-Chi → Get-ChildItem
      type('Get-Chi', false)
      keys('Tab')
      const completed = await waitFor('the completion', (t) => lastLine(t) === `${PROMPT}Get-ChildItem`)
      assert.ok(completed.ms < 15_000)
      // Ctrl+C at the idle prompt clears the line and gives a fresh prompt
      keys('C-c')
      await waitFor(
        'a fresh prompt after Ctrl+C',
        (t) => prompts(t) === 3 && lastLine(t) === PROMPT.trimEnd(),
      )

      // 4. Ctrl+C stops a running pipeline within 2 s and the prompt returns
      type('"sleeping"; Start-Sleep 30; "not reached"')
      await waitFor('the pipeline to run', (t) => lines(t).includes('sleeping'))
      const t0 = Date.now()
      keys('C-c')
      const back = await waitFor(
        'the prompt after stopping',
        (t) => prompts(t) === 4 && lastLine(t) === PROMPT.trimEnd(),
        5000,
      )
      const stopMs = Date.now() - t0
      assert.ok(stopMs < 2000, `Ctrl+C took ${stopMs} ms to return to the prompt`)
      t.diagnostic(`Ctrl+C to prompt: ${stopMs} ms`)
      assert.ok(!lines(back.text).includes('not reached'), 'the rest of the script did not run')

      // 5. Read-Host answered at the terminal; -AsSecureString is masked
      type('$n = Read-Host "Your name"; "Hello, $n!"')
      await waitFor('the Read-Host prompt', (t) => lastLine(t) === 'Your name:')
      type('psrp')
      await waitFor(
        'the greeting',
        (t) => lines(t).includes('Hello, psrp!') && lastLine(t) === PROMPT.trimEnd(),
      )
      type('$s = Read-Host "Secret" -AsSecureString; "length " + $s.Length')
      await waitFor('the secret prompt', (t) => lastLine(t) === 'Secret:')
      type('abc')
      const secret = await waitFor(
        'the masked answer',
        (t) => lines(t).includes('length 3') && lastLine(t) === PROMPT.trimEnd(),
      )
      assert.ok(lines(secret.text).includes('Secret: ***'), 'typed characters show as *')
      assert.ok(!secret.text.includes('abc'), 'the secret never appears on screen')

      // 6. multi-line input continues while the statement is incomplete
      type('if ($true) {')
      await waitFor('the continuation prompt', (t) => lastLine(t) === '>>')
      type('"multi" + "-line" }')
      await waitFor(
        'the multi-line result',
        (t) => lines(t).includes('multi-line') && lastLine(t) === PROMPT.trimEnd(),
      )

      // 7. errors in colour (red), output continues
      type('Get-Item /does-not-exist')
      await waitFor(
        'a red error',
        (t) => RED_ERROR.test(t) && lastLine(t.replace(SGR, '')) === PROMPT.trimEnd(),
        20_000,
        true,
      )

      // 7b. errors read as pwsh 7 prints them (ConciseView): the reason before the message
      type('throw "kaboom"')
      await waitFor(
        'the thrown error',
        (t) => lines(t).includes('Exception: kaboom') && lastLine(t) === PROMPT.trimEnd(),
      )
      type('Write-Error oops')
      const written = await waitFor(
        'the written error',
        (t) => lines(t).includes('Write-Error: oops') && lastLine(t) === PROMPT.trimEnd(),
      )
      assert.ok(
        lines(written.text).includes(
          "Get-Item: Cannot find path '/does-not-exist' because it does not exist.",
        ),
      )
      // red on a terminal
      assert.match(screen(true), new RegExp(`${ESC}\\[[0-9;]*91mException: kaboom`))

      // 8. progress records as a bar
      type(
        '1..5 | ForEach-Object { Write-Progress -Activity Crunching -Status "step $_" -PercentComplete ($_ * 20); Start-Sleep -Milliseconds 400 }',
      )
      await waitFor('the progress bar', (t) => /Crunching {2}\[=+>? *\] \d+% {2}step \d/.test(t))
      await waitFor(
        'the prompt after progress',
        (t) => lastLine(t) === PROMPT.trimEnd() && !/Crunching/.test(lastLine(t)),
      )

      // 9. exit closes the session with exit code 0
      type('exit')
      await waitFor('the CLI to exit', (t) => lines(t).includes('EXITED rc=0'), 20_000)
    },
  )

  test(
    'psrp decode on a terminal says what it waits for; Ctrl+D ends the input',
    { timeout: 60_000 },
    async () => {
      tmux(
        'new-session',
        '-d',
        '-s',
        'decode',
        '-x',
        '200',
        '-y',
        '10',
        '-c',
        repo,
        `${psrpShellCommand} decode; echo "EXITED rc=$?"; sleep 600`,
      )
      const pane = (): string => tmux('capture-pane', '-p', '-J', '-t', 'decode')
      const t0 = Date.now()
      while (!/Ctrl\+D/.test(pane())) {
        if (Date.now() - t0 > 30_000) assert.fail(`no hint on the terminal; screen:\n${pane()}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      assert.match(pane(), /^psrp decode: reading PSRP data .* from the terminal; end it with Ctrl\+D/m)
      tmux('send-keys', '-t', 'decode', 'C-d')
      while (!/EXITED rc=\d+/.test(pane())) {
        if (Date.now() - t0 > 50_000) assert.fail(`decode did not end at Ctrl+D; screen:\n${pane()}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
  )

  test(
    'psrp copy draws a transfer bar on a terminal and ends with a summary line',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'psrp-cli-'))
      try {
        writeFileSync(join(dir, 'big.bin'), randomBytes(48 * 1024 * 1024))
        tmux(
          'new-session',
          '-d',
          '-s',
          'copy',
          '-x',
          '120',
          '-y',
          '10',
          '-c',
          repo,
          `${psrpShellCommand} copy ${dir}/big.bin ${dir}/copy.bin; echo "EXITED rc=$?"; sleep 600`,
        )
        let sawBar = false
        const t0 = Date.now()
        for (;;) {
          const text = tmux('capture-pane', '-p', '-J', '-t', 'copy')
          if (
            /big\.bin {2} *\d+% \[=*>? *\] [\d.]+ [KM]i?B\/48\.0 MiB {2}[\d.]+ [KM]iB\/s {2}ETA /.test(text)
          )
            sawBar = true
          if (lines(text).includes('EXITED rc=0')) {
            assert.match(text, /^sent 48\.0 MiB in \d+:\d\d \([\d.]+ [KM]iB\/s\)$/m)
            break
          }
          if (Date.now() - t0 > 100_000) assert.fail(`the copy did not finish; screen:\n${text}`)
          await new Promise((r) => setTimeout(r, 25))
        }
        assert.ok(sawBar, 'a bar with percentage, bytes, rate and ETA was drawn while copying')
        assert.ok(readFileSync(join(dir, 'copy.bin')).length === 48 * 1024 * 1024)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )
})
