/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell words, not templates */
import { describe, expect, it } from 'vitest';
import { expandInstruction, type Instruction, lookupFrom, toStages } from '../../src/parser/index.js';

const env = lookupFrom({ V: '1.2', DIR: '/app', U: 'app', PORTS: '80 443', SIG: 'SIGTERM', SPACED: 'a b' });

function instructions(body: string): Instruction[] {
  return toStages(`FROM x\n${body}`).value.stages[0]!.instructions;
}

describe('expandInstruction', () => {
  it('expands the instructions BuildKit expands', () => {
    const got = instructions(
      [
        'COPY --chown=$U --from=b$V "$DIR/a" ${DIR}/c /dst/$V/',
        'ADD --chmod=${V%.*}44 $DIR/x /y',
        'ENV A=$V "B$V"="q $V" C=\'$V\'',
        'LABEL v=$V',
        'EXPOSE $PORTS 8$V/tcp',
        'VOLUME $DIR "/d$V"',
        'USER $U:$U',
        'WORKDIR $DIR/$SPACED',
        'STOPSIGNAL $SIG',
      ].join('\n'),
    ).map((i) => expandInstruction(i, env).value);
    expect(got[0]).toMatchObject({
      sources: ['/app/a', '/app/c'],
      dest: '/dst/1.2/',
      chown: 'app',
      from: 'b1.2',
    });
    expect(got[1]).toMatchObject({ sources: ['/app/x'], chmod: '144' });
    expect(got[2]).toMatchObject({
      pairs: [
        { key: 'A', value: '1.2' },
        { key: 'B1.2', value: 'q 1.2' },
        { key: 'C', value: '$V' },
      ],
    });
    expect(got[3]).toMatchObject({ pairs: [{ key: 'v', value: '1.2' }] });
    expect(got[4]).toMatchObject({ ports: ['80', '443', '81.2/tcp'] });
    expect(got[5]).toMatchObject({ paths: ['/app', '/d1.2'] });
    expect(got[6]).toMatchObject({ user: 'app:app' });
    expect(got[7]).toMatchObject({ path: '/app/a b' });
    expect(got[8]).toMatchObject({ signal: 'SIGTERM' });
  });

  it('shell-form COPY splits on blanks before expansion, like BuildKit (JSON form is for spaces)', () => {
    expect(() => toStages('FROM x\nCOPY "a b" /x\n')).toThrow(/line|matching double-quote/);
    const [good] = instructions('COPY ["a b", "/x"]');
    expect(expandInstruction(good!, env).value).toMatchObject({ sources: ['a b'], dest: '/x' });
  });

  it('leaves RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD words to the shell', () => {
    const list = instructions(
      'RUN echo $V\nCMD echo $V\nENTRYPOINT ["echo", "$V"]\nHEALTHCHECK CMD test $V\nONBUILD COPY $V /x\nSHELL ["sh", "-c"]',
    );
    for (const ins of list) {
      const r = expandInstruction(ins, env);
      expect(r.value).toEqual(ins);
      expect(r.unmatched.size).toBe(0);
    }
  });

  it('expands RUN --mount values', () => {
    const [run] = instructions('RUN --mount=type=cache,target=$DIR/cache,id=c$V ls');
    const r = expandInstruction(run!, env).value;
    expect(r.kind === 'RUN' && r.mounts[0]).toMatchObject({ target: '/app/cache', id: 'c1.2' });
    expect(run!.kind === 'RUN' && run!.mounts[0]!.target).toBe('$DIR/cache');
  });

  it('reports undefined variables as UndefinedVar warnings, with a suggestion', () => {
    const [copy] = instructions('COPY $DRI/a $NOPE /x');
    const r = expandInstruction(copy!, env, { known: ['DIR', 'V'] });
    expect([...r.unmatched].sort()).toEqual(['DRI', 'NOPE']);
    expect(r.warnings.map((w) => w.message)).toEqual([
      "Usage of undefined variable '$DRI' (did you mean $DIR?)",
      "Usage of undefined variable '$NOPE'",
    ]);
    expect(r.warnings[0]!.code).toBe('UndefinedVar');
  });

  it('expands COPY heredoc files unless the delimiter is quoted, keeping quotes', () => {
    const [a, b] = instructions("COPY <<EOF /a\necho \"$V\" '$U' \\$DIR\nEOF\nCOPY <<'EOF' /b\n$V\nEOF");
    const ea = expandInstruction(a!, env).value;
    const eb = expandInstruction(b!, env).value;
    expect(ea.kind === 'COPY' && ea.heredocs[0]!.content).toBe('echo "1.2" \'app\' $DIR\n');
    expect(eb.kind === 'COPY' && eb.heredocs[0]!.content).toBe('$V\n');
  });

  it('honours the backtick escape', () => {
    const [wd] = toStages('# escape=`\nFROM x\nWORKDIR C:\\a`$V\\$V\n').value.stages[0]!.instructions;
    expect(expandInstruction(wd!, env, { escapeToken: '`' }).value).toMatchObject({ path: 'C:\\a$V\\1.2' });
  });
});
