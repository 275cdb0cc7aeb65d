// Types for firmware/tools/subset.js.

export function checkEspruinoSubset(code: string): { line: number; column: number; what: string }[];
export function regexProblems(pattern: string, flags: string): string[];
