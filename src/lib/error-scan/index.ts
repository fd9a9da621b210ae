/**
 * `lake errors`' library: reading the error prefix for a time window (also what `lake
 * status` needs for its error count), samples, and the redrive.
 */
export { type ErrorGroup, ErrorGrouper, type LocatedRecord } from './groups.js';
export { type ErrorObjectRef, REDRIVEN_FOLDER, isErrorOutputType, listErrorObjects } from './listing.js';
export { type ErrorsReport, type ReadObject, type ScanOptions, type ScanResult, type UnreadableObject, scanErrors } from './scan.js';
export { type ErrorSample, explainRecord, rawLine } from './samples.js';
export { type RedriveReport, redrive } from './redrive.js';
export { type TimeWindow, parseWindow } from './window.js';
