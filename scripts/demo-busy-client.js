// A deliberately impatient NTP client for the npm start demo: it asks the demo's kisstime server node every few
// seconds, faster than the node's rate limit allows, so the dashboard has requests per second to plot and RATE
// kisses to count. Loopback only; it is the demo's stand-in for a badly written device on the LAN.

'use strict';

const dgram = require('dgram');
const crypto = require('crypto');

/** A 48-byte SNTP request: LI 0, version 4, mode 3, a random transmit timestamp as the nonce, all else zero. */
function request() {
  const bytes = Buffer.alloc(48);
  bytes[0] = (4 << 3) | 3;
  crypto.randomFillSync(bytes, 40, 8);
  return bytes;
}

/** Starts asking address:port every everyMs; resolves { stop() }. Replies are read and dropped. */
function startBusyClient(options) {
  const address = options.address || '127.0.0.1';
  if (!/^127\./.test(address)) throw new Error('the demo client talks to loopback only, not ' + address);
  const socket = dgram.createSocket('udp4');
  socket.on('message', function () {});
  socket.on('error', function () {});
  const timer = setInterval(function () {
    socket.send(request(), options.port, address);
  }, options.everyMs || 3000);
  return {
    stop: function () {
      clearInterval(timer);
      return new Promise(function (done) { socket.close(function () { done(); }); });
    },
  };
}

module.exports = { startBusyClient };
