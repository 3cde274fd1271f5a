/** Test double of `fastly:config-store`: stores by name; an unknown store throws like the runtime. */
export const configStores: Record<string, Record<string, string>> = {};
export const configLookups: string[] = [];

export class ConfigStore {
  private readonly name: string;
  constructor(name: string) {
    if (!configStores[name]) throw new TypeError(`ConfigStore constructor: No ConfigStore named '${name}' exists`);
    this.name = name;
  }
  get(key: string): string | null {
    configLookups.push(key);
    return configStores[this.name]![key] ?? null;
  }
}
