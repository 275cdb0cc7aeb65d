// The server as one sans-IO entry point: bytes and the source address in, 48 bytes (or silence) out. The adapter
// reads the local clock as early as it can for the receive timestamp, and stamps the transmit timestamp as late as
// it can with stampTransmit; every decision about who gets what lives here.

import { asciiToRefId } from './codec';
import { checkAccess } from './server-acl';
import { ServerConfig } from './server-config';
import { ClientConduct, KISS_SENT_DENY, KISS_SENT_RATE, KISS_SENT_RSTR, noteKissSent, noteRequest, resetConduct, rudeClients } from './server-politeness';
import { chargeRequest, kissAllowed, resetClient } from './server-rate';
import { DISPERSION_RATE_S_PER_S, localClockReference, ServedReference, unsynchronisedReference } from './server-reference';
import { AnswerFields, checkRequest, TRANSMIT_OFFSET, writeAnswer, writeKiss, writeTimestampAt } from './server-reply';
import { copyServerStats, createServerStats, DropReason, ServerKissCode, ServerStats } from './server-stats';
import { ClientTable, createClientTable, touchClient } from './server-table';
import { addSeconds, NtpTimestamp } from './timestamp';

/** What the adapter does with the output buffer: send it (after stampTransmit for an answer), or nothing. */
export type ResponseKind = 'answer' | 'kiss' | 'silent';

const KISS_RATE = asciiToRefId('RATE');
const KISS_DENY = asciiToRefId('DENY');
const KISS_RSTR = asciiToRefId('RSTR');

/** ceil(log2(seconds)), at least 0: the poll exponent that asks a client for no more than one request per interval. */
function pollFor(seconds: number): number {
  let p = 0;
  let v = 1;
  while (v < seconds && p < 17) {
    v *= 2;
    p++;
  }
  return p;
}

export class NtpResponder {
  readonly config: ServerConfig;
  private readonly random: () => number;
  private readonly table: ClientTable;
  private readonly counters: ServerStats;
  private reference: ServedReference;
  private readonly touched: { index: number; isNew: boolean };
  private readonly fields: AnswerFields;
  private readonly ratePoll: number;
  /** How long a RATE kiss asks a client to stay away (2^poll s, the poll we send), ms. */
  private readonly rateAwayMs: number;
  /** Why the last request got what it got ('answer', 'leak', a kiss code or a drop reason), for tests and logs. */
  lastOutcome: string;

  constructor(config: ServerConfig, random: () => number) {
    this.config = config;
    this.random = random;
    this.table = createClientTable(config.maxClients);
    this.counters = createServerStats(this.table.capacity);
    this.reference = config.localStratum !== null ? localClockReference(config.localStratum) : unsynchronisedReference();
    this.touched = { index: 0, isNew: false };
    this.fields = { leap: 0, stratum: 0, precision: config.precision, refId: 0, rootDelayS: 0, rootDispersionS: 0, reference: { s: 0, f: 0 }, receive: { s: 0, f: 0 } };
    this.ratePoll = pollFor(config.kissIntervalMs / 1000);
    this.rateAwayMs = (1 << this.ratePoll) * 1000;
    this.lastOutcome = '';
  }

  /**
   * The upstream's latest word. An unsynchronised reference (or null) falls back to the local clock when the
   * operator asked for "serve local clock at stratum N", else the server answers LI=3, stratum 16.
   */
  setReference(reference: ServedReference | null): void {
    if (reference && reference.synced) this.reference = reference;
    else if (this.config.localStratum !== null) this.reference = localClockReference(this.config.localStratum);
    else this.reference = unsynchronisedReference();
  }

  currentReference(): ServedReference {
    return this.reference;
  }

  /** Local clock to served time. */
  servedTime(local: NtpTimestamp): NtpTimestamp {
    return this.reference.offsetS === 0 ? local : addSeconds(local, this.reference.offsetS);
  }

