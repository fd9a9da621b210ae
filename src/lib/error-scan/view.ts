/** How `lake errors` reads as a table: the groups, samples, unreadable objects and the redrive. */
import type { View } from '../output/render.js';
import type { RedriveReport } from './redrive.js';
import { cut } from './samples.js';
import type { ErrorsReport } from './scan.js';

export interface ErrorsDocument extends ErrorsReport {
  redrive?: RedriveReport;
}

const minute = (iso: string) => iso.replace(/:\d{2}\.\d{3}Z$/, 'Z');

export function renderErrors(doc: ErrorsDocument): View {
  const sections: View[] = [];
  const window = `${minute(doc.since)} to ${minute(doc.until)}`;
  if (doc.groups.length === 0) {
    sections.push({ kind: 'text', text: `no error records from ${window} (${doc.objects} error objects read)` });
  } else {
    sections.push({
      kind: 'rows',
      title: `${doc.total} error record${doc.total === 1 ? '' : 's'} from ${window}, in ${doc.objects} object${doc.objects === 1 ? '' : 's'}`,
      columns: ['type', 'code', 'count', 'first seen', 'last seen', 'sample message'],
      rows: doc.groups.map((g) => ({ type: g.type, code: g.code, count: g.count, 'first seen': minute(g.firstSeen), 'last seen': minute(g.lastSeen), 'sample message': cut(g.sample, 80) })),
    });
  }
  const samples = doc.groups.flatMap((g) => (g.samples ?? []).map((s) => ({ code: g.code, column: s.column ?? (s.convertsNow ? '(converts now)' : ''), value: s.value ?? '', record: cut(s.data, 80) })));
  if (samples.length > 0) sections.push({ kind: 'rows', title: 'samples', columns: ['code', 'column', 'value', 'record'], rows: samples });
  if (doc.unreadable.length > 0) {
    sections.push({
      kind: 'rows',
      title: 'unreadable objects (the records around the damage were read)',
      columns: ['key', 'records read', 'problem'],
      rows: doc.unreadable.map((u) => ({ key: u.key, 'records read': u.records, problem: u.problems.map((p) => p.message).join('; ') })),
    });
  }
  if (doc.redrive) sections.push(renderRedrive(doc.redrive));
  return sections.length === 1 ? sections[0]! : { kind: 'sections', sections };
}

function renderRedrive(r: RedriveReport): View {
  const row = { records: r.records, [r.dryRun ? 'would send' : 'sent']: r.dryRun ? r.toSend : r.sent, skipped: r.skipped, 'still failing': r.stillFailing, undelivered: r.undelivered, 'objects redriven': r.objects };
  const footer: string[] = [];
  for (const f of r.failing.slice(0, 10)) footer.push(`still failing: ${f.count} x ${f.code}${f.column ? ` (column ${f.column})` : ''}: ${cut(f.message, 100)}`);
  if (r.unreadableObjects > 0) footer.push(`${r.unreadableObjects} unreadable objects were left alone`);
  if (r.deadLetter) footer.push(`dead letters: ${r.deadLetter}`);
  if (r.archive && r.objects > 0) footer.push(`redriven objects kept under ${r.archive}`);
  for (const m of r.markFailures) footer.push(`not marked (its records may be sent again): ${m.key}: ${m.message}`);
  return { kind: 'rows', title: r.dryRun ? 'redrive plan (dry run: nothing sent)' : 'redrive', columns: Object.keys(row), rows: [row], footer: footer.length > 0 ? footer : undefined };
}
