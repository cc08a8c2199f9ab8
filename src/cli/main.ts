// Entry of the `coldstart` command: global flags and dispatch; subcommands load only when run.
import { VERSION } from '../generated/version.js';
import { commands, type CommandName } from './commands.js';
import { isUsageError, exitCodes } from './usage-error.js';

function helpText(): string {
  const lines = [
    `coldstart ${VERSION}: make Node.js programs start fast`,
    '',
    'Usage: coldstart <command> [options]',
    '',
    'Commands:',
  ];
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  for (const [name, command] of Object.entries(commands)) {
    lines.push(`  ${name.padEnd(width)}  ${command.summary}`);
  }
  lines.push(
    '',
    'Options:',
    '  -h, --help     show this help, or a command\'s help: coldstart <command> --help',
    '  -v, --version  print the version',
    '',
    'Activate in a program: node --import coldstart/register app.js',
    '                   or: node --require coldstart/register app.cjs',
    'Environment: COLDSTART_EAGER=1 loads lazy modules at declaration; COLDSTART_DEBUG=1 prints debug lines.',
  );
  return lines.join('\n') + '\n';
}

/**
 * Runs the CLI with `argv` (without node and script) and resolves to the exit code, or to
 * undefined when a program now runs in this process (`coldstart profile -- node app.js`).
 */
export async function main(argv: string[]): Promise<number | undefined> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    if (first === 'help' && rest[0] !== undefined) return main([rest[0], '--help']);
    process.stdout.write(helpText());
    return first === undefined ? exitCodes.usage : exitCodes.ok;
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return exitCodes.ok;
  }
  if (!Object.hasOwn(commands, first)) {
    const hint = first.startsWith('-') ? 'options go after a command' : 'run `coldstart --help` for the list';
    process.stderr.write(`coldstart: unknown command '${first}' (${hint})\n`);
    return exitCodes.usage;
  }
  const command = commands[first as CommandName];
  if (rest.includes('--help') || rest.includes('-h')) {
    const dash = rest.indexOf('--');
    const helpAt = Math.max(rest.indexOf('--help'), rest.indexOf('-h'));
    if (dash === -1 || helpAt < dash) {
      process.stdout.write(command.usage + '\n');
      return exitCodes.ok;
    }
  }
  try {
    const loaded = await command.load();
    return await loaded.run(rest);
  } catch (error) {
    if (isUsageError(error)) {
      process.stderr.write(`coldstart ${first}: ${error.message}\n`);
      // A command's whole usage text is its --help page: the synopsis line says enough here.
      const hint = error.hint?.startsWith('Usage: ') === true ? `${error.hint.split('\n', 1)[0]!.slice('Usage: '.length)}  (coldstart ${first} --help for more)` : error.hint;
      if (hint) process.stderr.write(`hint: ${hint}\n`);
      return exitCodes.usage;
    }
    throw error;
  }
}
