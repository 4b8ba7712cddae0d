// TypeDoc plugin for the psrp API reference (typedoc.json loads it):
//
// - each entry point is named after the package subpath it is published as (`psrp`, `psrp/clixml`, …,
//   read from package.json "exports"), not after its file;
// - every top-level export is filed under the layer its source lives in (Client, Connections,
//   Authentication, CLIXML, PSRP messages, …), so the `psrp` entry, which re-exports from several
//   layers, reads layer by layer. An explicit `@category` tag in the source wins.
import { readFileSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CommentTag, Comment, Converter, ReflectionKind } from 'typedoc'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** `src/clixml/index.ts` → `psrp/clixml`, from package.json "exports" (types → dist → src). */
function subpathNames() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const names = new Map()
  for (const [key, target] of Object.entries(pkg.exports)) {
    const types = typeof target === 'object' ? target.types : undefined
    if (typeof types !== 'string') continue
    const src = types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts')
    names.set(src, key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`)
  }
  return names
}

/** The layer a source file belongs to (first match wins). */
const LAYERS = [
  ['src/errors.ts', 'Errors'],
  ['src/client/host.ts', 'Hosts'],
  ['src/client/file-transfer', 'File transfer'],
  ['src/client/winrs.ts', 'WinRS'],
  ['src/client/', 'Client'],
  ['src/transport/http/', 'Authentication'],
  ['src/auth/', 'Authentication'],
  ['src/transport/', 'Connections'],
  ['src/clixml/types/', 'CLIXML records'],
  ['src/clixml/primitives.ts', 'CLIXML values'],
  ['src/clixml/', 'CLIXML'],
  ['src/psrp/wire/', 'PSRP wire'],
  ['src/psrp/messages/', 'PSRP messages'],
  ['src/psrp/', 'PSRP state machines'],
  ['src/internal/guid.ts', 'PSRP wire'],
  ['src/internal/', 'PSRP wire'],
  ['src/outofproc/', 'OutOfProc'],
  ['src/wsman/winrs.ts', 'WinRS requests'],
  ['src/wsman/psrp-shell.ts', 'PowerShell shell requests'],
  ['src/wsman/', 'WS-Man envelopes'],
]

/** @param {import('typedoc').Application} app */
export function load(app) {
  const names = subpathNames()
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    const symbol = context.getSymbolFromReflection(reflection)
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName
    if (file === undefined) return
    const rel = relative(ROOT, file).split(sep).join('/')
    if (reflection.kindOf(ReflectionKind.Module)) {
      const name = names.get(rel)
      if (name !== undefined) reflection.name = name
      return
    }
    if (!reflection.parent?.kindOf(ReflectionKind.Module | ReflectionKind.Project)) return
    const layer = LAYERS.find(([prefix]) => rel.startsWith(prefix))?.[1]
    if (layer === undefined) return
    addCategory(reflection, layer)
  })
  // an export that two entry points share is documented in one and referenced from the other: the
  // reference is filed under its target's layer (before TypeDoc sorts the modules into categories)
  app.converter.on(
    Converter.EVENT_RESOLVE_BEGIN,
    (context) => {
      for (const ref of context.project.getReflectionsByKind(ReflectionKind.Reference)) {
        const target = ref.tryGetTargetReflectionDeep()
        const tag = target?.comment?.blockTags.find((t) => t.tag === '@category')
        if (tag !== undefined) addCategory(ref, tag.content[0]?.text ?? '')
      }
    },
    200,
  )
}

/** Files `reflection` under `layer` unless its source names a category. */
function addCategory(reflection, layer) {
  if (layer === '') return
  reflection.comment ??= new Comment()
  if (reflection.comment.blockTags.some((t) => t.tag === '@category')) return
  reflection.comment.blockTags.push(new CommentTag('@category', [{ kind: 'text', text: layer }]))
}
