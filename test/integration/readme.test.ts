/**
 * Every code snippet of README.md and of the guides in docs/ (the pages the documentation site
 * renders), run (see test/helpers/readme-snippets.ts for the markers):
 *
 * - `js` snippets as plain `.mjs` files with Node, importing `psrp` from the built package (`dist`,
 *   linked as `node_modules/psrp` of a temp dir, as an installed package would be);
 * - `ts` snippets compiled by TypeScript against the built declarations (strict, NodeNext, as a
 *   consumer's project would), then run with Node; the skipped ones are compiled too;
 * - `sh` snippets with bash in the checkout, `npx psrp` being the built CLI; a snippet marked
 *   `background` (the WinRM test server) runs alongside the ones after it in its section.
 *
 * The peers are this machine's: a local `pwsh` (`new Client()`, `ProcessConnection`, `--pipe`) and the
 * WinRM test server (`npm run winrm-test-server`, NTLM through the Debian auth peer). Snippets that need
 * a Windows host or an SSH server of the reader's are skipped with the reason their marker gives.
 * `dist` is rebuilt first when it is older than `src`.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { freePort } from '../helpers/net.ts'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import {
  prepareScript,
  prepareShell,
  readSnippets,
  SKIP_MARKERS,
  type Snippet,
} from '../helpers/readme-snippets.ts'
import { ntlmPeerAvailable } from '../peers/auth/ntlm-peer.ts'

const ROOT = resolve(import.meta.dirname, '../..')
/**
 * Markdown files whose blocks are not programs: the CLIXML contract states TypeScript declarations
 * (signatures without bodies) for the implementers.
 */
const NOT_PROGRAMS = new Set(['docs/clixml-contract.md'])
/** README.md, then every guide in docs/ (the pages the site renders). */
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`)
    .filter((f) => !NOT_PROGRAMS.has(f)),
]
const TEXTS = new Map(DOCS.map((doc) => [doc, readFileSync(join(ROOT, doc), 'utf8')]))
/** A snippet and the Markdown file it is in. */
type DocSnippet = Snippet & { readonly doc: string }
const snippets: DocSnippet[] = DOCS.flatMap((doc) =>
  readSnippets(TEXTS.get(doc) as string).map((s) => ({ ...s, doc })),
)
const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
/** A snippet that starts the WinRM test server with `--auth ntlm` needs the Debian NTLM acceptor. */
const ntlmSkip = peerSkip('NTLM auth peer', ntlmPeerAvailable(), 'apt-get install python3-gssapi gss-ntlmssp')
const RUN_TIMEOUT = 90_000
/** Free names in the README's TypeScript snippets that are not run: values the reader supplies. */
const READER_VALUES = 'declare const username: string, password: string, ca: string'

/** Newest modification time under a folder (files only). */
function newest(dir: string, ext: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) t = Math.max(t, newest(p, ext))
    else if (e.name.endsWith(ext)) t = Math.max(t, statSync(p).mtimeMs)
  }
  return t
}

/** Builds `dist` when it is missing or older than a source file. */
function ensureBuilt(): void {
  const entry = join(ROOT, 'dist', 'index.js')
  let built = 0
  try {
    built = statSync(entry).mtimeMs
  } catch {
    built = 0
  }
  if (built >= newest(join(ROOT, 'src'), '.ts')) return
  process.stderr.write('# readme test: dist is older than src, running npm run build\n')
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 })
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`)
}

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Kills a detached child's whole process group (its background jobs included). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

/** Runs a command in a process group of its own; the group is killed when it ends or times out. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), RUN_TIMEOUT)
    child.once('error', reject)
    // what the snippet left running (holding its stdout open) goes with it
    child.once('exit', () => killGroup(child))
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolveRun({ code, signal, stdout, stderr })
    })
  })
}

/** Starts a command in the background and resolves once its stdout holds `ready`. */
function startBackground(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  ready: string,
): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const fail = (why: string): void => {
      clearTimeout(timer)
      killGroup(child, 'SIGKILL')
      reject(new Error(`${why}; output:\n${out}`))
    }
    const timer = setTimeout(() => fail(`not ready ('${ready}') within ${RUN_TIMEOUT} ms`), RUN_TIMEOUT)
    child.once('error', (e) => fail(e.message))
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`))
    const onData = (d: string): void => {
      out += d
      if (!out.includes(ready)) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      resolveStart({ child, output: () => out })
    }
    child.stdout.setEncoding('utf8').on('data', onData)
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
  })
}

function describeRun(r: Run): string {
  return `exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
}

