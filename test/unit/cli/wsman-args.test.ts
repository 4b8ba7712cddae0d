/**
 * `psrp wsman` command lines: the three operations, Key=Value selectors, --wql and --params, and
 * the usage errors (a missing or unknown operation, no --host, flags of another operation).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { UsageError } from '../../../src/cli/args-parser.ts'
import { parseWsmanArgs, WSMAN_HELP } from '../../../src/cli/commands-wsman.ts'

const host = ['--host', 'win1', '-u', 'me']

test('psrp wsman: get with selectors, enumerate a class or --wql, invoke with --params', () => {
  const get = parseWsmanArgs(['get', 'Win32_Service', 'Name=Spooler', ...host, '--json'])
  assert.deepEqual(
    [get.operation, get.resource, get.selectors, get.json],
    ['get', 'Win32_Service', { Name: 'Spooler' }, true],
  )
  const en = parseWsmanArgs([
    'enumerate',
    '--wql',
    'SELECT * FROM Win32_Service',
    ...host,
    '--max-elements',
    '10',
  ])
  assert.deepEqual(
    [en.operation, en.wql, en.resource, en.maxElements],
    ['enumerate', 'SELECT * FROM Win32_Service', undefined, 10],
  )
  const inv = parseWsmanArgs([
    'invoke',
    'Win32_Service',
    'ChangeStartMode',
    'Name=BITS',
    '--params',
    '{"StartMode":"Manual"}',
    ...host,
  ])
  assert.deepEqual(
    [inv.method, inv.selectors, inv.parameters],
    ['ChangeStartMode', { Name: 'BITS' }, { StartMode: 'Manual' }],
  )
  assert.equal(parseWsmanArgs(['--help']).help, true)
  for (const flag of ['wql', 'params', 'namespace', 'max-elements', 'json'])
    assert.ok(WSMAN_HELP.includes(`--${flag}`), flag)
})

test('psrp wsman: usage errors', () => {
  for (const argv of [
    [...host],
    ['list', 'X', ...host],
    ['get', 'Win32_OperatingSystem'],
    ['get', ...host],
    ['get', 'X', 'novalue', ...host],
    ['get', 'X', '--wql', 'SELECT 1', ...host],
    ['enumerate', 'X', '--wql', 'SELECT * FROM X', ...host],
    ['enumerate', ...host],
    ['invoke', 'Win32_Service', ...host],
    ['invoke', 'Win32_Service', 'Name=x', ...host],
    ['invoke', 'Win32_Service', 'StopService', '--params', '[1]', ...host],
    ['invoke', 'Win32_Service', 'StopService', '--params', '{', ...host],
  ]) {
    assert.throws(() => parseWsmanArgs(argv), UsageError, argv.join(' '))
  }
})
