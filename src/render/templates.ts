// Handlebars with HTML escaping off (escaping is wrong for YAML, Python and shell) and only serializing
// helpers: a template places values, the helpers in ./serialize.ts encode them. The templates in templates/
// are precompiled at build time (scripts/build-templates.mjs), so only the small runtime loads here.
import type HandlebarsFull from 'handlebars';
import runtime from 'handlebars/runtime.js';
import { commentText, shellQuote, toSaltYaml } from './serialize.js';
import specs from './templates.generated.js';

// The runtime is the full library minus the compiler; its bundled typings declare nothing, so borrow the full ones.
const hb = (runtime as unknown as typeof HandlebarsFull).create();
hb.registerHelper('yaml', (value: unknown) => toSaltYaml(value));
hb.registerHelper('yamlEntry', (key: string, value: unknown) => toSaltYaml({ [key]: value }));
hb.registerHelper('shell', (value: unknown) => shellQuote(String(value)));
hb.registerHelper('comment', (value: unknown) => commentText(String(value)));

const compiled = new Map<string, HandlebarsFull.TemplateDelegate>();

/** Renders templates/<name> with `context`. */
export function renderTemplate(name: string, context: object): string {
  let template = compiled.get(name);
  if (!template) {
    const spec = (specs as Record<string, Parameters<typeof hb.template>[0]>)[name];
    if (!spec) throw new Error(`no template ${name}; run npm run build`);
    template = hb.template(spec);
    compiled.set(name, template);
  }
  return template(context);
}
