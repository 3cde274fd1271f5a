import { ConfigStore } from 'fastly:config-store';
import { SecretStore } from 'fastly:secret-store';
import { CONFIG_STORE, SECRET_STORE, type SettingsSource } from './settings.js';

export { CONFIG_STORE, SECRET_STORE };

/**
 * The Config Store and Secret Store as a SettingsSource, each entry looked up at most once per
 * request. A store that is not linked to the service reads as empty, so the error names the
 * missing entries (settings.ts) instead of a bare "no ConfigStore named ..." TypeError.
 */
export function createStoreSource(names: { config?: string; secrets?: string } = {}): SettingsSource {
  const config = open(() => new ConfigStore(names.config ?? CONFIG_STORE));
  const secrets = open(() => new SecretStore(names.secrets ?? SECRET_STORE));
  const seenConfig = new Map<string, string | undefined>();
  const seenSecret = new Map<string, Promise<string | undefined>>();
  return {
    config(name) {
      if (!seenConfig.has(name)) seenConfig.set(name, config()?.get(name) ?? undefined);
      return seenConfig.get(name);
    },
    secret(name) {
      let p = seenSecret.get(name);
      if (!p) {
        const store = secrets();
        p = store ? store.get(name).then((e) => e?.plaintext() ?? undefined) : Promise.resolve(undefined);
        seenSecret.set(name, p);
      }
      return p;
    },
  };
}

function open<T>(make: () => T): () => T | null {
  let value: T | null | undefined;
  return () => {
    if (value === undefined) {
      try {
        value = make();
      } catch {
        value = null;
      }
    }
    return value;
  };
}
