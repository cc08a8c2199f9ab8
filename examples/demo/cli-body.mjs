// The demo CLI's behaviour, shared by every variant: each entry file hands it the three heavy
// modules (typescript, @aws-sdk/client-s3, eslint) loaded eagerly or lazily.

const help = `demo-cli: a small tool built on three heavy packages

Usage: demo-cli <command> [args]

Commands:
  transpile <file.ts>       print the JavaScript TypeScript makes of a file
  lint <file.js>            lint a file with ESLint's recommended-style rules
  s3-request <bucket> <key> show the S3 GetObject request the AWS SDK would build
  versions                  print the versions of the three packages

Options:
  -h, --help                show this help
`;

// Output goes straight to file descriptor 1. The first touch of `process.stdout` builds a stream
// and, when stdout is a pipe, loads Node's net and stream modules: about 9 % of `node -e 0` on
// Node 20 (instruction counts under valgrind), more than a lazily written CLI spends on anything
// else before printing its help. Every variant shares this file, so the comparison stays fair.
const { writeSync } = process.getBuiltinModule('node:fs');

function print(text) {
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
  } catch (error) {
    // A non-blocking stdout that is full: let Node's stream queue the rest.
    if (error?.code !== 'EAGAIN') throw error;
    process.stdout.write(rest);
  }
}

// Files are read with node:fs/promises fetched when a command needs it: on Node 22 and later that
// module is not in Node's start-up snapshot, and loading it costs about a quarter of `node -e 0`.
const readFile = (file) => process.getBuiltinModule('node:fs/promises').readFile(file, 'utf8');

export async function main(argv, { ts, s3, eslint }) {
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
      print(help);
      return 0;
    case 'transpile': {
      const source = await readFile(args[0]);
      const out = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      print(out.outputText);
      return 0;
    }
    case 'lint': {
      const source = await readFile(args[0]);
      const linter = new eslint.Linter();
      const messages = linter.verify(source, {
        rules: { 'no-unused-vars': 'error', 'no-undef': 'error', semi: ['error', 'always'] },
        languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { console: 'readonly' } },
      });
      for (const m of messages) print(`${args[0]}:${m.line}:${m.column} ${m.ruleId} ${m.message}\n`);
      return messages.length === 0 ? 0 : 1;
    }
    case 's3-request': {
      const request = new s3.GetObjectCommand({ Bucket: args[0], Key: args[1] });
      print(JSON.stringify({ command: request.constructor.name, input: request.input }) + '\n');
      return 0;
    }
    case 'versions':
      print(`typescript ${ts.version}\neslint ${eslint.Linter.version}\n`);
      return 0;
    default:
      process.stderr.write(`demo-cli: unknown command '${command}'\n${help}`);
      return 2;
  }
}
