import { describe, expect, it } from 'vitest';
import { includedWithParents, splitParents } from '../../src/solver/ops/copy-parents.js';

describe('COPY --parents: source and include pattern (dockerfile2llb)', () => {
  it('splits at the first /./; without one the source is / and the whole path the pattern', () => {
    expect(splitParents('/test/a/b/./c/d')).toEqual({ pivot: '/test/a/b', pattern: 'c/d' });
    expect(splitParents('/test/a/./b/./c')).toEqual({ pivot: '/test/a', pattern: 'b/c' });
    expect(splitParents('foo1/foo2/bar')).toEqual({ pivot: '/', pattern: 'foo1/foo2/bar' });
    expect(splitParents('./test/a/b')).toEqual({ pivot: '/', pattern: 'test/a/b' });
    expect(splitParents('/test/a/b/c/d/.')).toEqual({ pivot: '/', pattern: 'test/a/b/c/d' });
    expect(splitParents('/test/a/b*/./c/**/e')).toEqual({ pivot: '/test/a/b*', pattern: 'c/**/e' });
  });

  it('includes what the pattern matches, all a matched directory holds, and the directories on the way', () => {
    const rels = ['c', 'c/d', 'c/d/e', 'c/d/e/bay', 'c/d/foo', 'c2', 'c2/d', 'c2/d/e', 'x'];
    expect(includedWithParents(rels, 'c/**/e')).toEqual(['c', 'c/d', 'c/d/e', 'c/d/e/bay']);
    expect(includedWithParents(rels, 'c/d')).toEqual(['c', 'c/d', 'c/d/e', 'c/d/e/bay', 'c/d/foo']);
    expect(includedWithParents(rels, 'c*/d/e')).toEqual([
      'c',
      'c/d',
      'c/d/e',
      'c/d/e/bay',
      'c2',
      'c2/d',
      'c2/d/e',
    ]);
    expect(includedWithParents(rels, 'nothing/*')).toEqual([]);
    expect(includedWithParents(rels, '')).toEqual(rels);
  });
});
