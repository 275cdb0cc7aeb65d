import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 60000,
    // Real daemons bind fixed loopback addresses; files run in parallel but each owns its own 127.x.y.z.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
