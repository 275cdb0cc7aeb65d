// kisstime: one binary, one module per subcommand, loaded only when used.
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading keeps 'kisstime query' from loading the simulator. */

type Command = (args: string[]) => Promise<number>;

const COMMANDS: { [name: string]: { load: () => Command; help: string } } = {
  query: { load: () => require('./query').run, help: 'query HOST[:PORT] [--json]            one polite query' },
  sync: { load: () => require('./sync').run, help: 'sync HOST[:PORT]... [options]          the long-running polite loop' },
  serve: { load: () => require('./serve').run, help: 'serve --listen ADDR:PORT [options]      a policy-enforcing time server' },
  simulate: { load: () => require('./simulate').run, help: 'simulate --devices N --days D --scenario NAME   the fleet simulator' },
  audit: { load: () => require('./audit').run, help: 'audit --cmd TEMPLATE | --listen ADDR:PORT   grade an SNTP client\'s politeness' },
};

/** The package's own version, from the package.json beside dist/. */
function version(): string {
  return (require('../../../../package.json') as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  const command = name ? COMMANDS[name] : undefined;
  if (name === '--version' || name === '-v') {
    process.stdout.write('kisstime ' + version() + '\n');
    return 0;
  }
  if (!command) {
    const usage = 'usage:\n' + Object.keys(COMMANDS).map((k) => '  kisstime ' + COMMANDS[k].help).join('\n') + '\n  kisstime --version\n';
    // Asked for, help is the answer and goes to stdout; a mistake gets it on stderr, naming what was not understood.
    if (name === '--help' || name === '-h') {
      process.stdout.write(usage);
      return 0;
    }
    process.stderr.write((name ? 'kisstime: unknown command ' + JSON.stringify(name) + '\n' : '') + usage);
    return 2;
  }
  let run: Command;
  try {
    run = command.load();
  } catch {
    process.stderr.write('kisstime ' + name + ': not available in this build\n');
    return 2;
  }
  return run(argv.slice(1));
}
