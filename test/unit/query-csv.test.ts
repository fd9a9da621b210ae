import { describe, expect, it } from 'vitest';
import { athenaCsvRows, parseAthenaCsvText } from '../../src/lib/query/athena-csv.js';

const enc = new TextEncoder();

async function collect(chunks: Uint8Array[]): Promise<(string | null)[][]> {
  const rows: (string | null)[][] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const batch of athenaCsvRows(source())) rows.push(...batch);
  return rows;
}

/** Splits bytes at the given offsets (which may fall inside a multi-byte character). */
function split(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (const o of [...offsets, bytes.length]) {
    out.push(bytes.subarray(start, o));
    start = o;
  }
  return out;
}

const SAMPLE = '"id","name","note"\n"1","Ana",""\n"2",,"said ""hi"", then left"\n"3","Zoë","two\nlines"\n';
const EXPECTED = [
  ['id', 'name', 'note'],
  ['1', 'Ana', ''],
  ['2', null, 'said "hi", then left'],
  ['3', 'Zoë', 'two\nlines'],
];

describe("Athena's result CSV", () => {
  it('every value quoted, NULL an empty unquoted field, quotes doubled, values across lines', () => {
    expect(parseAthenaCsvText(SAMPLE)).toEqual(EXPECTED);
  });

  it('a NULL in the last column, and a one-column row that is NULL (an empty line)', () => {
    expect(parseAthenaCsvText('"a","b"\n"1",\n"x"\n\n"y"\n')).toEqual([['a', 'b'], ['1', null], ['x'], [null], ['y']]);
  });

  it('reads CRLF line ends and a last line without a newline', () => {
    expect(parseAthenaCsvText('"a","b"\r\n"1","2"\r\n"3",')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', null],
    ]);
  });

  it('gives the same rows whatever the chunk boundaries, inside quotes and characters included', async () => {
    const bytes = enc.encode(SAMPLE);
    for (let a = 1; a < bytes.length - 1; a += 3) {
      for (const b of [a + 1, a + 2, bytes.length - 1]) {
        if (b <= a || b >= bytes.length) continue;
        expect(await collect(split(bytes, [a, b]))).toEqual(EXPECTED);
      }
    }
    expect(await collect(split(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)))).toEqual(EXPECTED);
  });

  it('rejects a quoted value that never closes, and text after a closing quote', () => {
    expect(() => parseAthenaCsvText('"a"\n"open\n')).toThrow('result CSV line 2: a quoted value is not closed');
    expect(() => parseAthenaCsvText('"a"x\n')).toThrow("result CSV line 1: unexpected 'x' after a closing quote");
  });
});
