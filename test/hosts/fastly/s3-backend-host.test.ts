import { describe, expect, it } from 'vitest';
import { s3BackendHostProblem } from '../../../src/hosts/fastly/s3-backend-host.js';

const AWS = { endpoint: 'https://s3.eu-west-1.amazonaws.com', bucket: 'avatars' };

describe('S3 backend host vs signed host', () => {
  it('accepts a backend at the bucket host for virtual-hosted AWS, and at the endpoint host for path-style', () => {
    expect(s3BackendHostProblem('S3_', AWS, 'store', { target: 'avatars.s3.eu-west-1.amazonaws.com', hostOverride: '' })).toBeNull();
    expect(s3BackendHostProblem('S3_', { ...AWS, forcePathStyle: true }, 'store', { target: 's3.eu-west-1.amazonaws.com:443', hostOverride: null })).toBeNull();
    // The override host is what is sent, whatever the address.
    expect(s3BackendHostProblem('S3_', AWS, 'store', { target: '52.218.1.1', hostOverride: 'avatars.s3.eu-west-1.amazonaws.com' })).toBeNull();
    // R2 defaults to path-style on the account host.
    expect(
      s3BackendHostProblem('S3_', { endpoint: 'https://acc123.r2.cloudflarestorage.com', bucket: 'avatars' }, 'store', { target: 'acc123.r2.cloudflarestorage.com', hostOverride: '' }),
    ).toBeNull();
  });

  it('refuses the documented mismatch (regional host, virtual-hosted signing) and names both fixes', () => {
    const p = s3BackendHostProblem('S3_', AWS, 'store', { target: 's3.eu-west-1.amazonaws.com', hostOverride: 's3.eu-west-1.amazonaws.com' });
    expect(p).toBe(
      "backend 'store' sends Host 's3.eu-west-1.amazonaws.com' but S3_ENDPOINT/S3_BUCKET sign virtual-hosted requests for 'avatars.s3.eu-west-1.amazonaws.com': " +
        "S3 would refuse every signature. Point the backend (address, override_host and SNI) at 'avatars.s3.eu-west-1.amazonaws.com' or set S3_FORCE_PATH_STYLE=true to sign for 's3.eu-west-1.amazonaws.com'",
    );
  });

  it('refuses a backend for another host altogether, without suggesting a path-style flip that would not help', () => {
    const p = s3BackendHostProblem('S3_SECONDARY_', { ...AWS, forcePathStyle: true }, 'store_secondary', { target: 'other.example.com:443', hostOverride: '' });
    expect(p).toMatch(/^backend 'store_secondary' sends Host 'other.example.com' but S3_SECONDARY_ENDPOINT\/S3_SECONDARY_BUCKET sign path-style requests for 's3.eu-west-1.amazonaws.com'/);
    expect(p).not.toMatch(/FORCE_PATH_STYLE/);
  });
});
