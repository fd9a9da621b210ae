import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const HEAVY = ['@aws-sdk/*', '@duckdb/*', 'ink', 'ink/*', 'react', 'react/*', 'cli-table3'];
const heavyImportRule = {
  patterns: [{ group: HEAVY, allowTypeImports: true, message: 'heavy package: import it lazily inside the adapter or renderer that needs it' }],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/main.ts', 'src/lib/output/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'only src/main.ts decides the exit code: throw a LakeError' }],
    },
  },
  {
    // What every run loads before a command needs anything heavy.
    files: ['src/commands/**', 'src/program.ts', 'src/main.ts', 'src/lib/context.ts', 'src/lib/config*.ts', 'src/lib/suggest.ts', 'src/lib/errors.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', heavyImportRule] },
  },
  {
    // Tests look for ANSI escapes on purpose.
    files: ['test/**'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['bench/**', 'scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
