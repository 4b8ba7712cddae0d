#!/usr/bin/env node
// The API report: one file per package.json `exports` subpath (api/<name>.api.md) holding every name
// the subpath exports with its declaration as the published .d.ts has it (the build's tsconfig, so
// `stripInternal` applies), comments removed and sorted by name. A change to the public surface then
// shows up as a diff of api/ in review, and `npm run api:check` (run by test/unit/api-report.test.ts)
// fails until `npm run api:update` is run and the new report committed.
//
// Why not @microsoft/api-extractor: it takes one entry point per config, so six subpaths would need
// six configs and six runs, it wants a dependency tree of its own, and it rejects some of what tsc
// emits here (`export *` chains across subpaths). This script asks the TypeScript compiler the
// project already uses: it emits the declarations once into a scratch folder, then lists each entry's
// exports with the type checker.
//
// Each report also lists the exported names without a TSDoc comment ("undocumented", which the unit
// test refuses) and the types its declarations use that no subpath exports ("referenced, not
// exported"): a user can meet such a type but cannot name it.
//
//   node scripts/api-report.mjs --check   exit 1 and print the diff when api/ differs from the build
//   node scripts/api-report.mjs --update  rewrite api/
//   --dir <folder>                        compare with / write to another folder than api/
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The report file name of a subpath: `.` → `psrp.api.md`, `./clixml` → `psrp-clixml.api.md`. */
export function reportName(pkgName, subpath) {
  return subpath === '.' ? `${pkgName}.api.md` : `${pkgName}-${subpath.slice(2).replaceAll('/', '-')}.api.md`
}

/** Emits the declarations of the build into a scratch folder under node_modules (so imports resolve). */
function emitDeclarations() {
  const configPath = join(ROOT, 'tsconfig.build.json')
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      },
    },
  )
  if (parsed === undefined) throw new Error(`cannot read ${configPath}`)
  const cacheDir = join(ROOT, 'node_modules', '.cache')
  mkdirSync(cacheDir, { recursive: true })
  const outDir = mkdtempSync(join(cacheDir, 'api-report-'))
  const options = {
    ...parsed.options,
    outDir,
    declaration: true,
    emitDeclarationOnly: true,
    noEmit: false,
    sourceMap: false,
    declarationMap: false,
    incremental: false,
    composite: false,
  }
  const program = ts.createProgram({ rootNames: parsed.fileNames, options })
  const result = program.emit()
  const errors = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics].filter(
    (d) => d.category === ts.DiagnosticCategory.Error,
  )
  if (errors.length > 0) {
    rmSync(outDir, { recursive: true, force: true })
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' }
    throw new Error(`the build has errors:\n${ts.formatDiagnostics(errors, host)}`)
  }
  return {
    outDir,
    srcRoot: resolve(ROOT, parsed.options.rootDir ?? 'src'),
    buildOut: resolve(ROOT, parsed.options.outDir ?? 'dist'),
  }
}

/** The declaration statement to print for one declaration of an exported symbol. */
function statementOf(decl) {
  if (ts.isVariableDeclaration(decl)) return decl.parent.parent
  return decl
}

/** True when a `/** … *\/` comment stands before the declaration (tsc keeps them in .d.ts files). */
function hasDocComment(node) {
  const sf = node.getSourceFile()
  return (ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? []).some((r) =>
    sf.text.startsWith('/**', r.pos),
  )
}

/**
 * Builds every report: a map from file name to text. `pkg` is package.json's content.
 */
