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

export async function main(argv, { ts, s3, eslint }, readFile) {
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(help);
      return 0;
    case 'transpile': {
      const source = await readFile(args[0], 'utf8');
      const out = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      process.stdout.write(out.outputText);
      return 0;
    }
    case 'lint': {
      const source = await readFile(args[0], 'utf8');
      const linter = new eslint.Linter();
      const messages = linter.verify(source, {
        rules: { 'no-unused-vars': 'error', 'no-undef': 'error', semi: ['error', 'always'] },
        languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { console: 'readonly' } },
      });
      for (const m of messages) process.stdout.write(`${args[0]}:${m.line}:${m.column} ${m.ruleId} ${m.message}\n`);
      return messages.length === 0 ? 0 : 1;
    }
    case 's3-request': {
      const request = new s3.GetObjectCommand({ Bucket: args[0], Key: args[1] });
      process.stdout.write(JSON.stringify({ command: request.constructor.name, input: request.input }) + '\n');
      return 0;
    }
    case 'versions':
      process.stdout.write(`typescript ${ts.version}\neslint ${eslint.Linter.version}\n`);
      return 0;
    default:
      process.stderr.write(`demo-cli: unknown command '${command}'\n${help}`);
      return 2;
  }
}
