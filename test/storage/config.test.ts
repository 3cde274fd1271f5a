import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config/service-config.js';
import { describeStorage, loadStorageConfig } from '../../src/storage/config.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadStorageConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('storage config from env', () => {
  it('defaults to the local directory', () => {
    expect(loadStorageConfig({})).toEqual({ kind: 'fs' });
    expect(loadStorageConfig({ DATA_DIR: '/srv/avatars' })).toEqual({ kind: 'fs', dataDir: '/srv/avatars' });
  });

  it('reads an R2 bucket: region auto and path-style follow from the endpoint', () => {
    const cfg = loadStorageConfig({
      STORAGE: 's3',
      S3_ENDPOINT: 'https://0123abcd.r2.cloudflarestorage.com',
      S3_BUCKET: 'avatars',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(cfg).toEqual({
      kind: 's3',
      primary: { endpoint: 'https://0123abcd.r2.cloudflarestorage.com', region: 'auto', bucket: 'avatars', accessKeyId: 'id', secretAccessKey: 'secret', timeoutMs: 5000 },
    });
  });

  it('defaults the endpoint to AWS for the region, and reads the standard AWS_* credentials', () => {
    const cfg = loadStorageConfig({ STORAGE: 's3', S3_BUCKET: 'avatars', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' });
    expect(cfg).toMatchObject({ kind: 's3', primary: { endpoint: 'https://s3.eu-west-1.amazonaws.com', region: 'eu-west-1', sessionToken: 't' } });
  });

  it('reads path style, timeout and a failover secondary', () => {
    const cfg = loadStorageConfig({
      STORAGE: 'S3',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_BUCKET: 'hot',
      S3_ACCESS_KEY_ID: 'a',
      S3_SECRET_ACCESS_KEY: 'b',
      S3_FORCE_PATH_STYLE: 'yes',
      S3_TIMEOUT_MS: '1500',
      S3_SECONDARY_REGION: 'us-east-2',
      S3_SECONDARY_BUCKET: 'archive',
      S3_SECONDARY_ACCESS_KEY_ID: 'c',
      S3_SECONDARY_SECRET_ACCESS_KEY: 'd',
    });
    expect(cfg).toMatchObject({
      primary: { forcePathStyle: true, timeoutMs: 1500 },
      secondary: { endpoint: 'https://s3.us-east-2.amazonaws.com', bucket: 'archive', accessKeyId: 'c', timeoutMs: 5000 },
    });
    expect(describeStorage(cfg)).toBe('s3 http://127.0.0.1:9000 bucket hot (region us-east-1), failing over to s3 https://s3.us-east-2.amazonaws.com bucket archive (region us-east-2)');
    expect(describeStorage(cfg)).not.toMatch(/\bb\b|\bd\b/);
  });

  it('reports every problem at once, by variable name', () => {
    const problems = problemsOf({
      STORAGE: 's3',
      S3_ENDPOINT: 'ftp://user:pw@example.com',
      S3_BUCKET: 'Bad_Bucket',
      S3_FORCE_PATH_STYLE: 'maybe',
      S3_TIMEOUT_MS: '0',
      S3_SECONDARY_ENDPOINT: 'https://acc.r2.cloudflarestorage.com',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        "S3_FORCE_PATH_STYLE must be true or false, got 'maybe'",
        "S3_TIMEOUT_MS must be 1..120000 (ms), got '0'",
        'S3_ENDPOINT must use http or https',
        'S3_ENDPOINT must not contain credentials',
        "S3_BUCKET must be 3-63 characters of a-z, 0-9, '.' and '-'",
        'S3_ACCESS_KEY_ID is required',
        'S3_SECRET_ACCESS_KEY is required',
        'S3_SECONDARY_BUCKET is required',
        'S3_SECONDARY_ACCESS_KEY_ID is required',
        'S3_SECONDARY_SECRET_ACCESS_KEY is required',
      ]),
    );
    // The endpoint's password never shows up in a problem.
    expect(problems.join('\n')).not.toContain('pw');
  });

  it('refuses an unknown STORAGE, R2 region without an endpoint, virtual-host on an IP, and self-failover', () => {
    expect(problemsOf({ STORAGE: 'gcs' })).toEqual(["STORAGE must be 'fs' or 's3', got 'gcs'"]);
    expect(problemsOf({ STORAGE: 's3', S3_REGION: 'auto', S3_BUCKET: 'b12', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' })).toEqual([
      "S3_ENDPOINT is required with region 'auto' (R2: https://<ACCOUNT_ID>.r2.cloudflarestorage.com)",
    ]);
    const ip = { STORAGE: 's3', S3_ENDPOINT: 'http://10.0.0.5:9000', S3_BUCKET: 'b12', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' };
    expect(problemsOf({ ...ip, S3_FORCE_PATH_STYLE: 'false' })).toEqual(['S3_FORCE_PATH_STYLE must be true for 10.0.0.5: virtual-hosted buckets need a DNS name']);
    expect(problemsOf({ ...ip, S3_SECONDARY_ENDPOINT: 'http://10.0.0.5:9000', S3_SECONDARY_BUCKET: 'b12', S3_SECONDARY_ACCESS_KEY_ID: 'a', S3_SECONDARY_SECRET_ACCESS_KEY: 'b' })).toEqual([
      'S3_SECONDARY_* names the same bucket as S3_*: failover to itself would not help',
    ]);
  });
});
