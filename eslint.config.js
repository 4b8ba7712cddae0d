// Lint: typescript-eslint recommended rules plus the layering rules of DESIGN.md.
// The sans-IO folders (clixml, psrp, wsman, outofproc, auth, internal) must not import Node I/O
// modules, timers or the layers above them; only src/transport may touch sockets and processes.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const nodeIo = [
  'net',
  'tls',
  'http',
  'https',
  'http2',
  'child_process',
  'dns',
  'fs',
  'fs/promises',
  'dgram',
  'worker_threads',
  'cluster',
  'readline',
  'timers',
  'timers/promises',
  'os',
  'process',
].flatMap((m) => [m, `node:${m}`])
const ioBan = {
  paths: [...nodeIo, 'ssh2', 'undici'].map((name) => ({
    name,
    message: 'sans-IO folders must not do I/O (DESIGN.md)',
  })),
}
const upperLayers = (...names) =>
  names.map((n) => ({
    group: [`**/${n}/*`, `**/${n}`],
    message: `layering: may not import ${n}/ (DESIGN.md)`,
  }))

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'docs/site/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-undef': 'off', // TypeScript checks names
    },
  },
  {
    files: ['src/internal/**/*.ts', 'src/clixml/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...ioBan,
          patterns: upperLayers('psrp', 'wsman', 'outofproc', 'auth', 'transport', 'client', 'cli'),
        },
      ],
    },
  },
  {
    files: ['src/psrp/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { ...ioBan, patterns: upperLayers('wsman', 'outofproc', 'auth', 'transport', 'client', 'cli') },
      ],
    },
  },
  {
    files: ['src/wsman/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...ioBan,
          patterns: upperLayers('psrp', 'clixml', 'outofproc', 'auth', 'transport', 'client', 'cli'),
        },
      ],
    },
  },
  {
    files: ['src/outofproc/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { ...ioBan, patterns: upperLayers('psrp', 'clixml', 'wsman', 'auth', 'transport', 'client', 'cli') },
      ],
    },
  },
  {
    files: ['src/auth/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...ioBan,
          patterns: upperLayers('psrp', 'clixml', 'wsman', 'outofproc', 'transport', 'client', 'cli'),
        },
      ],
    },
  },
  {
    files: [
      'src/internal/**/*.ts',
      'src/clixml/**/*.ts',
      'src/psrp/**/*.ts',
      'src/wsman/**/*.ts',
      'src/outofproc/**/*.ts',
      'src/auth/**/*.ts',
    ],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'sans-IO: no timers' },
        { name: 'setInterval', message: 'sans-IO: no timers' },
        { name: 'process', message: 'sans-IO: no process access' },
        { name: 'fetch', message: 'sans-IO: no I/O' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'sans-IO: no clock' },
        { object: 'Math', property: 'random', message: 'sans-IO: no unseeded randomness' },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*/*', '!../*/index.ts'],
              message: 'the CLI uses only the public API (src/index.ts) and its own files',
            },
          ],
        },
      ],
    },
  },
)
