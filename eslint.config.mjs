import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['vscode', '@vscode/*', 'vscode-languageserver*', 'vscode-languageclient*'], message: 'src/core must not import editor or protocol packages.' },
            { group: ['**/extension/**', '**/debugAdapter/**', '**/cli/**', '**/languageServer/**'], message: 'src/core must not import outer layers.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'No wall clock in the core: take a Clock.' },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'No wall clock in the core: take a Clock.' },
        { selector: "CallExpression[callee.object.name='performance'][callee.property.name='now']", message: 'No wall clock in the core: take a Clock.' },
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'No global RNG: use a stream from core/random.' }],
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