  /**
   * Decides what request, from address, gets. receiveLocal is the local clock when the datagram arrived; nowMs a
   * monotonic clock. The reply (always 48 bytes) is written to out, which must hold at least 48 bytes. out may be
   * request itself: everything is read from the request (checks, conduct, then the fields the reply echoes, each
   * before the bytes that hold it are overwritten) so an adapter can answer in the datagram's own buffer. Nor is
   * receiveLocal kept past the call, so an adapter may pass the same object every time.
   */
  respond(request: Uint8Array, address: string, nowMs: number, receiveLocal: NtpTimestamp, out: Uint8Array): ResponseKind {
    const stats = this.counters;
    stats.requests++;
    const problem = checkRequest(request);
    if (problem !== null) return this.drop(problem);

    const access = checkAccess(this.config.acl, address);
    const table = this.table;
    const touched = this.touched;
    touchClient(table, address, touched);
    const r = touched.index;
    if (touched.isNew) {
      resetClient(table, r, nowMs, this.config.rate.burst);
      resetConduct(table, r, nowMs);
    }
    noteRequest(table, r, nowMs, request, receiveLocal.s + this.reference.offsetS, this.rateAwayMs);

    if (access !== 'allow') {
      if (!kissAllowed(table, r, nowMs, this.config.kissIntervalMs)) return this.drop(access === 'deny' ? 'denied' : 'restricted');
      noteKissSent(table, r, access === 'deny' ? KISS_SENT_DENY : KISS_SENT_RSTR);
      return this.kiss(request, out, access === 'deny' ? 'DENY' : 'RSTR', access === 'deny' ? KISS_DENY : KISS_RSTR, 0);
    }

    const verdict = chargeRequest(table, r, nowMs, this.config.rate, this.random);
    if (verdict === 'drop') return this.drop('rate-limited');
    if (verdict === 'kiss') {
      noteKissSent(table, r, KISS_SENT_RATE);
      return this.kiss(request, out, 'RATE', KISS_RATE, this.ratePoll);
    }
    if (verdict === 'leak') stats.leaked++;
    this.answer(request, out, nowMs, receiveLocal);
    this.lastOutcome = verdict;
    return 'answer';
  }

  /** Writes the transmit timestamp of an answer from the local clock, read just before the send. */
  stampTransmit(out: Uint8Array, transmitLocal: NtpTimestamp): void {
    writeTimestampAt(out, TRANSMIT_OFFSET, this.servedTime(transmitLocal));
  }

  stats(): ServerStats {
    this.counters.clients = this.table.size;
    this.counters.evictions = this.table.evictions;
    return copyServerStats(this.counters);
  }

  /** The clients that behave worst (ignoring kisses, asking under the 15 s floor, leaking their clock), and how many misbehave. */
  rudeClients(limit: number, nowMs: number): { count: number; worst: ClientConduct[] } {
    return rudeClients(this.table, limit, nowMs);
  }

  private drop(reason: DropReason): ResponseKind {
    this.counters.dropped[reason]++;
    this.lastOutcome = reason;
    return 'silent';
  }

  private kiss(request: Uint8Array, out: Uint8Array, code: ServerKissCode, refId: number, pollHint: number): ResponseKind {
    writeKiss(out, request, refId, this.config.precision, pollHint);
    this.counters.kissed[code]++;
    this.lastOutcome = code;
    return 'kiss';
  }

  private answer(request: Uint8Array, out: Uint8Array, nowMs: number, receiveLocal: NtpTimestamp): void {
    const ref = this.reference;
    const f = this.fields;
    const receive = this.servedTime(receiveLocal);
    f.leap = ref.leap;
    f.stratum = ref.stratum;
    f.refId = ref.refId;
    f.rootDelayS = ref.rootDelayS;
    const ageS = ref.synced && !ref.referenceIsNow && nowMs > ref.atMs ? (nowMs - ref.atMs) / 1000 : 0;
    f.rootDispersionS = ref.rootDispersionS + ageS * DISPERSION_RATE_S_PER_S;
    f.reference = ref.referenceIsNow ? receive : ref.reference;
    f.receive = receive;
    writeAnswer(out, request, f);
    this.counters.answered++;
  }
}
