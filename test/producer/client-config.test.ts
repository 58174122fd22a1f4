import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { firehoseClientConfig, isLoopbackEndpoint } from '../../src/producer/client-config';

describe('firehoseClientConfig', () => {
  it.each(['http://127.0.0.1:4573', 'http://localhost:4573', 'http://[::1]:4573', 'http://127.1.2.3:80'])(
    'gives the loopback endpoint %s placeholder credentials and region us-east-1',
    (endpoint) => {
      // Act
      const config = firehoseClientConfig({ endpoint });

      // Assess
      expect(config).toEqual({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
    },
  );

  it('keeps a region given for a loopback endpoint', () => {
    // Act
    const config = firehoseClientConfig({ endpoint: 'http://127.0.0.1:4573', region: 'eu-west-1' });

    // Assess
    expect(config.region).toBe('eu-west-1');
  });

  it('leaves credentials and region to the SDK for any other endpoint, and for none', () => {
    // Act
    const vpc = firehoseClientConfig({ endpoint: 'https://firehose.eu-west-1.amazonaws.com' });
    const lookalike = firehoseClientConfig({ endpoint: 'http://127.0.0.1.example.com' });
    const none = firehoseClientConfig({});
    const regionOnly = firehoseClientConfig({ region: 'eu-west-1' });

    // Assess
    expect(vpc).toEqual({ endpoint: 'https://firehose.eu-west-1.amazonaws.com' });
    expect(lookalike).toEqual({ endpoint: 'http://127.0.0.1.example.com' });
    expect(none).toEqual({});
    expect(regionOnly).toEqual({ region: 'eu-west-1' });
  });

  it('rejects an endpoint that is not a URL, naming it as the caller does', () => {
    // Act
    const act = () => firehoseClientConfig({ endpoint: 'not a url' }, '--endpoint');

    // Assess
    expect(act).toThrow(InputError);
    expect(act).toThrow('--endpoint: not a URL: "not a url"');
  });
});

describe('isLoopbackEndpoint', () => {
  it.each([
    ['http://127.0.0.1:1', true],
    ['http://localhost', true],
    ['http://[::1]:4573', true],
    ['http://10.0.0.1:4573', false],
    ['http://localhost.example.com', false],
    ['http://[::2]:4573', false],
  ] as const)('%s → %s', (url, expected) => {
    expect(isLoopbackEndpoint(new URL(url))).toBe(expected);
  });
});
