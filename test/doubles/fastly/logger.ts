/** Test double of `fastly:logger`: lines per endpoint, as Viceroy would print them. */
export const loggedLines: { endpoint: string; message: string }[] = [];

export class Logger {
  constructor(private readonly name: string) {}
  log(message: unknown): void {
    loggedLines.push({ endpoint: this.name, message: String(message) });
  }
}

export function configureConsole(_opts: { prefixing?: boolean; stderr?: boolean }): void {}
