// The nodes' en-US message catalogues, read the way Node-RED's i18n reads them (a dotted key into the JSON,
// __name__ for each value), for tests that run the nodes outside a full runtime: node-red-node-test-helper's RED._
// returns the key itself, which would hide every sentence the nodes say.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Translate = (key: string, vars?: Record<string, unknown>) => string;

const LOCALES = join(__dirname, '..', '..', 'nodes', 'locales', 'en-US');

type Catalogue = { [key: string]: string | Catalogue };

export function catalogue(name: string): Translate {
  const messages = JSON.parse(readFileSync(join(LOCALES, name + '.json'), 'utf8')) as Catalogue;
  return (key, vars = {}) => {
    let at: string | Catalogue = messages;
    for (const part of key.split('.')) {
      if (typeof at !== 'object' || !(part in at)) return key;
      at = at[part];
    }
    if (typeof at !== 'string') return key;
    return at.replace(/__([A-Za-z0-9_]+)__/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
  };
}
