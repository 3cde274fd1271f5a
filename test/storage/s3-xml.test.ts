import { describe, expect, it } from 'vitest';
import { decodeXmlText, escapeXmlText, parseDeleteResult, parseListObjectsV2, parseS3Error } from '../../src/storage/s3-xml.js';

describe('S3 XML without a DOM', () => {
  it('decodes the predefined entities, numeric references and CDATA', () => {
    expect(decodeXmlText('a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;')).toBe(`a & b <c> "d" 'e'`);
    expect(decodeXmlText('&#39;&#x27;&#X60;&#233;&#x1F600;')).toBe("''`é😀");
    expect(decodeXmlText('&amp;lt;')).toBe('&lt;'); // decoded once, not twice
    expect(decodeXmlText('<![CDATA[a &amp; <b>]]> &amp;')).toBe('a &amp; <b> &');
    expect(decodeXmlText('&unknown; &#xD800; &#1114112;')).toBe('&unknown; &#xD800; &#1114112;');
  });

  it('parses a ListObjectsV2 page: keys in order, truncation, continuation token', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>avatars</Name><Prefix>originals/acme/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>originals/acme/3f/u-42</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>10</Size></Contents>
  <Contents>
    <Key>originals/acme/a0/Tom &amp; Jerry&#x27;s</Key><Size>3</Size>
  </Contents>
  <Contents><Key> spaced key </Key></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>`;
    expect(parseListObjectsV2(xml)).toEqual({
      keys: ['originals/acme/3f/u-42', "originals/acme/a0/Tom & Jerry's", ' spaced key '],
      isTruncated: true,
      nextContinuationToken: '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=',
    });
  });

  it('parses an empty last page and ignores Prefix/CommonPrefixes', () => {
    const xml = '<ListBucketResult><Prefix>x/</Prefix><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>x/y/</Prefix></CommonPrefixes></ListBucketResult>';
    expect(parseListObjectsV2(xml)).toEqual({ keys: [], isTruncated: false });
  });

  it('refuses a document that is not a list result', () => {
    expect(() => parseListObjectsV2('<html>nope</html>')).toThrow();
  });

  it('reads code, message and request id from an error body, and nothing from anything else', () => {
    const xml = '<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a &amp; b</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>';
    expect(parseS3Error(xml)).toEqual({ code: 'NoSuchKey', message: 'The specified key does not exist.', requestId: '4442587FB7D0A2F9' });
    expect(parseS3Error('<html><body>502 Bad Gateway</body></html>')).toEqual({});
    expect(parseS3Error('')).toEqual({});
  });

  it('parses a DeleteObjects result: deleted keys and per-key errors', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>variants/acme/3f/u-42/64x64-cover-q75.webp</Key></Deleted>
  <Error><Key>originals/acme/3f/Tom &amp; Jerry</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
</DeleteResult>`;
    expect(parseDeleteResult(xml)).toEqual({
      deleted: ['variants/acme/3f/u-42/64x64-cover-q75.webp'],
      errors: [{ key: 'originals/acme/3f/Tom & Jerry', code: 'AccessDenied', message: 'Access Denied' }],
    });
    expect(parseDeleteResult('<DeleteResult/>')).toEqual({ deleted: [], errors: [] });
    expect(() => parseDeleteResult('<Error><Code>InternalError</Code></Error>')).toThrow(/DeleteResult/);
    expect(escapeXmlText(`a&b<c>"d"'e'`)).toBe('a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;');
    expect(decodeXmlText(escapeXmlText(`a&b<c>"d"'e'`))).toBe(`a&b<c>"d"'e'`);
  });
});
