// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/** Differential cases, batch 12: more probes of file semantics and expansion, all matching BuildKit. */
import { BB, type ConformanceCase } from './kit.js';

export const MORE_CASES_12: ConformanceCase[] = [
  {
    name: 'copy-two-sources-merge',
    dockerfile: `${BB}FROM bb\nCOPY a/ b/ /app/\n`,
    files: { 'a/x/1': '1', 'b/x/2': '2', 'a/same': 'a', 'b/same': 'b' },
  },
  {
    name: 'copy-chmod-replaces-file',
    dockerfile: `${BB}FROM bb\nRUN echo old > /f && chmod 4755 /f && chown 5:5 /f\nCOPY --chmod=600 f /f\n`,
    files: { f: 'new' },
  },
  {
    name: 'copy-from-stage-special-files',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir /d && mkfifo /d/fifo && ln -s fifo /d/l && echo x > /d/f && chmod 1777 /d\nFROM bb\nCOPY --from=s /d /d\n',
  },
  {
    name: 'workdir-relative-to-env',
    dockerfile: `${BB}FROM bb\nENV BASE=/srv\nWORKDIR $BASE\nWORKDIR sub/../app\nWORKDIR ./x\nRUN pwd > /p\n`,
  },
  {
    name: 'global-arg-chain',
    dockerfile:
      'ARG A=1\nARG B=${A}2\nARG C\n' +
      BB +
      'FROM bb\nARG B\nARG C=${B}c\nARG A\nRUN echo "$A $B $C" > /out\nLABEL l="$A-$B-$C"\n',
    buildArgs: { A: '9' },
  },
  {
    name: 'env-quotes-and-modifiers',
    dockerfile:
      BB +
      'FROM bb\nENV A="a b" B=\'c $A\' C=d\\ e D="f\\"g" E=${A:-x} F=${UNSET:-dflt} G=${A:+set} H=${UNSET:+no}\nRUN env | grep -E \'^[A-H]=\' | sort > /env\n',
  },
  {
    name: 'label-expose-from-args',
    dockerfile:
      BB +
      'FROM bb\nARG P=8080\nARG PROTO=udp\nEXPOSE $P/$PROTO ${P}\nLABEL "key with space"="v" k2=${P} multi="line\\\nnext"\n',
  },
  {
    name: 'arg-shadowed-by-env',
    dockerfile: `${BB}FROM bb\nARG X=fromarg\nENV X=fromenv\nRUN echo $X > /x\nARG Y\nENV Z=\${Y:-none}\n`,
    buildArgs: { X: 'cli', Y: 'why' },
  },
  {
    name: 'run-long-names-and-links',
    dockerfile:
      BB +
      'FROM bb\nRUN mkdir -p /dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff && echo x > /dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff/gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg && ln -s /dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff/gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg /longlink && ln /dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff/gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg /hard-long\n',
  },
  {
    name: 'copy-into-sticky-and-replace-owned',
    dockerfile:
      BB +
      'FROM bb\nRUN mkdir -m 1777 /tmpx && echo old > /tmpx/f && chown 9:9 /tmpx/f && chmod 4711 /tmpx/f\nCOPY f /tmpx/f\nCOPY --chown=3:3 --chmod=2750 f /tmpx/g\n',
    files: { f: 'new' },
  },
  {
    name: 'copy-dest-forms',
    dockerfile:
      BB +
      'FROM bb\nWORKDIR /w\nCOPY f .\nCOPY f ./\nCOPY f ./.\nCOPY f ../up\nCOPY f ~x\nCOPY f /abs/./dot/../f2\nENV D=/envd\nCOPY f $D/\n',
    files: { f: 'f' },
  },
  {
    name: 'copy-from-climbing-source',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir -p /a/b && echo 1 > /a/b/f\nFROM bb\nCOPY --from=s /a/../a/b/f /x\nCOPY --from=s ../../a/b /y\n',
  },
  {
    name: 'add-archive-via-linked-dir',
    dockerfile: `${BB}FROM bb\nADD lnk/t.tar /x/\n`,
    files: { lnk: '->arch' },
    prepare: 'mkdir arch s && echo z > s/z && tar -cf arch/t.tar -C s . && rm -rf s',
  },
  {
    name: 'run-type-changes',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir -p /t/dir/in /t/dir2 && echo f > /t/file && echo x > /t/dir/in/x && ln -s file /t/link && echo y > /t/dir2/y\nFROM s\nRUN rm -rf /t/dir && ln -s /etc /t/dir && rm /t/file && mkdir /t/file && echo z > /t/file/z && rm /t/link && echo nowfile > /t/link && rm -rf /t/dir2 && echo plain > /t/dir2\n',
  },
  {
    name: 'run-unreadable-dir-and-hardlinks',
    dockerfile:
      BB +
      'FROM bb\nRUN mkdir -p /u/locked && echo s > /u/locked/secret && chmod 000 /u/locked && echo a > /u/a && ln /u/a /u/b && ln /u/a /u/c\n',
  },
];
