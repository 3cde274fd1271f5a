/**
 * `npm run deploy:fastly`: creates or updates the Fastly service's Config Store, Secret Store,
 * their entries and links, its backends and domains, from environment variables, without a
 * prompt (docs/fastly.md, "Deploying from CI"). Then `npx fastly compute deploy --version latest
 * --non-interactive` uploads the package to the version this prepared and activates it.
 */
import { runDeploy } from './fastly-deploy/run.js';

process.exitCode = await runDeploy(process.env, (line) => console.log(line));
