/** Test double of `fastly:env`: the variables Fastly sets on a POP. */
export const fastlyEnv: Record<string, string> = { FASTLY_POP: 'TST', FASTLY_HOSTNAME: 'cache-tst-1' };

export function env(name: string): string | undefined {
  return fastlyEnv[name];
}
