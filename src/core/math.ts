// Math.max, Math.min and Math.round under names of their own: shorter to call in the minified firmware bundle,
// where they appear dozens of times.

export const maxOf = Math.max;
export const minOf = Math.min;
export const roundOf = Math.round;
