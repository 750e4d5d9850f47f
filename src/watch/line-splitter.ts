/** Splits a byte stream into lines for prefixed output; a partial last line waits for its newline. */
export class LineSplitter {
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString();
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    // A program that never writes a newline must not grow this without bound.
    if (this.rest.length > 64 * 1024) {
      lines.push(this.rest);
      this.rest = '';
    }
    for (const l of lines) this.onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
  }

  flush(): void {
    if (this.rest !== '') this.onLine(this.rest);
    this.rest = '';
  }
}
