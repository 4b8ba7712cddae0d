import { test } from 'node:test'
import assert from 'node:assert/strict'
import { exitRequest, planCompletion } from '../../../src/cli/shell.ts'
import { choiceHotKey, formatChoices, matchChoice } from '../../../src/cli/terminal-host.ts'
import { paint } from '../../../src/cli/terminal.ts'

test('completion plans: readline extends a prefix; other replacements are applied directly', () => {
  assert.deepEqual(planCompletion('Get-Chi', { index: 0, length: 7, matches: ['Get-ChildItem'] }), {
    kind: 'readline',
    result: [['Get-ChildItem'], 'Get-Chi'],
  })
  assert.deepEqual(planCompletion('ls ./fo', { index: 3, length: 4, matches: ['./foo', './food'] }), {
    kind: 'readline',
    result: [['./foo', './food'], './fo'],
  })
  // case changes (get-chi → Get-ChildItem) replace the fragment
  assert.deepEqual(planCompletion('get-chi', { index: 0, length: 7, matches: ['Get-ChildItem'] }), {
    kind: 'replace',
    erase: 7,
    insert: 'Get-ChildItem',
  })
  // quoting a path with a space replaces from the fragment start
  assert.deepEqual(planCompletion('cd My', { index: 3, length: 2, matches: ["'My Documents'"] }), {
    kind: 'replace',
    erase: 2,
    insert: "'My Documents'",
  })
  assert.deepEqual(planCompletion('xyz', { index: 0, length: 3, matches: [] }), {
    kind: 'readline',
    result: [[], 'xyz'],
  })
})

test('exit requests', () => {
  assert.equal(exitRequest('exit'), 0)
  assert.equal(exitRequest('  EXIT  '), 0)
  assert.equal(exitRequest('exit 3'), 3)
  assert.equal(exitRequest('exit;'), 0)
  assert.equal(exitRequest('exitcode'), undefined)
  assert.equal(exitRequest('if ($x) { exit }'), undefined)
})

test('choice prompts as PowerShell shows them', () => {
  assert.equal(choiceHotKey('&Yes'), 'Y')
  assert.equal(choiceHotKey('Yes to &All'), 'A')
  assert.equal(choiceHotKey('no hotkey'), 'N')
  assert.equal(formatChoices(['&Yes', '&No'], [0]), '[Y] Yes  [N] No  [?] Help (default is "Y"): ')
  assert.equal(formatChoices(['&Yes', 'Yes to &All'], [-1]), '[Y] Yes  [A] Yes to All  [?] Help: ')
  assert.equal(matchChoice('a', ['&Yes', 'Yes to &All']), 1)
  assert.equal(matchChoice('yes to all', ['&Yes', 'Yes to &All']), 1)
  assert.equal(matchChoice('q', ['&Yes']), undefined)
  assert.equal(matchChoice('', ['&Yes']), undefined)
})

test('ConsoleColor to ANSI', () => {
  assert.equal(paint('x', 12), '\x1b[91mx\x1b[0m')
  assert.equal(paint('x', 10, 1), '\x1b[92;44mx\x1b[0m')
  assert.equal(paint('x'), 'x')
  assert.equal(paint('x', 99), 'x')
  assert.equal(paint('', 12), '')
})
