/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile words, not templates */
// Hand-written probes of common Dockerfile forms for differential.ts (`probe` family): each run
// takes the next one, so `differential.ts probe 0 N` builds the first N.
import { BB, CONTEXT } from './families-fs.js';
import type { ConformanceCase } from './kit.js';

const PASSWD_LINES =
  "RUN printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000::/home/app:/bin/sh\\nnobody:x:65534:65534::/:/bin/sh\\n' > /etc/passwd && printf 'root:x:0:\\napp:x:1000:\\nnogroup:x:65534:\\n' > /etc/group";

const PROBES: Partial<ConformanceCase>[] = [
  {
    dockerfile: `${BB}FROM bb\n${PASSWD_LINES} && mkdir -m 1777 /tmp\nWORKDIR /app\nCOPY --chown=app:app . .\nUSER app\nRUN id > /tmp/id 2>&1; touch /app/made-by-app; ls -ln /app | awk '{print $1,$3,$4,$5,$NF}' > /tmp/ls\n`,
    files: { ...CONTEXT, '.dockerignore': '**/*.md\n!y.md\nd2\n' },
  },
  {
    dockerfile: `${BB}FROM bb\nARG TARGETPLATFORM\nARG TARGETOS\nARG TARGETARCH\nARG BUILDPLATFORM\nRUN echo "$TARGETPLATFORM $TARGETOS $TARGETARCH $BUILDPLATFORM [$TARGETVARIANT]" > /plat\n`,
  },
  {
    dockerfile: `${BB}FROM bb\nSHELL ["/bin/sh", "-ec"]\nRUN echo "$0 $-" > /shell\nCMD echo hi\nENTRYPOINT echo ep\n`,
  },
  {
    dockerfile: `${BB}FROM bb\nRUN mkdir -p /a/b && echo 1 > /a/b/f && ln -s /a/b /l && ln /a/b/f /hard\nRUN rm -rf /a && mkdir /a && echo 2 > /a/new\nRUN rm /l /hard\n`,
  },
  {
    dockerfile: `${BB}FROM bb AS build\nWORKDIR /src\nCOPY d1 ./d1\nRUN tar -cf /out.tar d1 && mkdir -p /dist && cp -a d1 /dist/\nFROM bb\nCOPY --from=build /dist/ /opt/dist/\nCOPY --from=build /out.tar /\nRUN ls -laR /opt > /listing\n`,
    files: CONTEXT,
  },
  {
    dockerfile: `${BB}FROM bb\n${PASSWD_LINES}\nRUN mkdir -p /data && chown app:app /data\nVOLUME /data\nRUN echo after-volume > /data/f; echo x > /outside\nUSER nobody\nWORKDIR /home/nobody/w\nRUN pwd > /tmp/pwd 2>&1 || true\n`,
  },
  {
    dockerfile: `${BB}FROM bb\nADD --chown=7:8 t.tar /x/\nADD t.tar.gz /y/\nCOPY t.tar /z/\n`,
    prepare:
      'mkdir -p s/d && echo a > s/a && echo b > s/d/b && chmod 600 s/a && tar -cf t.tar -C s . && tar -czf t.tar.gz -C s . && rm -rf s',
  },
  {
    dockerfile: `${BB}FROM bb\nENV A=1 B="two words" C=\${A:+set}\nENV D=$A$B\nLABEL "com.example.vendor"="ACME" version="1.0" desc="multi\\\n word"\nEXPOSE 80 443/tcp 53/udp\nSTOPSIGNAL SIGTERM\nHEALTHCHECK --interval=5m --timeout=3s CMD wget -q localhost || exit 1\n`,
  },
  {
    dockerfile: `${BB}FROM bb\nRUN --mount=type=cache,target=/root/.cache echo hit >> /root/.cache/log && cp /root/.cache/log /log\nRUN --mount=type=tmpfs,target=/tmp echo t > /tmp/t && ls /tmp > /tmpls\n`,
  },
  {
    dockerfile: `${BB}FROM bb\nWORKDIR /w\nCOPY a b ./\nCOPY d1 d1/\nCOPY d1/* flat/\nCOPY *.txt *.md docs/\nCOPY ["d2", "d2 copy/"]\n`,
    files: CONTEXT,
  },
  {
    dockerfile: `${BB}FROM bb\nRUN mkdir /m && chmod 1777 /m && touch /m/f && chmod 4755 /m/f && chown 1:2 /m/f\nRUN chmod 2755 /m && mkdir /m/sub\nRUN mkfifo /m/fifo\n`,
  },
  {
    dockerfile: `${BB}FROM bb\nARG V=1\nRUN echo $V > /v1\nARG V=2\nRUN echo $V > /v2\nFROM bb AS second\nRUN echo "[$V]" > /v3\n`,
    buildArgs: { V: 'cli' },
  },
  {
    dockerfile: `${BB}FROM bb AS deps\nWORKDIR /app\nCOPY package*.json ./\nRUN mkdir node_modules && echo dep > node_modules/x\nFROM bb\nWORKDIR /app\nCOPY --from=deps /app/node_modules ./node_modules\nCOPY . .\nEXPOSE 3000\nUSER 1000\nCMD ["node", "index.js"]\n`,
    files: {
      'package.json': '{}',
      'index.js': 'x',
      'node_modules/junk': 'j',
      'src/a.js': 'a',
      '.dockerignore': 'node_modules\n*.log\n',
      'debug.log': 'l',
    },
  },
  { dockerfile: `${BB}FROM bb\nCOPY nomatch* /x/\n`, files: { a: 'a' } },
  { dockerfile: `${BB}FROM bb\nCOPY a nomatch* /x/\n`, files: { a: 'a' } },
  { dockerfile: `${BB}FROM bb\nCOPY go.mod go.sum ./\n`, files: { 'go.mod': 'm' } },
  {
    dockerfile: `${BB}FROM bb\nARG APP_HOME=/opt/app\nENV HOME=$APP_HOME PATH=$APP_HOME/bin:$PATH\nWORKDIR $HOME\nCOPY --chown=65534:65534 bin/ bin/\nRUN ls -ln bin > /o && echo $PATH >> /o\n`,
    files: { 'bin/tool': '#!/bin/sh\necho t\n' },
  },
  {
    dockerfile: `${BB}FROM bb AS base\nRUN echo base > /b\nFROM base AS test\nRUN echo test > /t\nFROM base AS final\nCOPY --from=test /t /t\nRUN cat /b /t > /bt\n`,
    target: 'final',
  },
  {
    dockerfile: `${BB}FROM bb\nRUN mkdir /real && ln -s /real /w\nWORKDIR /w/sub\nRUN pwd > p\nCOPY a .\nWORKDIR ../up\nRUN pwd > /p2\n`,
    files: { a: 'a' },
  },
  {
    dockerfile: `${BB}FROM bb\nCOPY --from=localhost:5000/busybox:latest /bin/busybox /bb\nCOPY --from=bb /bin/sh /sh-link\n`,
  },
  {
    dockerfile: `${BB}FROM bb\nADD a.gz plain.gz /x/\nCOPY a.gz /y/\n`,
    prepare: 'echo hello | gzip > a.gz && echo raw > plain.gz',
  },
  {
    dockerfile: `${BB}FROM bb\nRUN --network=none cat /etc/hosts > /h; ip link 2>/dev/null | grep -c : > /links || true\n`,
  },
  {
    dockerfile: `${BB}FROM bb\n${PASSWD_LINES}\nRUN mkdir -p /home/app && chown app /home/app\nUSER app:nogroup\nRUN id > /home/app/id\nUSER 1000:65534\nRUN id > /home/app/id2\n`,
  },
];

let next = 0;

/** The next probe (the random source is not used: the list is walked in order). */
export function probeCase(): Partial<ConformanceCase> {
  const p = PROBES[next++ % PROBES.length]!;
  return { files: {}, ...p };
}
