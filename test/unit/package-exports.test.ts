/**
 * The package's face: every subpath of package.json `exports` points at a built file whose source
 * exists (dist/X.js and dist/X.d.ts come from src/X.ts), and each subpath's module exports at run time
 * exactly the values its index declares: read from the index's own export statements (with
 * `verbatimModuleSyntax` a re-export without `type` is a value), following `export *`. Names shared by
 * two subpaths are one object, so `instanceof` works whichever subpath a user imported from.
 *
 * The trimmed surface: every error class is defined in src/errors.ts (so `psrp/errors` has them all,
 * with their codes); implementation classes and protocol-layer helpers stay out of the entry points.
 * The full list of names and signatures is the API report (api/, test/unit/api-report.test.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'

const ROOT = resolve(import.meta.dirname, '../..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string
  types: string
  exports: Record<string, string | { types: string; default: string }>
  bin: Record<string, string>
  files: string[]
}
const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
  compilerOptions: { rootDir: string; outDir: string }
}

/** The source file tsc builds `./dist/…(.js|.d.ts)` from. */
function sourceOf(target: string): string {
  const { rootDir, outDir } = build.compilerOptions
  const m = /^\.\/(.+?)(\.d\.ts|\.js)$/.exec(target)
  assert.ok(m !== null, `${target} is a .js or .d.ts path`)
  const inOut = relative(outDir, m[1] as string)
  assert.ok(!inOut.startsWith('..'), `${target} lies in ${outDir}/`)
  return join(ROOT, rootDir, `${inOut}.ts`)
}

/** The value names a module's export statements declare (type-only ones left out), `export *` followed. */
function declaredValues(file: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>()
  if (seen.has(file)) return names
  seen.add(file)
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false)
  const target = (spec: ts.Expression): string => {
    assert.ok(ts.isStringLiteral(spec))
    return resolve(dirname(file), spec.text)
  }
  const exported = (n: ts.Node): boolean =>
    ts.canHaveModifiers(n) &&
    (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword) &&
    !(ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st)) {
      if (st.isTypeOnly) continue
      if (st.exportClause === undefined) {
        assert.ok(st.moduleSpecifier !== undefined)
        for (const n of declaredValues(target(st.moduleSpecifier), seen)) if (n !== 'default') names.add(n)
      } else if (ts.isNamespaceExport(st.exportClause)) {
        names.add(st.exportClause.name.text)
      } else {
        for (const el of st.exportClause.elements) if (!el.isTypeOnly) names.add(el.name.text)
      }
    } else if (ts.isExportAssignment(st)) {
      names.add('default')
    } else if (
      exported(st) &&
      (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isEnumDeclaration(st))
    ) {
      assert.ok(st.name !== undefined, `${file}: an anonymous export`)
      names.add(st.name.text)
    } else if (exported(st) && ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        assert.ok(ts.isIdentifier(d.name), `${file}: a destructured export`)
        names.add(d.name.text)
      }
    }
  }
  return names
}

const subpaths = Object.entries(pkg.exports).filter(([k]) => k !== './package.json')

test('every exports subpath names a .d.ts and a .js built from one source file that exists', () => {
  assert.ok(subpaths.length >= 6, `${subpaths.length} subpaths`)
  assert.ok(pkg.files.includes('dist'), 'dist is published')
  for (const [subpath, entry] of subpaths) {
    assert.equal(typeof entry, 'object', `${subpath} has types and default`)
    const { types, default: js } = entry as { types: string; default: string }
    assert.match(types, /\.d\.ts$/, subpath)
    assert.match(js, /\.js$/, subpath)
    assert.equal(sourceOf(types), sourceOf(js), `${subpath}: types and code come from one source`)
    assert.ok(existsSync(sourceOf(js)), `${subpath}: ${relative(ROOT, sourceOf(js))} exists`)
  }
  const root = pkg.exports['.'] as { types: string; default: string }
  assert.equal(pkg.main, root.default)
  assert.equal(pkg.types, root.types)
})

