// Types of cli-body.mjs for the TypeScript variant of the demo (ts/src/main.ts).
export function main(argv: string[], modules: { ts: unknown; s3: unknown; eslint: unknown }): Promise<number>;
