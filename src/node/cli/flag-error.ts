// Node's util.parseArgs errors, reworded so that the flag is named plainly ("unknown option --bogus", "--seconds
// needs a value") rather than in parseArgs's own long sentences.

export function flagErrorMessage(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(e.message ?? '');
  const flag = quoted ? quoted[1].replace(/^-\w, /, '').replace(/ <value>$/, '') : '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return 'unknown option ' + flag;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return flag.startsWith('-') ? flag + ' needs a value' : (e.message ?? 'bad value');
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return 'unexpected argument ' + JSON.stringify(flag);
  return e.message ?? String(error);
}
