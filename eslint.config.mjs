import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// The core's layering: it never reaches the editor, protocols or other layers.
const CORE_IMPORTS = [
  { group: ['vscode', '@vscode/*', 'vscode-languageserver*', 'vscode-languageclient*'], message: 'src/core must not import editor or protocol packages.' },
  { group: ['**/extension/**', '**/debugAdapter/**', '**/cli/**', '**/languageServer/**'], message: 'src/core must not import outer layers.' },
];
const CLOCK = 'No wall clock in the core: take a Clock.';
const RNG = 'No global RNG: use a stream from core/random.';
// No wall clock and no global RNG anywhere in the core, however they are reached: Date() called
// without new returns the time as text, and globalThis.Math / globalThis.Date are the same objects.
const CORE_SYNTAX = [
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: CLOCK },
  { selector: "NewExpression[callee.property.name='Date'][arguments.length=0]", message: CLOCK },
  { selector: "CallExpression[callee.name='Date']", message: CLOCK },
  { selector: "MemberExpression[object.name='Date'][property.name='now']", message: CLOCK },
  { selector: "MemberExpression[object.property.name='Date'][property.name='now']", message: CLOCK },
  { selector: "MemberExpression[object.name='performance']", message: CLOCK },
  { selector: "MemberExpression[object.property.name='performance']", message: CLOCK },
  { selector: "MemberExpression[object.name='process'][property.name=/^(hrtime|uptime)$/]", message: CLOCK },
  { selector: "MemberExpression[object.property.name='Math'][property.name='random']", message: RNG },
];
const CORE_PROPERTIES = [{ object: 'Math', property: 'random', message: RNG }];
// What a replay computes (engine, rankers, metrics, the random streams) draws no random bytes
// either: every draw comes from streamFor(seed, component, event id) (docs/engine.md, Determinism).
// The rest of the core may (temp file names, the index cache's key).
const CRYPTO_RANDOM = ['randomBytes', 'randomFill', 'randomFillSync', 'randomInt', 'randomUUID', 'getRandomValues', 'webcrypto', 'pseudoRandomBytes'];
const REPLAY_IMPORTS = ['node:crypto', 'crypto'].map((name) => ({ name, importNames: CRYPTO_RANDOM, message: `${RNG} (random bytes make a replay unrepeatable)` }));
const REPLAY_SYNTAX = [
  ...CORE_SYNTAX,
  { selector: `MemberExpression[property.name=/^(${CRYPTO_RANDOM.join('|')})$/]`, message: `${RNG} (random bytes make a replay unrepeatable)` },
  // It reads a stamp without a zone in the machine's time zone (TZ changed the replay).
  { selector: "MemberExpression[object.name='Date'][property.name='parse']", message: 'Date.parse depends on TZ for stamps without a zone: use parseInstant (core/time).' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/.cache/**', 'examples/**/*.slice/**', '.vscode-test/**', 'src/core/slice/manifestValidator.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Layers: the core is pure TypeScript; it never reaches the editor, protocols or other layers.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: CORE_IMPORTS }],
      'no-restricted-syntax': ['error', ...CORE_SYNTAX],
      'no-restricted-properties': ['error', ...CORE_PROPERTIES],
    },
  },
  {
    // What a replay computes: same slice + config + seed ⇒ byte-identical trace. (Rules given again
    // in full: a later block replaces a rule's options, it does not add to them.)
    files: ['src/core/engine/**/*.ts', 'src/core/rankers/**/*.ts', 'src/core/metrics/**/*.ts', 'src/core/random.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: CORE_IMPORTS, paths: REPLAY_IMPORTS }],
      'no-restricted-syntax': ['error', ...REPLAY_SYNTAX],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-console': 'error' },
  },
  {
    // A notification turns [label](command:…) into a link that runs the command: its text quotes
    // slice and trace names anyone may have written, so it goes through src/extension/notify.ts.
    files: ['src/extension/**/*.ts'],
    ignores: ['src/extension/notify.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.property.name='window'][property.name=/^(showErrorMessage|showWarningMessage|showInformationMessage|withProgress)$/]",
          message: 'Notifications go through src/extension/notify.ts (their text is made linkless there).',
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
);
