// ANSI colour for the terminal, and only there: on when stdout is a TTY, NO_COLOR is unset (or
// empty) and TERM is not "dumb"; FORCE_COLOR (any value but "0" or "false") turns it on anywhere,
// as in Node itself. JSON output never calls this. No dependency.

export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

const CODES: Readonly<Record<Colour, [number, number]>> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  bold: [1, 22],
  dim: [2, 22],
};

export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force.toLowerCase() !== 'false') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** `text` wrapped in the colour's escape codes, or as it is when colour is off (or null). */
export function paint(text: string, colour: Colour | null | undefined, on: boolean): string {
  if (!on || !colour || text === '') return text;
  const [open, close] = CODES[colour];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}
