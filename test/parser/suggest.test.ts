import { describe, expect, it } from 'vitest';
import { toStages } from '../../src/parser/index.js';

const error = (text: string) => {
  try {
    toStages(text);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('did-you-mean suggestions', () => {
  it.each([
    ['FROM a\nRUNN x\n', 'unknown instruction: RUNN (did you mean RUN?)'],
    ['FROM a\nCOPPY a b\n', 'unknown instruction: COPPY (did you mean COPY?)'],
    ['FROM a\nWROKDIR /x\n', 'unknown instruction: WROKDIR (did you mean WORKDIR?)'],
    ['FROM a\nENTRYPIONT x\n', 'unknown instruction: ENTRYPIONT (did you mean ENTRYPOINT?)'],
    ['FROM a\nXYZZY x\n', 'unknown instruction: XYZZY'],
    ['FROM a\nCOPY --form=b a b\n', 'unknown flag: form (did you mean from?)'],
    ['FROM a\nCOPY --FROM=b a b\n', 'unknown flag: FROM (did you mean from?)'],
    ['FROM a\nCOPY --chmode=644 a b\n', 'unknown flag: chmode (did you mean chmod?)'],
    ['FROM a\nRUN --mnt=type=cache,target=/x ls\n', 'unknown flag: mnt'],
    ['FROM a\nRUN --networks=none ls\n', 'unknown flag: networks (did you mean network?)'],
  ])('%j', (text, message) => {
    expect(error(text)).toBe(message);
  });
});
