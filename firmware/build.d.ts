// Types for firmware/build.js, so tests can import it.

export interface BuildResult {
  version: string;
  readable: string;
  minified: string;
  readableBytes: number;
  minifiedBytes: number;
}

export function build(options?: { write?: boolean }): Promise<BuildResult>;
export function checkEspruinoSubset(code: string): { line: number; column: number; what: string }[];
export function toEspruinoModule(code: string): string;
export function mangleableNames(): string[];
export function minifyModule(code: string): Promise<string>;
