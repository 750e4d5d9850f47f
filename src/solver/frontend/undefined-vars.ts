import { expandInstruction, type Instruction, suggest, type Warning, warning } from '../../parser/index.js';
import { envLookup, type StageState } from './stage-state.js';

// BuildKit's UndefinedVar check, made at dispatch (reportUnmatchedVariables): a word of an
// instruction BuildKit expands names a variable that is neither in the stage's environment nor a
// declared ARG (one without a value counts as declared); the suggestion comes from the global ARGs
// and the environment.

const EXPANDED = new Set([
  'ADD',
  'COPY',
  'ENV',
  'EXPOSE',
  'LABEL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

export function undefinedVars(
  st: StageState,
  ins: Instruction,
  globals: Iterable<string>,
  escapeToken: '\\' | '`',
): Warning[] {
  if (!EXPANDED.has(ins.kind)) return [];
  let unmatched: Set<string>;
  try {
    unmatched = expandInstruction(ins, envLookup(st), { escapeToken }).unmatched;
  } catch {
    return []; // the dispatch reports a bad substitution itself
  }
  const declared = new Set(st.buildArgs.map((a) => a.key));
  const known = [...globals, ...st.env.map(([k]) => k)];
  return [...unmatched]
    .filter((name) => !declared.has(name))
    .map((name) => {
      const s = suggest(name, known);
      return warning(
        'UndefinedVar',
        `Usage of undefined variable '$${name}'${s ? ` (did you mean $${s}?)` : ''}`,
        ins.range,
      );
    });
}
