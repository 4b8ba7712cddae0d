/**
 * `npm run fuzz [-- --long] [-- <files>]`: runs the fuzz tests (test/fuzz, or the given files). With
 * `--long` every surface gets 1,000,000 inputs instead of the short run's few thousand (see
 * test/fuzz/README.md); other `PSRP_FUZZ_*` variables pass through.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const long = args.includes('--long')
const files = args.filter((a) => !a.startsWith('--'))
const runner = fileURLToPath(new URL('../../scripts/run-tests.mjs', import.meta.url))
const target = files.length > 0 ? files : [fileURLToPath(new URL('.', import.meta.url))]
const result = spawnSync(process.execPath, [runner, ...target], {
  stdio: 'inherit',
  env: { ...process.env, ...(long ? { PSRP_FUZZ_LONG: '1' } : {}) },
})
process.exit(result.status ?? 1)
