/** Keeps the last `max` lines of a stream of chunks (stdout and stderr interleaved as received). */
export class OutputTail {
  private lines: string[] = [];
  private partial = '';

  constructor(
    private readonly max = 20,
    private readonly maxLineLength = 1000,
  ) {}

  push(chunk: Buffer): void {
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = (parts.pop() ?? '').slice(-this.maxLineLength);
    for (const p of parts) this.lines.push(p.replace(/\r$/, '').slice(0, this.maxLineLength));
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  get(): string[] {
    const all = this.partial ? [...this.lines, this.partial] : [...this.lines];
    return all.slice(-this.max);
  }
}
