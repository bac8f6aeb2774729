import { defineConfig } from 'vitest/config'

// The machines that run CI have two cores: two forks keep both busy without oversubscribing the
// worker threads that the erasure pool starts inside each test file.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
