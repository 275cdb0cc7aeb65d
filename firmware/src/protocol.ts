// The protocol, as a Storage module of its own (kisstime-protocol): the core's scheduler, which the client module
// loads for each event and lets go of after it. On Espruino every function of a loaded module holds about five
// variables plus one per parameter for as long as the module is loaded (measured on the interpreter); loaded per
// event, the protocol's code stays in flash between events, and the board holds only its state and the adapter.

export { handle } from '../../src/core/scheduler';
