// Types for firmware/build.js, so tests can import it.

export interface BuiltModule {
  /** Its Storage name: what require() is given on the board. */
  name: string;
  readable: string;
  minified: string;
  readableBytes: number;
  minifiedBytes: number;
}

export interface BuildResult {
  version: string;
  modules: BuiltModule[];
  /** The client module, "kisstime". */
  readable: string;
  minified: string;
  /** The modules it loads when it needs them and lets go of after: "kisstime-protocol" and "kisstime-boot". */
  protocol: BuiltModule;
  boot: BuiltModule;
  /** Both modules together: what a board's flash holds. */
  readableBytes: number;
  minifiedBytes: number;
}

export function build(options?: { write?: boolean }): Promise<BuildResult>;
export function checkEspruinoSubset(code: string): { line: number; column: number; what: string }[];
export function toEspruinoModule(code: string): string;
export function mangleableNames(): string[];
export function minifyModule(code: string): Promise<string>;
