// A scripted NTP server (test/support/kisser.ts) whose time follows a board's virtual clock, so that a board that
// skips hours of idle time does not look like a drifting clock: it answers, kisses or stays silent on cue.

import { makeKiss, makeReply, startKisser, type Kisser, type KisserRequest } from '../support/kisser';
import { ntpTimestampFromUnixMs } from '../support/packet';
import type { EspruinoBoard } from './espruino-board';

export type Behaviour = 'answer' | 'silent' | 'DENY' | 'RSTR' | 'RATE';

export async function startVirtualServer(address: string, board: () => EspruinoBoard, behaviour: () => Behaviour): Promise<Kisser> {
  return startKisser(address, 0, (request: KisserRequest) => {
    if (!request.packet) return null;
    const b = behaviour();
    if (b === 'silent') return null;
    const now = ntpTimestampFromUnixMs(board().worldTimeMs());
    if (b === 'answer') return { bytes: makeReply(request, { receive: now, transmit: now }) };
    return { bytes: makeKiss(request, b, { receive: now, transmit: now }) };
  });
}
