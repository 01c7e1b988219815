/**
 * What every HEC event must be before it is acknowledged: text the store can keep
 * (no lone UTF-16 surrogate in any key or value — JSON's `"\ud800"` decodes to one)
 * and nesting no deeper than Quay's events go (its metadata is a flat object; a body
 * nested thousands deep must be refused as data, not fail later as "server busy").
 * Quay's events are answered with Splunk's "Invalid data format" and the event number.
 */
import { findInvalidText, jsonDepth } from '@quaylogs/core';

/** Envelope → event → metadata → a few levels of metadata values. */
export const HEC_MAX_DEPTH = 16;

/** The deepest nesting of brackets in JSON text (outside strings), without parsing it. */
export function jsonTextDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Why event `envelopes[i]` cannot be stored, for the first such event, or null. */
export function hecEventsProblem(envelopes: readonly unknown[]): { index: number; reason: string } | null {
  for (let index = 0; index < envelopes.length; index++) {
    const envelope = envelopes[index];
    if (jsonDepth(envelope) > HEC_MAX_DEPTH) return { index, reason: `the event is nested deeper than ${HEC_MAX_DEPTH} levels` };
    const bad = findInvalidText(envelope);
    if (bad) return { index, reason: `${bad} is not valid Unicode` };
    const ev = (envelope as { event?: Record<string, unknown> } | null)?.event;
    for (const key of ['metadata_json', 'metadata'] as const) {
      const m = ev && typeof ev === 'object' ? ev[key] : undefined;
      if (typeof m === 'string' && jsonTextDepth(m) > HEC_MAX_DEPTH) {
        return { index, reason: `event.${key} is nested deeper than ${HEC_MAX_DEPTH} levels` };
      }
    }
  }
  return null;
}
