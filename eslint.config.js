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
  rendererRoom,
);
