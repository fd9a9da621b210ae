import { describe, expect, it } from 'vitest';
import { toJson } from '../../src/lib/output/render.js';
import { converterFor, parseNested, rowConverter } from '../../src/lib/query/values.js';

const convert = (type: string, text: string | null, extra: { precision?: number; scale?: number } = {}) => converterFor({ name: 'c', type, ...extra })(text);

describe('typed values by Athena column type', () => {
  it('bigint is exact: a number while it is a safe integer, a BigInt beyond (printed in JSON as a string)', () => {
    expect(convert('bigint', '42')).toBe(42);
    expect(convert('bigint', '-123456789012345')).toBe(-123456789012345);
    expect(convert('bigint', '9007199254740991')).toBe(9007199254740991);
    expect(convert('bigint', '9007199254740993')).toBe(9007199254740993n);
    expect(convert('bigint', '-9223372036854775808')).toBe(-9223372036854775808n);
    expect(toJson({ small: convert('bigint', '9007199254740991'), big: convert('bigint', '9007199254740993') })).toBe('{"small":9007199254740991,"big":"9007199254740993"}');
  });

  it('decimal stays the exact string, never a float', () => {
    expect(convert('decimal', '12.30', { precision: 10, scale: 2 })).toBe('12.30');
    expect(convert('decimal', '12345678901234567890.123456789', { precision: 38, scale: 9 })).toBe('12345678901234567890.123456789');
    expect(toJson({ d: convert('decimal', '0.10') })).toBe('{"d":"0.10"}');
  });

  it('integers and floating point are numbers; NaN and the infinities stay text', () => {
    expect(convert('integer', '-7')).toBe(-7);
    expect(convert('smallint', '300')).toBe(300);
    expect(convert('tinyint', '1')).toBe(1);
    expect(convert('double', '0.14285714285714285')).toBe(0.14285714285714285);
    expect(convert('double', '1.0E10')).toBe(1e10);
    expect(convert('real', '2.5')).toBe(2.5);
    expect(convert('double', 'NaN')).toBe('NaN');
    expect(convert('double', 'Infinity')).toBe('Infinity');
  });

  it('booleans, dates and timestamps', () => {
    expect(convert('boolean', 'true')).toBe(true);
    expect(convert('boolean', 'false')).toBe(false);
    expect(convert('date', '2024-05-17')).toBe('2024-05-17');
    expect(convert('timestamp', '2024-05-17 13:45:00.000')).toBe('2024-05-17 13:45:00.000');
    expect(convert('timestamp(3)', '2024-05-17 13:45:00.123')).toBe('2024-05-17 13:45:00.123');
  });

  it('NULL is null for every type; an empty string stays a string', () => {
    for (const type of ['bigint', 'decimal', 'double', 'boolean', 'varchar', 'array', 'map', 'row', 'json', 'date']) expect(convert(type, null)).toBeNull();
    expect(convert('varchar', '')).toBe('');
  });

  it('json columns are parsed', () => {
    expect(convert('json', '{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(convert('json', 'not json')).toBe('not json');
  });

  it('arrays, maps and rows become JSON values', () => {
    expect(convert('array', '[1, 2, 3]')).toEqual([1, 2, 3]);
    expect(convert('array', '[a, b0]')).toEqual(['a', 'b0']);
    expect(convert('array', '[]')).toEqual([]);
    expect(convert('array', '[1.5, null, true]')).toEqual([1.5, null, true]);
    expect(convert('map', '{web=3, app=7}')).toEqual({ web: 3, app: 7 });
    expect(convert('row', '{id=1, name=Ana, tags=[x, y], geo={lat=1.5, lon=-2.25}}')).toEqual({ id: 1, name: 'Ana', tags: ['x', 'y'], geo: { lat: 1.5, lon: -2.25 } });
    expect(convert('array', '[{a=1}, {a=2}]')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("nested text is Athena's unquoted rendering: a string holding ', ' comes out split (a known limit)", () => {
    expect(parseNested('[a, b, c]')).toEqual(['a', 'b', 'c']);
    expect(parseNested('[a,b]')).toEqual(['a,b']);
    expect(parseNested('[unbalanced')).toBe('[unbalanced');
  });

  it('converts whole rows with one converter per column', () => {
    const row = rowConverter([
      { name: 'n', type: 'bigint' },
      { name: 's', type: 'varchar' },
      { name: 'd', type: 'decimal', precision: 10, scale: 2 },
    ]);
    expect(row(['3', 'x', '1.50'])).toEqual([3, 'x', '1.50']);
    expect(row([null, null, null])).toEqual([null, null, null]);
  });
});
