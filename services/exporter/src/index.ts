export { startExporter } from './startExporter.ts';
export type { Exporter, ExporterOptions } from './startExporter.ts';
export { DEFAULT_TUNING } from './context.ts';
export type { ExporterLog, ExporterTuning } from './context.ts';
export { callbackBody, webhookIdFor } from './deliveryJobs.ts';
export { periodEndingBy, scheduledExportId } from './scheduleJobs.ts';
