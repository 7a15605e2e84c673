// ESLint for the whole repository (`npm run lint`, run by .ci/run): typescript-eslint's recommended
// rules on the TypeScript sources, with a few choices recorded here. Formatting is Prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'runs/**', 'node_modules/**', 'test-results/**', 'bench/gpu/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        // Browser and Node globals the sources use (the page, the harness, WebGPU).
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        location: 'readonly',
        performance: 'readonly',
        console: 'readonly',
        process: 'readonly',
        URL: 'readonly',
        Blob: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        requestAnimationFrame: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        GPUBufferUsage: 'readonly',
        GPUMapMode: 'readonly',
        GPUShaderStage: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: {
      // Unused names are errors, except `_`-prefixed ones (deliberately ignored parameters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // Non-null assertions mark places where an invariant is checked just before; allowed.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