test('the psrp command is built from src/cli/main.ts, which starts with a node shebang', () => {
  const main = sourceOf(pkg.bin['psrp'] as string)
  assert.equal(relative(ROOT, main), join('src', 'cli', 'main.ts'))
  assert.match(readFileSync(main, 'utf8'), /^#!\/usr\/bin\/env node\n/)
})

test('each subpath exports at run time exactly the values its index declares, none undefined', async () => {
  const byName = new Map<string, { subpath: string; value: unknown }>()
  for (const [subpath, entry] of subpaths) {
    const file = sourceOf((entry as { default: string }).default)
    const declared = [...declaredValues(file)].sort()
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
    assert.deepEqual(Object.keys(mod).sort(), declared, `${subpath} (${relative(ROOT, file)})`)
    for (const name of declared) {
      const value = mod[name]
      assert.notEqual(value, undefined, `${subpath} exports ${name} as undefined`)
      const other = byName.get(name)
      if (other === undefined) byName.set(name, { subpath, value })
      else assert.equal(value, other.value, `${name} from ${subpath} is the one from ${other.subpath}`)
    }
  }
})

test('the documented entry points are there: the public API, CLIXML on its own, one error family', async () => {
  const load = async (subpath: string): Promise<Record<string, unknown>> =>
    (await import(
      pathToFileURL(sourceOf((pkg.exports[subpath] as { default: string }).default)).href
    )) as Record<string, unknown>
  const root = await load('.')
  for (const name of [
    'RunspacePool',
    'PowerShell',
    'Client',
    'WSManConnection',
    'ProcessConnection',
    'SSHConnection',
    'NamedPipeConnection',
  ])
    assert.equal(typeof root[name], 'function', `psrp exports ${name}`)
  const clixml = await load('./clixml')
  for (const name of ['serialize', 'deserialize', 'PSObject'])
    assert.equal(typeof clixml[name], 'function', `psrp/clixml exports ${name}`)
  const errors = await load('./errors')
  const base = errors['PsrpError'] as abstract new (...args: never[]) => unknown
  assert.equal(typeof base, 'function')
  for (const name of [
    'WSManFaultError',
    'AuthenticationError',
    'TransportError',
    'PipelineFailedError',
    'PipelineStoppedError',
    'InvalidStateError',
    'ProtocolError',
    'ClixmlError',
    'TimeoutError',
  ]) {
    const cls = errors[name] as { prototype: unknown } | undefined
    assert.ok(cls !== undefined && cls.prototype instanceof base, `${name} extends PsrpError`)
  }
})

const load = async (subpath: string): Promise<Record<string, unknown>> =>
  (await import(
    pathToFileURL(sourceOf((pkg.exports[subpath] as { default: string }).default)).href
  )) as Record<string, unknown>

test('psrp/errors has every error class with its code, and the root re-exports the same classes', async () => {
  const errors = await load('./errors')
  const root = await load('.')
  const key = {
    host: 'h',
    port: 22,
    keyType: 'ssh-ed25519',
    key: new Uint8Array(1),
    fingerprint: 'SHA256:x',
    md5Fingerprint: 'MD5:00',
  }
  type Ctor = new (...args: never[]) => { code: string }
  const make = (name: string, ...args: unknown[]): { code: string } => {
    const cls = errors[name] as Ctor | undefined
    assert.equal(typeof cls, 'function', `psrp/errors exports ${name}`)
    assert.equal(root[name], cls, `psrp exports the same ${name}`)
    return new (cls as unknown as new (...a: unknown[]) => { code: string })(...args)
  }
  const base = errors['PsrpError'] as abstract new (...args: never[]) => unknown
  const auth = errors['AuthenticationError'] as abstract new (...args: never[]) => unknown
  const hostKey = make('HostKeyVerificationError', 'changed', 'changed', key, [])
  assert.equal(hostKey.code, 'ERR_HOST_KEY')
  assert.ok(hostKey instanceof auth && hostKey instanceof base)
  const kerberos = make('KerberosError', 'refused', 24, 'KDC_ERR_PREAUTH_FAILED') as {
    code: string
    krbErrorCode: number
    krbErrorName: string
    credentialsRejected: boolean
  }
  assert.equal(kerberos.code, 'ERR_AUTHENTICATION')
  assert.ok(kerberos instanceof auth && kerberos instanceof base)
  assert.deepEqual(
    [kerberos.krbErrorCode, kerberos.krbErrorName, kerberos.credentialsRejected],
    [24, 'KDC_ERR_PREAUTH_FAILED', true],
  )
  assert.equal(make('KerberosError', 'skew', 37, 'KRB_AP_ERR_SKEW').code, 'ERR_AUTHENTICATION')
  assert.equal(
    (make('KerberosError', 'skew', 37, 'KRB_AP_ERR_SKEW') as { credentialsRejected?: boolean })
      .credentialsRejected,
    false,
  )
  assert.equal(make('FileTransferError', 'x', 'exists', '/p').code, 'ERR_FILE_TRANSFER')
  assert.equal(make('CryptoError', 'x').code, 'ERR_CRYPTO')
})

test('no error class of the library is defined outside src/errors.ts', () => {
  const errorsFile = join(ROOT, 'src', 'errors.ts')
  const classesIn = (file: string): { name: string; base: string | undefined }[] => {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
    const out: { name: string; base: string | undefined }[] = []
    const visit = (n: ts.Node): void => {
      if ((ts.isClassDeclaration(n) || ts.isClassExpression(n)) && n.name !== undefined) {
        const ext = n.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]
        out.push({ name: n.name.text, base: ext?.expression.getText(sf) })
      }
      ts.forEachChild(n, visit)
    }
    visit(sf)
    return out
  }
  const family = new Set(classesIn(errorsFile).map((c) => c.name))
  assert.ok(family.has('PsrpError') && family.has('KerberosError') && family.has('HostKeyVerificationError'))
  const files: string[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(dir, e.name))
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(join(dir, e.name))
  }
  walk(join(ROOT, 'src'))
  const strays = files
    .filter((f) => f !== errorsFile)
    .flatMap((f) => classesIn(f).map((c) => ({ ...c, file: relative(ROOT, f) })))
    .filter((c) => c.base !== undefined && family.has(c.base))
  assert.deepEqual(strays, [], 'subclasses of psrp errors belong in src/errors.ts')
})

