/** Replaced at build time by scripts/build.mjs; vitest defines it in vitest.config.ts. */
declare const __LAKE_VERSION__: string;
