// The board's setClock option, read by the adapter and by the desk-side config check (firmware/tools/check-config.js).

import { fieldError } from '../../src/core/config';

/**
 * The |offset| in seconds above which the board steps its clock: true means 1 s, and off (false, unset) is an
 * infinite threshold that no offset is above. Throws, naming the field, for anything else but a number of seconds.
 */
export function stepThresholdS(setClock: unknown): number {
  if (setClock === true) return 1;
  if (setClock == null || setClock === false) return Infinity;
  if (typeof setClock === 'number' && setClock >= 0) return setClock;
  throw fieldError('setClock', 'expected true, false or a number of seconds');
}
