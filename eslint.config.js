// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The import boundaries of STYLE.md ("Parley's rooms"), enforced.
 * Each entry: the files it governs and the import patterns they must not use.
 */
const NODE_BUILTINS = [
  'node:*',
  'fs',
  'path',
  'net',
  'http',
  'https',
  'crypto',
  'os',
  'child_process',
];
// Later entries win for files matched twice, so the narrower room comes last.
const rooms = [
  {
    files: ['relay/**/*.ts'],
    banned: ['electron', '**/electron/**', '**/renderer/**'],
    message:
      'relay/ is plain Node: it may import relay/protocol/ and npm packages, never electron or the UI.',
  },
  {
    files: ['relay/protocol/**/*.ts'],
    banned: [...NODE_BUILTINS, 'electron', '../*', '!./*'],
    message:
      'relay/protocol/ runs anywhere: no node:*, no DOM-only or electron imports, nothing outside itself.',
  },
];

/**
 * relay/'s layers (relay/README.md): each folder may import only the folders listed, so the
 * direction of every arrow is held by lint. cli → node → {http, transport, cluster, store,
 * identity, discovery} → core → protocol. Tests (and the store contract suite, a test) may import
 * anything of relay/: they assemble real relays.
 */
const RELAY_LAYERS = {
  core: ['protocol'],
  identity: ['core', 'protocol'],
  discovery: ['core', 'protocol'],
  store: ['core', 'protocol'],
  http: ['core', 'identity', 'protocol'],
  transport: ['core', 'identity', 'http', 'protocol'],
  cluster: ['core', 'transport', 'protocol'],
  node: ['core', 'identity', 'discovery', 'store', 'http', 'transport', 'cluster', 'protocol'],
};
/** relay/store/<backend>/: the shared rows codec beside them, core and protocol; not each other. */
const STORE_BACKENDS = ['sqlite', 'pg'];
const relayLayerRooms = [
  ...Object.entries(RELAY_LAYERS).map(([folder, allowed]) => ({
    files: [`relay/${folder}/*.ts`],
    regex: `^\\.\\./(?!(${allowed.join('|')})/)`,
    message: `relay/${folder}/ may import only ${allowed.map((f) => `relay/${f}/`).join(', ')} (relay/README.md, "Layers").`,
  })),
  ...STORE_BACKENDS.map((backend) => ({
    files: [`relay/store/${backend}/*.ts`],
    regex: '^\\.\\./(?!store-rows\\.js$|\\.\\./(core|protocol)/)',
    message: `relay/store/${backend}/ may import only relay/store/store-rows.ts, relay/core/ and relay/protocol/ (relay/README.md, "Layers").`,
  })),
].map(({ files, regex, message }) => ({
  files,
  ignores: ['relay/**/*.test.ts', 'relay/store/store-contract.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['electron', '**/electron/**', '**/renderer/**'], message: rooms[0].message },
          { regex, message },
        ],
      },
    ],
  },
}));

/** renderer/ runs in the browser: the wire contract from relay/protocol/ and nothing else of relay/. */
const rendererRoom = {
  files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
  ignores: ['renderer/**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [
          {
            name: 'electron',
            message: 'renderer/ never imports electron: use the preload bridge.',
          },
        ],
        patterns: [
          {
            regex: '^(\\.\\./)+relay/(?!protocol/)',
            message: 'renderer/ may import relay/protocol/ only.',
          },
          { group: ['node:*'], message: 'renderer/ runs in the browser: no node:* modules.' },
        ],
      },
    ],
  },
};

/**
 * electron/: VS Code-style layering (STYLE.md, "Parley's rooms"). Only the thin entry files load
 * `electron` at run time (it throws under plain node, where everything else is unit-tested);
 * type imports are fine everywhere in electron/ because they are erased. These rooms use the
 * typescript-eslint rule so they compose with the core-rule rooms above.
 */
const ELECTRON_VALUE_IMPORT = {
  name: 'electron',
  allowTypeImports: true,
  message:
    'Only electron/main/main.ts and electron/preload/preload.ts may load electron; plain modules take what they need as parameters (import type is fine).',
};
const electronRooms = [
  {
    files: ['electron/main/**/*.ts'],
    ignores: ['electron/main/main.ts', 'electron/main/**/*.test.ts', 'electron/main/testing/**'],
    paths: [ELECTRON_VALUE_IMPORT],
    patterns: [
      {
        regex: '^(\\.\\./)+(renderer|preload)/',
        message:
          'electron/main/ may import electron/shared/, relay/ (public entry, protocol) and npm packages.',
      },
      {
        regex: '^(\\.\\./)+relay/(?!protocol/|index\\.js$)',
        message:
          'electron/main/ uses relay/ through its public entry (relay/index.js) and relay/protocol/ only.',
      },
    ],
  },
  {
    // Tests and their child-process fixtures may use anything, as a user would, except loading electron.
    files: [
      'electron/main/**/*.test.ts',
      'electron/main/testing/**/*.ts',
      'electron/shared/**/*.test.ts',
    ],
    paths: [{ ...ELECTRON_VALUE_IMPORT, allowTypeImports: false }],
    patterns: [],
  },
  {
    files: ['electron/preload/**/*.ts'],
    paths: [],
    patterns: [
      {
        regex: '^(?!electron$|\\.\\./shared/)',
        message: 'electron/preload/ (sandboxed) may import electron and electron/shared/ only.',
      },
    ],
  },
  {
    files: ['electron/shared/**/*.ts'],
    ignores: ['electron/shared/**/*.test.ts'],
    paths: [],
    patterns: [
      {
        regex: '^(?!\\./|\\.\\./\\.\\./relay/protocol/)',
        message:
          'electron/shared/ runs in main, preload and renderer: nothing but itself and relay/protocol/ (no node:*, no electron).',
      },
    ],
  },
  {
    // renderer/ sees the desktop bridge's types, never its code.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    paths: [],
    patterns: [
      {
        regex: '^(\\.\\./)+electron/shared/',
        allowTypeImports: true,
        message: 'renderer/ may import types from electron/shared/ only (import type).',
      },
      {
        regex: '^(\\.\\./)+electron/(?!shared/)',
        message: 'renderer/ may import types from electron/shared/ only.',
      },
    ],
  },
];

/**
 * The CLI relay advertises the room by mDNS unless given --no-mdns, and no test may multicast on
 * the machine's real network (PLATFORM.md). So tests, e2e and the bench start it only through
 * relay/testing/relay-process.ts: relayCliArgs() puts --no-mdns first (a network-namespace test
 * opts out by name), and the bench's parleyArgs() adds it to RELAY_CLI. Naming the script here
 * any other way is refused.
 */
const CLI_SPAWN_MESSAGE =
  "Start the CLI relay through relayCliArgs() (or RELAY_CLI with the bench's parleyArgs) from relay/testing/relay-process.ts: they switch mDNS off, so no test multicasts on the real network.";
const cliSpawnRule = {
  files: ['**/*.ts'],
  ignores: ['relay/testing/relay-process.ts'],
  rules: {
    'no-restricted-syntax': [
      'error',
      { selector: 'Literal[value=/relay.(cli.)?cli\\.ts$/]', message: CLI_SPAWN_MESSAGE },
      {
        selector: 'TemplateElement[value.raw=/relay.(cli.)?cli\\.ts$/]',
        message: CLI_SPAWN_MESSAGE,
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'test-results/', 'playwright-report/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...rooms.map(({ files, banned, message }) => ({
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: banned.filter((p) => !p.startsWith('!')), message }] },
      ],
    },
  })),
  ...relayLayerRooms,
  rendererRoom,
  cliSpawnRule,
  ...electronRooms.map(({ files, ignores, paths, patterns }) => ({
    files,
    ...(ignores === undefined ? {} : { ignores }),
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }] },
  })),
);
