/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.jest.json" }] },
  testTimeout: 60000,
  setupFiles: ["<rootDir>/test/helpers/setup-env.ts"],
  // fails the run when a suite leaves streams, databases or Redis keys behind
  globalSetup: "<rootDir>/test/helpers/global-setup.ts",
  globalTeardown: "<rootDir>/test/helpers/global-teardown.ts",
  // runs the seckill kill -9 test first (test/helpers/sequencer.js says why)
  testSequencer: "<rootDir>/test/helpers/sequencer.js",
};
