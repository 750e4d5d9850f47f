import { describe, expect, it } from 'vitest';
import { checkTemplate, renderTemplate, unescapeFormat } from '../../src/cli/go-template.js';

const data = {
  Id: 'sha256:ab',
  RepoTags: ['a:1', 'b:2'],
  Config: { config: { Env: ['A=1'], Labels: { z: '1', a: 'x<y' }, Cmd: null } },
  Size: 12,
};

describe("docker --format templates (Go's text/template, the part docker users write)", () => {
  it('prints fields as Go fmt does: lists in brackets, maps sorted, nothing as <nil>', () => {
    expect(renderTemplate('{{.Id}} {{ .Size }}', data)).toBe('sha256:ab 12');
    expect(renderTemplate('{{.RepoTags}}', data)).toBe('[a:1 b:2]');
    expect(renderTemplate('{{.Config.config.Labels}}', data)).toBe('map[a:x<y z:1]');
    expect(renderTemplate('{{.Config.config.Cmd}}', data)).toBe('<nil>');
  });

  it('json prints without HTML escapes (docker sets SetEscapeHTML(false)); . is the whole value', () => {
    expect(renderTemplate('{{json .Config.config.Labels}}', data)).toBe('{"z":"1","a":"x<y"}');
    expect(JSON.parse(renderTemplate('{{json .}}', data))).toEqual(data);
  });

  it('refuses what it cannot do, and a field that is not there', () => {
    expect(() => renderTemplate('{{.Nope}}', data)).toThrow("can't evaluate field Nope");
    expect(() => renderTemplate('{{.Id.More}}', data)).toThrow("can't evaluate field More");
    expect(() => checkTemplate('{{range .RepoTags}}{{.}}{{end}}', 'x')).toThrow(
      'unsupported --format template',
    );
    expect(unescapeFormat('{{.Id}}\\t{{.Size}}\\n')).toBe('{{.Id}}\t{{.Size}}\n');
  });
});
