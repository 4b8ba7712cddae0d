/** expandVariables on the local path: `~`, `$VAR` and `${VAR}`, unset variables kept, linear cost. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { homedir } from 'node:os'
import { expandLocalPath } from '../../../src/client/local-path.ts'
import { assertLinear } from '../complexity/measure.ts'

test('~ and environment variables expand as a POSIX shell does', () => {
  const env = { BUILD: '42', DIR: '/data', EMPTY: '' }
  assert.equal(expandLocalPath('~', env), homedir())
  assert.equal(expandLocalPath('~/x/$BUILD.zip', env), `${homedir()}/x/42.zip`)
  assert.equal(expandLocalPath('${DIR}/b${BUILD}c', env), '/data/b42c')
  assert.equal(expandLocalPath('$DIR$EMPTY/f', env), '/data/f')
  // not a home reference, unset variables and lone dollars stay as written
  assert.equal(expandLocalPath('a/~/b', env), 'a/~/b')
  assert.equal(expandLocalPath('~user/x', env), '~user/x')
  assert.equal(expandLocalPath('$NOPE/x and ${NOPE} and $ and ${', env), '$NOPE/x and ${NOPE} and $ and ${')
})

test('cost is linear in the path', () => {
  assertLinear(
    'expandLocalPath',
    (n) => '$A/${B}/$'.repeat(n),
    (p) => expandLocalPath(p, { A: 'a' }),
    { n: 5000 },
  )
})
