// Type-aware linting: the rules that catch real bugs in async daemon code (floating promises,
// the no-unsafe-* family) come from typescript-eslint's type-checked sets.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'drizzle/', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname},
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS entries (bin/, see bin/package.json; bin/hook.cjs): require is how they load.
    files: ['**/*.cjs', 'bin/**/*.js'],
    languageOptions: {sourceType: 'commonjs'},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
)
