// Handlebars with HTML escaping off (escaping is wrong for YAML, Python and shell) and only serializing
// helpers: a template places values, the helpers in ./serialize.ts encode them.
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { commentText, shellQuote, toSaltYaml } from './serialize.js';

/** templates/ ships in the npm package beside dist/; found relative to this module, not the cwd. */
export const TEMPLATES_DIR = new URL('../../templates/', import.meta.url);

const hb = Handlebars.create();
hb.registerHelper('yaml', (value: unknown) => toSaltYaml(value));
hb.registerHelper('yamlEntry', (key: string, value: unknown) => toSaltYaml({ [key]: value }));
hb.registerHelper('shell', (value: unknown) => shellQuote(String(value)));
hb.registerHelper('comment', (value: unknown) => commentText(String(value)));

const cache = new Map<string, Handlebars.TemplateDelegate>();

export function renderTemplate(name: string, context: object): string {
  let template = cache.get(name);
  if (!template) {
    const source = readFileSync(new URL(name, TEMPLATES_DIR), 'utf8');
    template = hb.compile(source, { noEscape: true, strict: true });
    cache.set(name, template);
  }
  return template(context);
}
