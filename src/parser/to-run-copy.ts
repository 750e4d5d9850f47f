import type { BFlags } from './bflag.js';
import { parseHeredocWord } from './heredoc.js';
import { type Base, commandForm, type Fail, setOpt } from './instruction-helpers.js';
import { parseMount } from './parse-mount.js';
import type {
  AddInstruction,
  AstNode,
  CopyInstruction,
  NetworkMode,
  RunInstruction,
  SecurityMode,
} from './types.js';

/** RUN: `--mount` (parsed, raw values), `--network`, `--security`; shell or exec form, heredocs. */
export function toRun(node: AstNode, flags: BFlags, base: Base, fail: Fail): RunInstruction {
  flags.define('mount', 'strings').define('network', 'string').define('security', 'string').parse();
  const mounts = flags.strings('mount').map((m) => parseMount(m, undefined, { range: node.range }));
  const run: RunInstruction = { kind: 'RUN', ...base, ...commandForm(node), heredocs: node.heredocs, mounts };
  const network = flags.string('network');
  if (network !== undefined) {
    if (!['default', 'none', 'host'].includes(network))
      fail(`unsupported network mode ${JSON.stringify(network)}`, 'use default, none or host');
    run.network = network as NetworkMode;
  }
  const security = flags.string('security');
  if (security !== undefined) {
    if (!['sandbox', 'insecure'].includes(security))
      fail(`unsupported security mode ${JSON.stringify(security)}`, 'use sandbox or insecure');
    run.security = security as SecurityMode;
  }
  return run;
}

/** COPY and ADD: their flag sets differ (COPY --from/--parents, ADD --checksum/--keep-git-dir/--unpack). */
export function toCopy(
  node: AstNode,
  flags: BFlags,
  base: Base,
  fail: Fail,
): CopyInstruction | AddInstruction {
  const isCopy = node.keyword === 'COPY';
  flags
    .define('chown', 'string')
    .define('chmod', 'string')
    .define('link', 'bool')
    .define('exclude', 'strings');
  if (isCopy) flags.define('from', 'string').define('parents', 'bool');
  else flags.define('checksum', 'string').define('keep-git-dir', 'bool').define('unpack', 'bool');
  // The arguments are counted before the flags are parsed, as buildkit's parseCopy/parseAdd do.
  if (node.args.length < 2) {
    fail(
      `${node.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
    );
  }
  flags.parse();
  const words = node.args.slice(0, -1);
  let sources = words;
  if (node.heredocs.length > 0 && !node.json) {
    // `<<EOF` words name heredoc bodies, not files of the context.
    const names = new Set(node.heredocs.map((h) => h.name));
    sources = words.filter((w) => !names.has(parseHeredocWord(w)?.name ?? '\0'));
  }
  const common = {
    ...base,
    sources,
    dest: node.args[node.args.length - 1]!,
    json: node.json,
    heredocs: node.heredocs,
    link: flags.bool('link'),
    exclude: flags.strings('exclude'),
  };
  if (isCopy) {
    const c: CopyInstruction = { kind: 'COPY', ...common, parents: flags.bool('parents') };
    setOpt(c, 'from', flags.string('from'));
    setOpt(c, 'chown', flags.string('chown'));
    setOpt(c, 'chmod', flags.string('chmod'));
    return c;
  }
  const add: AddInstruction = { kind: 'ADD', ...common, keepGitDir: flags.bool('keep-git-dir') };
  setOpt(add, 'chown', flags.string('chown'));
  setOpt(add, 'chmod', flags.string('chmod'));
  setOpt(add, 'checksum', flags.string('checksum'));
  if (flags.has('unpack')) add.unpack = flags.bool('unpack');
  return add;
}
