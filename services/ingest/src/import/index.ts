/**
 * Importers: Quay's database (`importQuayDb`) and files — Quay export documents,
 * log-rotation archives, our NDJSON exports (`importFile`). Both only append to the
 * ingest stream; the loader stores.
 */
export { importQuayDb, secondRuns } from './importQuayDb.ts';
export type { ImportQuayDbOptions, ImportQuayDbResult, ImportResult, ImportTableResult } from './importQuayDb.ts';
export { importFile } from './importFile.ts';
export type { ImportFileFormat, ImportFileOptions, ImportFileResult } from './importFile.ts';
export { ImportError, LOG_TABLES, type LogTable } from './quayDb.ts';
export type { ImportProgress } from './handOff.ts';
