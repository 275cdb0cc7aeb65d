// Which devices the bench traces: a few whose crystals span the static range, so the plot shows a slow and a
// fast clock on either side rather than whatever device 0 happens to be.

import { ClockOptions, DeviceClocks } from '../../src/fleet/device-clocks';

/** Among the first `among` devices, the ones whose static error is nearest each of the wanted ppm values. */
export function devicesWithDrifts(seed: number, clocks: ClockOptions, among: number, wantedPpm: number[]): { device: number; ppm: number }[] {
  const c = new DeviceClocks(0, among, seed, clocks);
  return wantedPpm.map((want) => {
    let best = 0;
    for (let i = 1; i < among; i++) {
      if (Math.abs(c.staticDriftOf(i) * 1e6 - want) < Math.abs(c.staticDriftOf(best) * 1e6 - want)) best = i;
    }
    return { device: best, ppm: c.staticDriftOf(best) * 1e6 };
  });
}
