// The time server for the npm start demo: Kisstime's own gateway server (src/node/server.ts) serving its local
// clock, on loopback only, so the demo works without internet and never sends a packet anywhere else. Its
// clock runs a fixed offset ahead of this machine, so the demo has an offset to show, correct and alarm on.
// If that server is not in this build, a minimal answerer built on the core's codec stands in.

'use strict';

const dgram = require('dgram');
const core = require('../dist/src/core');

/** A ClockSource whose wall time is offsetS ahead of the real one; timers and monotonic time are untouched. */
function shiftedClock(base, offsetS) {
  return {
    monoMs: function () { return base.monoMs(); },
    wallMs: function () { return base.wallMs() + offsetS * 1000; },
    wallNtp: function () { return core.addSeconds(base.wallNtp(), offsetS); },
    setTimer: function (fn, ms) { return base.setTimer(fn, ms); },
    clearTimer: function (h) { base.clearTimer(h); },
  };
}

async function startGatewayServer(address, port, offsetS) {
  const adapter = require('../dist/src/node');
  const { createServer } = require('../dist/src/node/server');
  const server = createServer({
    listen: { address: address, port: port },
    // A local clock at chrony's default local stratum; only loopback clients.
    config: { localStratum: 10, allow: '127.0.0.0/8' },
    clock: shiftedClock(adapter.createNodeClock(), offsetS),
  });
  const bound = await server.start();
  server.on('error', function (err) { process.stderr.write('demo time server: ' + err.message + '\n'); });
  return {
    kind: 'Kisstime gateway server',
    address: bound.address,
    port: bound.port,
    close: function () { return server.stop(); },
  };
}

function startCodecServer(address, port, offsetS) {
  const socket = dgram.createSocket('udp4');
  function wallNtp() {
    return core.ntpFromUnixSeconds((performance.timeOrigin + performance.now()) / 1000 + offsetS);
  }
  socket.on('message', function (bytes, rinfo) {
    const receive = wallNtp();
    const decoded = core.decodePacket(new Uint8Array(bytes));
    if (!decoded.ok || decoded.packet.mode !== core.MODE_CLIENT) return;
    socket.send(core.encodePacket({
      leap: 0, version: decoded.packet.version, mode: core.MODE_SERVER, stratum: 10, poll: decoded.packet.poll, precision: -20,
      rootDelay: 0, rootDispersion: 66, refId: core.asciiToRefId('LOCL'),
      reference: receive, origin: decoded.packet.transmit, receive: receive, transmit: wallNtp(),
    }), rinfo.port, rinfo.address);
  });
  return new Promise(function (resolve, reject) {
    socket.once('error', reject);
    socket.bind(port, address, function () {
      socket.off('error', reject);
      resolve({
        kind: 'minimal demo answerer',
        address: address,
        port: socket.address().port,
        close: function () { return new Promise(function (done) { socket.close(done); }); },
      });
    });
  });
}

/** Resolves { kind, address, port, close() }. */
async function startDemoTimeServer(options) {
  const address = options.address || '127.0.0.1';
  if (!/^127\./.test(address)) throw new Error('the demo time server binds loopback only, not ' + address);
  const offsetS = options.offsetS || 0;
  let gateway = null;
  try {
    gateway = require.resolve('../dist/src/node/server');
  } catch {
    gateway = null;
  }
  return gateway ? startGatewayServer(address, options.port || 0, offsetS) : startCodecServer(address, options.port || 0, offsetS);
}

module.exports = { startDemoTimeServer };
