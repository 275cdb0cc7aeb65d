// How many requests in one second a polite fleet may put on a server after a mass power-on.
//
// Each device's first request after power-on falls at a random point of its own startup window (RFC 4330's
// 1-5 min; the core adds the delay on top of any saved wait), so in any one second each device asks with
// probability at most 1/W, W the window's width in seconds; its later requests are at least the minimum interval
// (34 min) apart. The load in a second is then a sum of independent draws with mean at most N/W, whose upper tail
// is bounded by a Poisson tail. The bound is the smallest count that the window's W seconds together exceed with
// probability under one in a million.

/** P(X >= c) for X ~ Poisson(lambda), in log space so that large fleets (lambda in the thousands) do not underflow. */
export function poissonTail(lambda: number, c: number): number {
  if (c <= 0) return 1;
  // log P(X = k), stepped up from k = 0.
  let logP = -lambda;
  for (let k = 1; k <= c; k++) logP += Math.log(lambda) - Math.log(k);
  let tail = 0;
  // Past the mean the terms shrink; stop when they no longer change the sum.
  for (let k = c; k < c + 100000; k++) {
    const term = Math.exp(logP);
    tail += term;
    if (k > lambda && term < tail * 1e-17) break;
    logP += Math.log(lambda) - Math.log(k + 1);
  }
  return Math.min(1, tail);
}

export function powerOnBound(devices: number, windowS: number): number {
  const lambda = devices / windowS;
  let c = Math.ceil(lambda);
  while (windowS * poissonTail(lambda, c) > 1e-6) c++;
  return c;
}
