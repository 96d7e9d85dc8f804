// ESLint with typescript-eslint: the habits that keep the code as it is laid out (docs/adr/0010).
// The limits are those the code meets; a change that needs more is a sign to split, not to raise them.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'runs/', 'test-results/', 'go/', 'load/', 'src/workload/echo.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The launcher and the profiles are plain Node.js modules.
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: { process: 'readonly' } } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    plugins: { '@stylistic': stylistic },
    rules: {
      // Messages and rendered text are long by nature; the code around them is not.
      '@stylistic/max-len': ['error', { code: 180, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true, ignoreComments: false }],
      complexity: ['error', 40],
      'max-params': ['error', 8],
      'max-depth': ['error', 5],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
);
