// A UserError is bad input (a file, an option, a value) described in one line.
// The library throws it; the CLI prints "tda: <message>" and exits non-zero,
// never a stack trace.
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}
