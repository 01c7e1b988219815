/**
 * Okabe–Ito: eight colours told apart with every common colour-vision deficiency.
 * Series beyond eight are folded into "other" (grey).
 */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
export const OTHER = '#999999';
/** Sequential single-hue ramp for heat maps (light to dark blue). */
export const HEAT = ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'];
