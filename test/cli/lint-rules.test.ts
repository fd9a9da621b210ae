// The lint rules that keep lake's shape: heavy packages only lazily (startup), and no
// console or process.exit outside main and the output host. Checked on probe sources, linted
// under the names of the files the rules guard.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
const PROBE = [
  "import { S3Client } from '@aws-sdk/client-s3';",
  "import type { GlueClient } from '@aws-sdk/client-glue';",
  "import { DuckDBInstance } from '@duckdb/node-api';",
  "import { render } from 'ink';",
  "import { createElement } from 'react';",
  "import Table from 'cli-table3';",
  'export const all = [S3Client, DuckDBInstance, render, createElement, Table] as unknown as GlueClient;',
  "export const lazy = () => import('@aws-sdk/client-athena');",
  '',
].join('\n');

async function problems(filePath: string, code = PROBE): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => `${m.line}:${m.ruleId}`);
}

describe('lint rules', () => {
  it.each(['src/commands/probe.ts', 'src/commands/partitions/probe.ts', 'src/program.ts', 'src/main.ts', 'src/lib/context.ts', 'src/lib/config.ts'])(
    'in %s, a value import of a heavy package is an error; a type import or import() is not',
    async (file) => {
      const rule = '@typescript-eslint/no-restricted-imports';
      expect(await problems(file)).toEqual([`1:${rule}`, `3:${rule}`, `4:${rule}`, `5:${rule}`, `6:${rule}`]);
    },
  );

  it('adapters and renderers may import heavy packages', async () => {
    expect(await problems('src/lib/aws/probe.ts')).toEqual([]);
    expect(await problems('src/lib/output/probe.ts')).toEqual([]);
  });

  it('console and process.exit are errors outside main and the output host', async () => {
    const code = "export function f(): void {\n  console.log('x');\n  process.exit(1);\n}\n";
    expect(await problems('src/commands/probe.ts', code)).toEqual(['2:no-console', '3:no-restricted-properties']);
    expect(await problems('src/lib/probe.ts', code)).toEqual(['2:no-console', '3:no-restricted-properties']);
    expect(await problems('src/main.ts', code)).toEqual([]);
    expect(await problems('src/lib/output/probe.ts', code)).toEqual([]);
  });
});
