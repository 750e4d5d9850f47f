// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/** Differential cases, batch 13: what RUN bind mounts show; COPY flags and dest forms; config forms. */
import { BB, type ConformanceCase, PASSWD } from './kit.js';

const STAT = "stat -c '%n %u:%g %a %F'"; // no %s: a dir's size depends on the filesystem

export const MORE_CASES_13: ConformanceCase[] = [
  {
    // BuildKit mounts the context it was sent: .dockerignore applied, every id reset to 0:0.
    name: 'run-bind-context-ignored-and-owners',
    dockerfile:
      BB +
      'FROM bb\n' +
      `RUN --mount=type=bind,target=/ctx cd /ctx && find . | sort | xargs ${STAT} > /all\n` +
      `RUN --mount=type=bind,source=sub,target=/s cd /s && find . | sort | xargs ${STAT} > /sub\n` +
      `RUN --mount=type=bind,source=sub/b,target=/f ${STAT} /f > /file\n` +
      'RUN --mount=type=bind,source=sub,target=/s,rw echo x > /s/new && rm /s/b && ls /s > /rw\n',
    files: {
      'a.txt': 'a',
      'secret.txt': 's',
      'sub/b': 'bb',
      'sub/deep/c': 'c',
      '.dockerignore': 'secret.txt\n**/c\n',
    },
    prepare: 'chown 1234:1234 a.txt sub/b && chown 5:6 sub && chmod 640 sub/b && chmod 750 sub',
  },
  {
    name: 'run-bind-stage-rw-and-linked-source',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir -p /d/sub && echo 1 > /d/f && chown 7:8 /d/f && chmod 600 /d/f && ln -s sub /d/l\n' +
      `FROM bb\nRUN --mount=type=bind,from=s,source=/d,target=/m,rw cd /m && echo new > n && rm f && find . | sort | xargs ${STAT} > /o\n` +
      `RUN --mount=type=bind,from=s,source=/d/l,target=/m2 ls -a /m2 > /o2 && ${STAT} /m2 >> /o2\n`,
  },
  {
    name: 'run-bind-context-symlink-source',
    dockerfile:
      BB +
      `FROM bb\nRUN --mount=type=bind,source=link,target=/m cd /m && find . | sort | xargs ${STAT} > /o\n` +
      `RUN --mount=type=bind,source=link/f,target=/m2 ${STAT} /m2 > /o2\n`,
    files: { 'sub/f': 'ff', link: '->sub' },
  },
  {
    name: 'run-bind-context-rw-discarded',
    dockerfile:
      BB +
      'FROM bb\nRUN --mount=type=bind,target=/m,rw echo x > /m/new && rm /m/a && ls /m > /o\nRUN --mount=type=bind,target=/m ls /m > /o2\n',
    files: { a: 'a', b: 'b' },
  },
  {
    name: 'run-cache-mount-from-stage',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir /c && echo seed > /c/seed\nFROM bb\nRUN --mount=type=cache,from=s,source=/c,target=/cache,id=x1 ls /cache > /o\n',
  },
  {
    name: 'copy-from-stage-through-linked-dir',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir -p /real/in && echo 1 > /real/in/f && ln -s real /lnk\nFROM bb\nCOPY --from=s /lnk /a\nCOPY --from=s /lnk/in /b\nCOPY --from=s /lnk/ /c/\n',
  },
  {
    name: 'run-bind-context-dir-modes',
    dockerfile: `${BB}FROM bb\nRUN --mount=type=bind,source=d,target=/m cd /m && find . | sort | xargs ${STAT} > /o\n`,
    files: { 'd/x': 'x', 'd/e/y': 'y' },
    prepare: 'chmod 700 d/e && chmod 4755 d/x',
  },
  {
    name: 'chown-chmod-dir',
    dockerfile:
      BB +
      'FROM bb\n' +
      PASSWD +
      'COPY --chown=app:staff --chmod=750 d /d\nCOPY --chown=1:2 --chmod=4711 f /f\n',
    files: { 'd/x': 'x', 'd/s/y': 'y', f: 'f' },
  },
  {
    name: 'copy-dotdot-dest',
    dockerfile: `${BB}FROM bb\nCOPY f /x/../y\nCOPY f /a/./b/\nWORKDIR /w\nCOPY f ../up\n`,
    files: { f: 'f' },
  },
  {
    name: 'copy-onto-file-symlink',
    dockerfile:
      BB +
      'FROM bb\n' +
      'RUN echo old > /target && ln -s /target /lnk && ln -s /nowhere /dangling\nCOPY f /lnk\nCOPY f /dangling\n',
    files: { f: 'new' },
  },
  {
    name: 'chmod-root-and-touch',
    dockerfile: `${BB}FROM bb\nRUN chmod 700 / && mkdir -p /m && touch -d 2001-01-01 /m\nRUN chmod 755 /\n`,
  },
  {
    name: 'copy-from-empty-scratch',
    dockerfile: `${BB}FROM scratch AS e\nFROM bb\nCOPY --from=e / /empty/\nRUN ls -la /empty | wc -l > /n\n`,
  },
  { name: 'stopsignal-forms', dockerfile: `${BB}FROM bb\nSTOPSIGNAL 9\n` },
  { name: 'stopsignal-name', dockerfile: `${BB}FROM bb\nSTOPSIGNAL SIGRTMIN+3\n` },
  { name: 'expose-forms', dockerfile: `${BB}FROM bb\nARG P=9000\nEXPOSE 80/udp 8080 $P/tcp 443/TCP\n` },
  {
    name: 'label-multiline',
    dockerfile: `${BB}FROM bb\nLABEL a="x \\\n  y" b=c\\ d "e f"=g\nLABEL a=override\n`,
  },
  {
    name: 'env-path-extend',
    dockerfile: `${BB}FROM bb\nENV PATH=$PATH:/opt/bin A=\${PATH}\nRUN echo "$PATH|$A" > /p\n`,
  },
  {
    name: 'user-group-numeric-name',
    dockerfile:
      BB +
      'FROM bb\n' +
      PASSWD +
      'RUN mkdir -m 777 /out\nUSER app:0\nRUN id > /out/id1\nUSER 1000:staff\nRUN id > /out/id2\nUSER root\n',
  },
  {
    name: 'workdir-created-perms',
    dockerfile:
      BB +
      'FROM bb\n' +
      PASSWD +
      'RUN mkdir -m 777 /out\nUSER app\nWORKDIR /home/app/deep/er\nRUN touch f && stat -c "%n %u:%g %a" /home/app /home/app/deep /home/app/deep/er > /out/s\n',
  },
  {
    name: 'add-multiple-archives',
    dockerfile: `${BB}FROM bb\nADD a.tar b.tar.gz /x/\n`,
    prepare:
      'mkdir s && echo a > s/a && tar -cf a.tar -C s a && echo b > s/b && tar -czf b.tar.gz -C s b && rm -rf s',
  },
  {
    // BuildKit copies each wildcard match to the destination in turn: no trailing `/`, no directory
    name: 'copy-wildcard-several-to-one-path',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir /s && echo 1 > /s/1.txt && echo 2 > /s/2.txt\n' +
      'FROM bb\nCOPY *.txt /t/f\nCOPY --from=s /s/*.txt /u/g\nCOPY a[df] /v/x\n',
    files: { 'a.txt': 'A', 'b.txt': 'B', 'ad/in': 'in', af: 'F' },
  },
  {
    // Go's omitempty: empty Cmd, Entrypoint and ExposedPorts are not in BuildKit's config JSON
    name: 'config-empty-lists-omitted',
    dockerfile:
      BB +
      'FROM bb AS two\nENTRYPOINT ["x"]\nCMD []\n' +
      'FROM two\nARG E\nEXPOSE $E\nVOLUME ["/v"]\nCMD []\nLABEL a=b\n',
  },
  {
    name: 'config-empty-entrypoint-omitted',
    dockerfile: `${BB}FROM bb\nCMD ["y"]\nENTRYPOINT []\nEXPOSE $NOPE\n`,
  },
  {
    // BuildKit keys a cache mount by id and the ref it starts from: uid/gid/mode each make another
    // cache (nothing written to the plain one shows in the others), a source ignores them
    name: 'run-cache-mount-keyed-by-settings',
    dockerfile:
      BB +
      'FROM bb\n' +
      'RUN --mount=type=cache,target=/m,id=ck-a touch /m/a\n' +
      `RUN --mount=type=cache,target=/m,id=ck-a,mode=0700 (ls -an /m | sed 1d | awk '{print $1,$3,$4,$NF}'; stat -c '%a %u:%g' /m) > /o1\n` +
      'RUN --mount=type=cache,target=/c,id=ck-b,uid=7,gid=8 touch /c/b\n' +
      `RUN --mount=type=cache,target=/m,id=ck-b (ls -an /m | sed 1d | awk '{print $1,$3,$4,$NF}'; stat -c '%a %u:%g' /m) > /o2\n` +
      `RUN --mount=type=cache,target=/m,id=ck-b,uid=7,gid=8 (ls -an /m | sed 1d | awk '{print $1,$3,$4,$NF}') > /o3\n`,
  },
  {
    // BuildKit sorts a RUN's mounts by target: the bind at /a/b lands on the tmpfs at /a
    name: 'run-mount-nested-targets',
    dockerfile:
      BB +
      'FROM bb\n' +
      'RUN --mount=type=bind,source=d,target=/a/b --mount=type=tmpfs,target=/a (ls /a /a/b; cat /a/b/q) > /o 2>&1\n' +
      'RUN --mount=type=bind,source=d,target=/m/x/y --mount=type=cache,target=/m/x,id=nested-t --mount=type=tmpfs,target=/m ls -R /m > /o2 2>&1\n',
    files: { 'd/q': 'q' },
  },
  {
    // GNU tar (`ustar  ` magic) headers carry device numbers too: node-tar reads them only for
    // POSIX ustar, so the char device was made as c 0 0 (a whiteout to overlayfs: mknod failed)
    name: 'add-archive-gnu-devices',
    // A device's major and minor, a file's size; never the month (the files are made at test time).
    dockerfile: `${BB}FROM bb\nADD t.tar /x/\nRUN ls -ln /x | sed 1d | awk '{ if ($1 ~ /^[bc]/) print $1,$5,$6,$NF; else print $1,$5,$NF }' > /o\n`,
    prepare:
      'mkdir s && mkfifo s/fifo && mknod s/null c 1 3 && echo f > s/file && tar --format=gnu -cf t.tar -C s . && rm -rf s',
  },
  {
    // GNU tar --sparse --format=posix (PAX sparse 1.0): Go's archive/tar expands it
    name: 'add-archive-sparse',
    dockerfile: `${BB}FROM bb\nADD t.tar /x/\n`,
    prepare:
      'mkdir s && truncate -s 300000 s/sp && printf mid | dd of=s/sp bs=1 seek=150000 conv=notrunc 2>/dev/null && tar --sparse --format=posix -cf t.tar -C s . && rm -rf s',
  },
  {
    // fsutil's DiskWriter receives a context socket as an empty file with its mode; a FIFO is not copied
    name: 'copy-context-socket-and-fifo',
    dockerfile: `${BB}FROM bb\nCOPY . /c/\nRUN --mount=type=bind,target=/m ls -ln /m | sed 1d | awk '{print $1,$5,$NF}' > /o\n`,
    files: { f: 'f' },
    prepare:
      'python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\'sock\')" && chmod 750 sock && mkfifo fifo',
  },
  {
    // A hard link entry's mode and owner go to the inode it shares with its target (moby's
    // createTarFile), except a symlink's mode
    name: 'add-archive-hardlink-mode',
    dockerfile: `${BB}FROM bb\nADD t.tar /x/\n`,
    prepare: `python3 - <<'EOF'
import tarfile, io
t = tarfile.open('t.tar', 'w')
def add(name, kind, mode, uid, link=''):
    i = tarfile.TarInfo(name)
    i.type, i.mode, i.uid, i.gid, i.linkname = kind, mode, uid, uid, link
    i.size = 1 if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(b'a') if i.size else None)
add('a', tarfile.REGTYPE, 0o644, 7)
add('b', tarfile.LNKTYPE, 0o4755, 9, 'a')
add('s', tarfile.SYMTYPE, 0o777, 0, 'a')
add('t', tarfile.LNKTYPE, 0o600, 3, 's')
t.close()
EOF`,
  },
  {
    // PAX records with multi-byte names and link targets; xattrs of the entries: the layer keeps
    // security.capability only (BuildKit's differ writes no other)
    name: 'add-archive-pax-xattrs',
    dockerfile: `${BB}FROM bb\nADD t.tar /x/\n`,
    prepare: `python3 - <<'EOF'
import tarfile, io
t = tarfile.open('t.tar', 'w', format=tarfile.PAX_FORMAT)
cap = bytes.fromhex('0100000200200000000000000000000000000000').decode('latin1')
i = tarfile.TarInfo('bïn/pïng'); i.size = 1; i.mode = 0o755
i.pax_headers = {'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.note': 'n'}
t.addfile(i, io.BytesIO(b'p'))
i = tarfile.TarInfo('lïnk-ñ'); i.type = tarfile.SYMTYPE; i.linkname = 'tärgét-' + 'x' * 110
t.addfile(i)
t.close()
EOF`,
  },
  {
    // An ARG declared after an ENV of the same name wins in its stage; a stage FROM it starts with
    // the image config's Env on top again (ENV wins), while the other ARG values carry over
    name: 'arg-after-env-in-base-stage',
    dockerfile:
      'ARG A=\n' +
      BB +
      'FROM bb AS s3\nARG BUILDPLATFORM\nENV A=1\nFROM s3 AS s2\nARG A\nRUN echo "[$A]" > /s2\nARG C=c\n' +
      'FROM s2\nRUN echo "A=$A C=$C P=$BUILDPLATFORM" > /s1\n',
  },
  {
    name: 'copy-hidden-files-wildcard',
    dockerfile: `${BB}FROM bb\nCOPY .* /h/\nCOPY * /all/\n`,
    files: { '.hidden': 'h', visible: 'v', '.dir/x': 'x' },
  },
  {
    // Wildcards with a hyphen (a unicode-mode RegExp once refused them), a plain --from path with a
    // backslash (no wildcard: that very file), and names that are not UTF-8 from both sources
    name: 'copy-hyphen-wildcards-and-byte-names',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir /d && echo F > /d/app-1 && echo P > /d/backslash && echo S > "/d/back\\\\slash" && ' +
      'echo X > "$(printf \'/d/\\377x\')"\n' +
      'FROM bb\nCOPY my-*.txt /x/\nCOPY d/ /ctx/\nCOPY --from=s /d/app-* /y/\nCOPY --from=s /d /z/\n' +
      'COPY --from=s /d/back\\\\slash /w/\n',
    files: { 'my-a.txt': 'A', 'my-b.txt': 'B', other: 'O' },
    prepare: 'mkdir -p d && printf q > "$(printf \'d/\\351t\\351\')"',
  },
  {
    // Names /etc/passwd and /etc/group do not have: BuildKit's file op reads an unknown user as
    // 0:0 and an unknown group as "keep the gid", in --chown and in WORKDIR's USER alike (no error)
    name: 'chown-unknown-names',
    dockerfile:
      BB +
      'FROM bb AS nopw\nRUN rm -f /etc/passwd /etc/group\nCOPY --chown=root:5 f /r\n' +
      "FROM bb\nRUN echo 'u:x:1000:1000::/home/u:/bin/sh' > /etc/passwd && echo 'g:x:55:' > /etc/group\n" +
      'COPY --chown=nosuch f /a\nCOPY --chown=u:nosuchgroup f /b\nCOPY --chown=nosuch:g f /c\n' +
      'COPY --chown=nosuch:nosuch f /d\nADD --chown=nosuch:g f /e\nUSER nosuch\nWORKDIR /w\n' +
      'USER u:nosuchgroup\nWORKDIR /w2\nUSER root\nWORKDIR /w3\nCOPY --from=nopw /r /r\n',
    files: { f: 'f' },
  },
  {
    // A --from wildcard's pattern part is matched by a walk that does not go into symlinks
    // (fsutil's resolveWildcards): `/o/*/lib` finds nothing through the symlink /o/u, while the
    // literal part before the first wildcard (`/o/u/l*`) and a symlink matched whole (`/l*`) count
    name: 'copy-from-wildcard-through-symlink',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir -p /usr/lib/d /o && echo x > /usr/lib/d/f && ln -s usr/lib /lib && ' +
      'ln -s /usr/lib/d /dl && ln -s d/f /usr/lib/fl && ln -s ../usr /o/u\n' +
      'FROM bb\nCOPY --from=s /l* /a/\nCOPY --from=s /u*/l*/d /b/\nCOPY --from=s /usr/l*/fl /c/\n' +
      'COPY --from=s /d? /d/\nCOPY --from=s /o/*/lib /e/\nCOPY --from=s /o/u/l*/ /f/\nCOPY --from=s /l*/d /h/\n',
  },
  {
    // A directory entry that lands on ADD's destination under a name other than `./` (`/`, `../`,
    // `a/../..`: moby's Unpack skips only what cleans to ".", and its chroot keeps the rest at the
    // top) gives the destination its mode, owner and time; `./` leaves it as it is
    name: 'add-archive-root-entries',
    dockerfile:
      BB +
      'FROM bb\nRUN mkdir -m 755 /d1 /d2 /d3 /d4\nADD slash.tar /d1/\nADD dotdot.tar /d2\n' +
      'ADD dot.tar /d3/\nADD adotdot.tar /d4/\nADD slash.tar /new/\n',
    prepare:
      "python3 -c 'import io, tarfile\n" +
      'def mk(fn, d, mode, uid, f):\n' +
      '  with tarfile.open(fn, "w") as t:\n' +
      '    i = tarfile.TarInfo(d); i.type = tarfile.DIRTYPE; i.mode = mode; i.uid = uid; i.gid = uid + 1; i.mtime = 1e9; t.addfile(i)\n' +
      '    i = tarfile.TarInfo(f); i.size = 1; i.mtime = 1e9; t.addfile(i, io.BytesIO(b"x"))\n' +
      'mk("slash.tar", "/", 0o711, 3, "f"); mk("dotdot.tar", "../", 0o701, 7, "g")\n' +
      'mk("dot.tar", "./", 0o700, 9, "h"); mk("adotdot.tar", "a/../..", 0o750, 4, "i")\'',
  },
  {
    // Several sources and a destination without a trailing slash: the classic builder refuses
    // them, BuildKit copies each to the destination in turn (into it where it is a directory, each
    // over the last where it is not)
    name: 'copy-many-to-no-slash',
    dockerfile: `${BB}FROM bb\nRUN mkdir /w && echo pre > /v\nCOPY d1 a /x\nCOPY a b /y\nCOPY a b /w\nCOPY a b /v\n`,
    files: { a: 'A', b: 'B', 'd1/e/h': 'h', 'd1/i': 'i' },
  },
  {
    // --chown numbers as llb.WithUser reads them (strconv.ParseInt, 32 bits, sign allowed): `+1`
    // is 1, an empty group is 0, `root` needs no /etc/passwd, and -1 (a uint32 to chown(2)) keeps
    // the owner the copy made, also on the parents it creates
    name: 'chown-go-numbers',
    dockerfile:
      `${BB}FROM bb\nCOPY --chown=+1 a /p\nCOPY --chown=1: a /e\nCOPY --chown=root: a /r\n` +
      'COPY --chown=-1:5 a /k/l/m\nCOPY --chown=-1 d1 /n/\n',
    files: { a: 'A', 'd1/e/h': 'h' },
  },
];
