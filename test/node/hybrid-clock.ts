// A clock for driving the real client against a real daemon faster than real time: scheduling (monotonic time and
// timers) is virtual, so the client's 16 s floors pass at a word, while T1/T4 come from the real wall clock because
// the daemon stamps its replies with real time.

import { NtpTimestamp } from '../../src/core';
import { NodeClock } from '../../src/node';
import { VirtualClock } from '../support/virtual-clock';

export class HybridClock extends VirtualClock {
  private readonly wall = new NodeClock();

  constructor() {
    super(0);
  }

  override wallNtp(): NtpTimestamp {
    return this.wall.wallNtp();
  }

  override wallMs(): number {
    return this.wall.wallMs();
  }
}
