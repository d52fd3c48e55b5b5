import { processIo } from '../../../lib/cli/io';

/** Streams that record what is written to them. */
function recordingStreams(stderrIsTTY: boolean) {
  const written = { stdout: '', stderr: '' };
  return {
    written,
    streams: {
      stdout: {
        write: (text: string) => {
          written.stdout += text;
          return true;
        },
      },
      stderr: {
        isTTY: stderrIsTTY,
        write: (text: string) => {
          written.stderr += text;
          return true;
        },
      },
    },
  };
}

describe('processIo', () => {
  it('writes lines to stdout and stderr', () => {
    // prepare
    const { written, streams } = recordingStreams(false);
    const io = processIo(streams);

    // act
    io.out('result');
    io.err('lethe: problem');

    // assess
    expect(written).toEqual({ stdout: 'result\n', stderr: 'lethe: problem\n' });
  });

  it('offers a progress line only when stderr is a terminal', () => {
    // prepare
    const piped = processIo(recordingStreams(false).streams);
    const { written, streams } = recordingStreams(true);
    const terminal = processIo(streams);

    // act
    terminal.progress?.('ad-events segment 1/4: 1 page(s)');
    terminal.progress?.('ad-events segment 1/4: 2 page(s) — done', true);

    // assess
    expect(piped.progress).toBeUndefined();
    expect(written).toEqual({
      stdout: '',
      stderr:
        '\r\u001b[2Kad-events segment 1/4: 1 page(s)\r\u001b[2Kad-events segment 1/4: 2 page(s) — done\n',
    });
  });
});
