/** Every figure of the suite, in report order. */
import type { Figure } from '../types.ts';
import { aggregateFigures } from './aggregates.ts';
import { e1, e2 } from './export.ts';
import { p3 } from './http.ts';
import { i3 } from './importQuayDb.ts';
import { i1, i2 } from './ingest.ts';
import { i4 } from './ingestUnderLoad.ts';
import { i0 } from './insertCeiling.ts';
import { p1, p2 } from './paging.ts';
import { e3, p4 } from './splunkSearch.ts';
import { s1 } from './storage.ts';

export const allFigures: Figure[] = [...aggregateFigures, p1, p2, p3, p4, e1, e2, e3, i0, i1, i2, i3, s1, i4];
