import { defineConfig } from 'vitest/config';

// Used when running `vitest --root packages/demo` (the repository's config lists
// paths relative to the repository root).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
