// The firmware bundle built in memory from the current source (firmware/build.js), once per test worker, so that no
// test runs a stale firmware/dist.

import { build, type BuildResult } from '../../firmware/build';

let built: Promise<BuildResult> | null = null;

export function firmware(): Promise<BuildResult> {
  if (!built) built = build({ write: false });
  return built;
}
