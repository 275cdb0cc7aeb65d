// The board's setClock option, read by the adapter and by the desk-side config check (firmware/tools/check-config.js).

import { fail } from '../../src/core/config';
import { parseDurationS } from '../../src/core/duration';

/**
 * The |offset| in seconds above which the board steps its clock: true means 1 s, and off (false, unset) is an
 * infinite threshold that no offset is above. Throws, naming the field, for anything else but a number of seconds.
 */
export function stepThresholdS(setClock: boolean | number | string | undefined): number {
  const s = setClock === true ? 1 : (setClock ? parseDurationS(setClock) : Infinity);
  return s >= 0 ? s : fail('setClock', 'expected true, false or seconds');
}