export function generateReports(pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))) {
  const { outDir, buildOut } = emitDeclarations()
  try {
    const entries = Object.entries(pkg.exports)
      .filter(([subpath]) => subpath !== './package.json')
      .map(([subpath, target]) => {
        const types = typeof target === 'string' ? target : target.types
        const rel = relative(buildOut, resolve(ROOT, types))
        if (rel.startsWith('..')) throw new Error(`${subpath}: ${types} lies outside the build's outDir`)
        return { subpath, file: join(outDir, rel) }
      })
    const program = ts.createProgram({
      rootNames: entries.map((e) => e.file),
      options: {
        noEmit: true,
        skipLibCheck: true,
        strict: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        types: ['node'],
      },
    })
    const checker = program.getTypeChecker()
    const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed })
    const resolveAlias = (s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)
    const ours = (decl) => decl.getSourceFile().fileName.startsWith(outDir)

    const perEntry = entries.map(({ subpath, file }) => {
      const sf = program.getSourceFile(file)
      if (sf === undefined) throw new Error(`${subpath}: ${file} was not emitted`)
      const moduleSymbol = checker.getSymbolAtLocation(sf)
      const exports = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol)
      return { subpath, exports: exports.map((s) => ({ name: s.name, target: resolveAlias(s) })) }
    })
    const exported = new Set(perEntry.flatMap((e) => e.exports.map((x) => x.target)))

    const reports = new Map()
    for (const { subpath, exports } of perEntry) {
      const blocks = []
      const missing = new Map()
      const undocumented = []
      const visit = (node) => {
        if (
          ts.isTypeReferenceNode(node) ||
          ts.isExpressionWithTypeArguments(node) ||
          ts.isTypeQueryNode(node)
        ) {
          const at = ts.isTypeReferenceNode(node)
            ? node.typeName
            : ts.isTypeQueryNode(node)
              ? node.exprName
              : node.expression
          const s = checker.getSymbolAtLocation(at)
          const target = s === undefined ? undefined : resolveAlias(s)
          const decl = target?.declarations?.[0]
          if (
            target !== undefined &&
            decl !== undefined &&
            ours(decl) &&
            !(target.flags & ts.SymbolFlags.TypeParameter) &&
            !exported.has(target) &&
            !(target.parent !== undefined && exported.has(target.parent))
          )
            missing.set(
              `${target.name} (${relative(outDir, decl.getSourceFile().fileName).replace(/\.d\.ts$/, '.ts')})`,
              true,
            )
        }
        ts.forEachChild(node, visit)
      }
      for (const { name, target } of [...exports].sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      )) {
        const decls = target.declarations ?? []
        if (!decls.some((d) => hasDocComment(statementOf(d)))) undocumented.push(name)
        const seen = new Set()
        const texts = []
        for (const decl of decls) {
          const st = statementOf(decl)
          if (seen.has(st)) continue
          seen.add(st)
          visit(st)
          texts.push(printer.printNode(ts.EmitHint.Unspecified, st, st.getSourceFile()))
        }
        const header = target.name === name ? '' : `// exported as ${name}\n`
        blocks.push(header + (texts.length > 0 ? texts.join('\n') : `// ${name}: no declaration`))
      }
      const title = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`
      const lines = [
        `# API report: \`${title}\``,
        '',
        `Generated by \`npm run api:update\` from the published declarations; do not edit by hand.`,
        `${exports.length} exports.`,
        '',
        '```ts',
        blocks.join('\n\n'),
        '```',
      ]
      if (undocumented.length > 0) {
        lines.push('', '## Undocumented (no TSDoc comment)', '')
        for (const u of undocumented) lines.push(`- ${u}`)
      }
      if (missing.size > 0) {
        lines.push('', '## Referenced, not exported', '')
        for (const m of [...missing.keys()].sort()) lines.push(`- ${m}`)
      }
      reports.set(reportName(pkg.name, subpath), `${lines.join('\n')}\n`)
    }
    return reports
  } finally {
    rmSync(outDir, { recursive: true, force: true })
  }
}

/** The report files a folder holds. */
function readReports(dir) {
  const out = new Map()
  let names = []
  try {
    names = readdirSync(dir)
  } catch {
    return out
  }
  for (const n of names) if (n.endsWith('.api.md')) out.set(n, readFileSync(join(dir, n), 'utf8'))
  return out
}

/** A unified diff of two texts (via `git diff --no-index`, which CI and every clone have). */
function diffText(name, expected, actual) {
  const tmp = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'api-diff-'))
  try {
    mkdirSync(join(tmp, 'api'))
    mkdirSync(join(tmp, 'build'))
    writeFileSync(join(tmp, 'api', name), expected ?? '')
    writeFileSync(join(tmp, 'build', name), actual ?? '')
    const r = spawnSync(
      'git',
      ['diff', '--no-index', '--no-color', '--no-prefix', '--', `api/${name}`, `build/${name}`],
      {
        cwd: tmp,
        encoding: 'utf8',
      },
    )
    if (r.error !== undefined || r.stdout === '') return `${name} differs (git is needed to show how)\n`
    return r.stdout
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/**
 * Compares generated reports with a folder's: the diff text, empty when they agree (a report missing
 * on either side counts as a difference).
 */
export function compareReports(generated, dir) {
  const committed = readReports(dir)
  const names = [...new Set([...generated.keys(), ...committed.keys()])].sort()
  let out = ''
  for (const n of names) {
    const want = committed.get(n)
    const got = generated.get(n)
    if (want !== got) out += diffText(n, want, got)
  }
  return out
}

/** Rewrites a folder with the generated reports (stale report files are removed). */
export function writeReports(generated, dir) {
  mkdirSync(dir, { recursive: true })
  for (const n of readReports(dir).keys()) if (!generated.has(n)) rmSync(join(dir, n))
  for (const [n, text] of generated) writeFileSync(join(dir, n), text)
}

function main(argv) {
  const mode = argv.includes('--update') ? 'update' : argv.includes('--check') ? 'check' : undefined
  const dirAt = argv.indexOf('--dir')
  const dir = dirAt >= 0 && argv[dirAt + 1] !== undefined ? resolve(argv[dirAt + 1]) : join(ROOT, 'api')
  if (mode === undefined) {
    process.stderr.write('usage: node scripts/api-report.mjs --check | --update [--dir <folder>]\n')
    return 2
  }
  const generated = generateReports()
  if (mode === 'update') {
    writeReports(generated, dir)
    process.stdout.write(`API report: ${generated.size} files written to ${relative(ROOT, dir) || '.'}/\n`)
    return 0
  }
  const diff = compareReports(generated, dir)
  if (diff === '') {
    process.stdout.write(`API report: the public surface matches ${relative(ROOT, dir) || '.'}/\n`)
    return 0
  }
  process.stdout.write(diff)
  process.stdout.write(
    '\nAPI report: the public surface differs from the committed report (above: - api/, + build).\n' +
      'If the change is intended, run `npm run api:update` and commit api/.\n',
  )
  return 1
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`API report: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exitCode = 2
  }
}
