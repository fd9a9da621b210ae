// Athena's result column names from DuckDB's parse tree (json_serialize_sql), on trees
// shaped like DuckDB's; the engine's integration tests run the same on real trees.
import { describe, expect, it } from 'vitest';
import { athenaColumnNames } from '../../src/lib/local/athena-column-names.js';

const col = (...names: string[]) => ({ class: 'COLUMN_REF', type: 'COLUMN_REF', alias: '', column_names: names });
const call = (alias = '') => ({ class: 'FUNCTION', type: 'FUNCTION', alias, function_name: 'count_star', children: [] });
const star = (extra: Record<string, unknown> = {}) => ({ class: 'STAR', type: 'STAR', alias: '', relation_name: '', exclude_list: [], replace_list: [], columns: false, ...extra });
const select = (list: unknown[], from: unknown = { type: 'BASE_TABLE', schema_name: '', table_name: 'events', column_name_alias: [] }, ctes: unknown[] = []) => ({
  type: 'SELECT_NODE',
  cte_map: { map: ctes },
  select_list: list,
  from_table: from,
});
const tree = (node: unknown) => ({ error: false, statements: [{ node }] });

describe('athenaColumnNames', () => {
  it('numbers unnamed columns by position and keeps aliases and column references as spelled', () => {
    expect(athenaColumnNames(tree(select([col('e', 'Source'), call(), call('N')])), ['source', 'count_star()', 'N'])).toEqual(['Source', '_col1', 'N']);
  });

  it('gives DuckDB names to the columns of a * over a table, and positions the rest around it', () => {
    expect(athenaColumnNames(tree(select([call(), star(), call()])), ['count_star()', 'a', 'b', 'count_star()'])).toEqual(['_col0', 'a', 'b', '_col3']);
  });

  it('with two * over tables, names what comes before the first and after the last', () => {
    const join = { type: 'JOIN', left: { type: 'BASE_TABLE', table_name: 'a' }, right: { type: 'BASE_TABLE', table_name: 'b' }, using_columns: [] };
    const names = ['count_star()', 'x', '1', 'y', 'count_star()'];
    expect(athenaColumnNames(tree(select([call(), star({ relation_name: 'a' }), call(), star({ relation_name: 'b' }), call()], join)), names)).toEqual(['_col0', 'x', '1', 'y', '_col4']);
  });

  it('a recursive CTE does not send it round in circles', () => {
    const recursive = { type: 'SET_OPERATION_NODE', cte_map: { map: [] }, left: select([star()], { type: 'BASE_TABLE', schema_name: '', table_name: 'r' }), right: select([call()]) };
    const node = select([star()], { type: 'BASE_TABLE', schema_name: '', table_name: 'r', column_name_alias: [] }, [{ key: 'r', value: { aliases: [], query: { node: recursive } } }]);
    expect(athenaColumnNames(tree(node), ['n'])).toEqual(['n']);
  });

  it("keeps DuckDB's names when the tree is not a query it understands or does not match the result", () => {
    expect(athenaColumnNames({ error: true, error_message: 'syntax error' }, ['a'])).toEqual(['a']);
    expect(athenaColumnNames(tree({ type: 'CTE_NODE' }), ['count_star()'])).toEqual(['count_star()']);
    expect(athenaColumnNames(tree(select([call(), call()])), ['count_star()'])).toEqual(['count_star()']);
  });
});
