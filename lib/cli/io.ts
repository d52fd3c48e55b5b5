/** Where the CLI writes; injectable so tests run commands in-process. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /**
   * True when `out` is a terminal a person reads, not a file or a pipe: only there does a command
   * show what was typed back, such as the subject's identities as they were normalised.
   */
  terminal?: boolean;
  /**
   * A live status line that each call rewrites; `final` leaves it standing and moves on.
   * Present only where someone watches (a terminal), so commands show progress only then.
   */
  progress?(line: string, final?: boolean): void;
}

/** The streams the process io writes to; `isTTY` decides whether progress is shown. */
export interface CliStreams {
  stdout: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };
  stderr: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };
}

/** The CLI's io on the process streams, with a progress line on stderr when it is a terminal. */
export function processIo(streams: CliStreams = process): CliIo {
  const { stdout, stderr } = streams;
  return {
    out: (text) => stdout.write(`${text}\n`),
    err: (text) => stderr.write(`${text}\n`),
    ...(stdout.isTTY === true ? { terminal: true } : {}),
    ...(stderr.isTTY === true
      ? {
          // carriage return and erase-line: the next update overwrites this one in place
          progress: (line: string, final?: boolean) => stderr.write(`\r\u001b[2K${line}${final ? '\n' : ''}`),
        }
      : {}),
  };
}
