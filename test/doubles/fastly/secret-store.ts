/** Test double of `fastly:secret-store`. */
export const secretStores: Record<string, Record<string, string>> = {};

export class SecretStore {
  private readonly name: string;
  constructor(name: string) {
    if (!secretStores[name]) throw new TypeError(`SecretStore constructor: No SecretStore named '${name}' exists`);
    this.name = name;
  }
  async get(key: string): Promise<{ plaintext(): string } | null> {
    const v = secretStores[this.name]![key];
    return v === undefined ? null : { plaintext: () => v };
  }
}