test('implementation classes and layer internals are not exported', async () => {
  const root = await load('.')
  for (const name of [
    'WSManPsrpTransport',
    'OutOfProcStreamTransport',
    'WSManHttpClient',
    'ClientRunspacePool',
  ])
    assert.ok(!(name in root), `psrp does not export ${name}`)
  const psrp = await load('./psrp')
  assert.ok(!('command' in psrp), 'psrp/psrp has no bare command()')
  assert.equal(typeof psrp['pipelineCommand'], 'function')
  const wsman = await load('./wsman')
  for (const name of [
    'el',
    'nsAttr',
    'nsChild',
    'nsChildren',
    'Namespace',
    'WSManAction',
    'parseDuration',
    'formatDuration',
    'uuidUri',
    'wireGuid',
    'parseFault',
  ])
    assert.ok(!(name in wsman), `psrp/wsman does not export ${name}`)
  for (const name of [
    'buildEnvelope',
    'parseResponse',
    'parseShell',
    'faultToError',
    'psrpCreate',
    'psrpReceive',
    'winrsCreate',
    'winrsReceive',
    'ResourceUri',
    'SignalCode',
    'CommandStateUri',
    'WSManFaultCode',
  ])
    assert.notEqual(wsman[name], undefined, `psrp/wsman exports ${name}`)
})
