// The Espruino globals the adapter uses, typed. Declarations only: nothing here reaches the bundle.

export interface EspruinoE {
  toString(bytes: Uint8Array): string;
  toUint8Array(text: string): Uint8Array;
  CRC32(text: string): number;
  srand(seed: number): void;
  hwRand(): number;
}

export interface DgramSocket {
  on(event: 'message', fn: (msg: string, rinfo: { address: string; port: number; size: number }) => void): void;
  on(event: 'error', fn: (error: unknown) => void): void;
  send(msg: string, port: number, address: string): void;
  close(): void;
}

export interface EspruinoStorage {
  /** The file's text, or undefined when there is no such file. */
  read(name: string): string | undefined;
  readJSON(name: string, noExceptions: boolean): unknown;
  writeJSON(name: string, value: unknown): boolean;
}

export interface EspruinoWifi {
  getHostByName?: (name: string, callback: (ip: string | undefined) => void) => void;
}

export interface EspruinoModules {
  /** Unloads a module, so that what only it held can be freed. */
  removeCached(name: string): void;
}