const label = (s: DocSnippet): string => `${s.doc} line ${s.line} (${s.section}): ${s.lang}`
/** `docs/getting-started.md` → `docs-getting-started` (a file name prefix). */
const slug = (doc: string): string => doc.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')

describe('README and guide snippets', { skip, concurrency: 3 }, () => {
  let work = ''
  let env: NodeJS.ProcessEnv = {}
  /** A free port per Markdown file for its `--port 5985` / `port: 5985` (each may start a server). */
  const ports = new Map<string, number>()
  /** The TypeScript compile, started in `before` and awaited by the TypeScript tests. */
  let tsc: Promise<Run> | undefined
  const files = new Map<DocSnippet, string>()
  const background: ChildProcess[] = []
  /** A pipe name per Markdown file for its `-CustomPipeName build` (files run side by side). */
  const pipeName = (doc: string): string => `psrp-docs-${process.pid}-${slug(doc)}`

  before(async () => {
    ensureBuilt()
    work = mkdtempSync(join(tmpdir(), 'psrp-readme-'))
    // a consumer's project: `psrp` (this checkout, built) and the Node types installed beside it
    mkdirSync(join(work, 'node_modules', '@types'), { recursive: true })
    symlinkSync(ROOT, join(work, 'node_modules', 'psrp'), 'dir')
    symlinkSync(
      join(ROOT, 'node_modules', '@types', 'node'),
      join(work, 'node_modules', '@types', 'node'),
      'dir',
    )
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }))
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          types: ['node'],
        },
        include: ['*.mts'],
      }),
    )
    for (const doc of DOCS) ports.set(doc, await freePort())
    for (const s of snippets) {
      if (s.lang === 'sh') continue
      const base = `${slug(s.doc)}-line${s.line}`
      if (s.mode.kind === 'skip') {
        // not run, but compiled all the same, so it cannot drift from the API; the values the README
        // leaves to the reader are declared
        if (s.lang === 'ts')
          writeFileSync(join(work, `${base}.mts`), `${READER_VALUES}\n${s.code}\nexport {}\n`)
        continue
      }
      writeFileSync(
        join(work, s.lang === 'ts' ? `${base}.mts` : `${base}.mjs`),
        prepareScript(s.code, ports.get(s.doc) as number),
      )
      files.set(s, join(work, `${base}.mjs`))
    }
    env = {
      ...process.env,
      PATH: [dirname(pwsh as string), process.env['PATH'] ?? ''].join(delimiter),
      PSRP_PASSWORD: randomBytes(9).toString('base64url'),
      NO_COLOR: '1',
    }
    if (snippets.some((s) => s.lang === 'ts')) {
      // compiles while the shell snippets run
      tsc = run(
        process.execPath,
        [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', work],
        work,
        env,
      )
      tsc.catch(() => undefined)
    }
  })

  after(() => {
    for (const child of background) killGroup(child)
    // the socket of the README's `pwsh -CustomPipeName`, which a killed pwsh leaves behind
    for (const doc of DOCS)
      rmSync(join(process.env['TMPDIR'] ?? '/tmp', `CoreFxPipe_${pipeName(doc)}`), { force: true })
    if (work !== '') rmSync(work, { recursive: true, force: true })
  })

  test('the docs have snippets of every kind to run, and every skip says why', () => {
    const runnable = (lang: string): number =>
      snippets.filter((s) => s.lang === lang && s.mode.kind !== 'skip').length
    assert.ok(runnable('js') >= 1, 'a JavaScript snippet runs')
    assert.ok(runnable('ts') >= 2, 'TypeScript snippets run')
    assert.ok(runnable('sh') >= 3, 'shell snippets run')
    assert.ok(DOCS.includes('docs/getting-started.md'), 'the guides are read')
    // every fenced block in a language we run was read (none lost to a parsing slip)
    for (const [doc, text] of TEXTS) {
      const fences = text.split('\n').filter((l) => /^```(ts|js|sh)\s*$/.test(l)).length
      assert.equal(snippets.filter((s) => s.doc === doc).length, fences, doc)
    }
    for (const s of snippets) if (s.mode.kind === 'skip') assert.ok(s.mode.reason.length > 10, label(s))
    // a misspelt marker or one above a block that is not run is an error, never a silent skip
    assert.throws(
      () => readSnippets('<!-- snippet: needs-windos -->\n```sh\nx\n```\n'),
      /unknown snippet marker/,
    )
    assert.throws(() => readSnippets('<!-- snippet: needs-windows -->\n```text\nx\n```\n'), /marker above/)
    assert.throws(() => readSnippets('```sh\nx\n'), /unclosed/)
    const formatted = readSnippets('<!-- snippet: needs-windows -->\n\n```sh\nx\n```\n')
    assert.deepEqual(formatted[0]?.mode, { kind: 'skip', reason: SKIP_MARKERS['needs-windows'] })
  })

  /** The background snippet of a section, which the later snippets of that section wait for. */
  const servers = new Map<
    string,
    { line: number; skipped: boolean; ready: Promise<void>; settle: (e?: Error) => void }
  >()
  for (const s of snippets) {
    // the WinRM test server of the README runs with --auth ntlm: it and the snippets using it need the peer
    const needsNtlm = /--auth ntlm|--port 5985|port: 5985/.test(s.code)
    const section = `${s.doc}#${s.section}`
    const server = servers.get(section)
    const reason =
      s.mode.kind === 'skip'
        ? s.mode.reason
        : server?.skipped === true
          ? `needs the snippet of line ${server.line}, which is skipped`
          : needsNtlm
            ? ntlmSkip
            : false
    if (s.mode.kind === 'background') {
      let settle: (e?: Error) => void = () => undefined
      const ready = new Promise<void>((resolveReady, rejectReady) => {
        settle = (e) => (e === undefined ? resolveReady() : rejectReady(e))
      })
      ready.catch(() => undefined)
      servers.set(section, { line: s.line, skipped: reason !== false, ready, settle })
    }
    test(label(s), { skip: reason }, async () => {
      // snippets run side by side, except after a background one in their section: they wait for it
      if (s.mode.kind !== 'background') await server?.ready
      if (s.lang === 'sh') {
        const script = prepareShell(s.code, {
          cli: join(ROOT, 'dist', 'cli', 'main.js'),
          port: ports.get(s.doc) as number,
          pipeName: pipeName(s.doc),
        })
        if (s.mode.kind === 'background') {
          const own = servers.get(section)
          try {
            const bg = await startBackground('bash', ['-c', script], ROOT, env, s.mode.readyText)
            background.push(bg.child)
            own?.settle()
          } catch (e) {
            own?.settle(e as Error)
            throw e
          }
          return
        }
        const r = await run('bash', ['-c', script], ROOT, env)
        assert.equal(r.code, 0, describeRun(r))
        assert.notEqual(r.stdout.trim(), '', describeRun(r))
        return
      }
      const file = files.get(s)
      assert.ok(file !== undefined)
      if (s.lang === 'ts') await tsc // emits the .mjs run here
      const r = await run(process.execPath, [file], work, env)
      assert.equal(r.code, 0, describeRun(r))
      assert.notEqual(r.stdout.trim(), '', describeRun(r))
    })
  }

  test('`npx psrp` in the checkout is its built CLI (what the shell snippets stand in for)', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version
    const r = await run('npx', ['--no-install', 'psrp', '--version'], ROOT, env)
    assert.equal(r.code, 0, describeRun(r))
    assert.equal(r.stdout.trim(), version)
  })

  test('the TypeScript snippets (also those not run) compile against the built declarations', async () => {
    assert.ok(tsc !== undefined)
    const r = await tsc
    assert.equal(r.code, 0, `tsc:\n${r.stdout}${r.stderr}`)
  })
})
