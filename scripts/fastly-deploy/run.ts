/** The deploy command: plan (validated, nothing sent on a problem), apply, report. */
import { createFastlyApi } from './api.js';
import { applyDeploy } from './apply.js';
import { DeployConfigError, planDeploy } from './plan.js';

export async function runDeploy(env: Record<string, string | undefined>, out: (line: string) => void, fetchFn: typeof fetch = fetch): Promise<number> {
  try {
    const plan = await planDeploy(env);
    const report = await applyDeploy(createFastlyApi(env.FASTLY_API_TOKEN!, env.FASTLY_API_BASE || undefined, fetchFn), plan);
    for (const a of report.actions) out(a);
    out(
      report.versionChanged
        ? `version ${report.version} is ready: npx fastly compute deploy --service-id ${plan.serviceId} --version latest --non-interactive`
        : `backends, links and domains unchanged (version ${report.version})`,
    );
    return 0;
  } catch (err) {
    out(err instanceof DeployConfigError ? err.message : `deploy failed: ${(err as Error).message}`);
    return 1;
  }
}
