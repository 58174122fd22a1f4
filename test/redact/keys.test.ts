import { describe, expect, it } from 'vitest';
import { KeyClassifier } from '../../src/redact/keys';

describe('KeyClassifier.classify', () => {
  const keys = new KeyClassifier(['ssh_key', 'x-internal-signature']);

  it.each([
    ['password', 'password'],
    ['DB_PASSWORD', 'password'],
    ['passwd', 'password'],
    ['pwd', 'password'],
    ['user.password', 'password'],
    ['client_secret', 'secret'],
    ['clientSecret', 'secret'],
    ['AWS_SECRET_ACCESS_KEY', 'secret'],
    ['access_token', 'token'],
    ['refreshToken', 'token'],
    ['x-amz-security-token', 'token'],
    ['api_key', 'api_key'],
    ['X-Api-Key', 'api_key'],
    ['apiKey', 'api_key'],
    ['APIKEY', 'api_key'],
    ['Authorization', 'authorization'],
    ['headers.authorization', 'authorization'],
    ['Cookie', 'cookie'],
    ['set-cookie', 'cookie'],
    ['private_key', 'private_key'],
    ['privateKey', 'private_key'],
    ['credentials', 'credentials'],
    ['credentials.username', 'credentials'],
    ['ssn', 'ssn'],
    ['social_security_number', 'ssn'],
    ['card number', 'card'],
    ['cardNumber', 'card'],
    ['credit_card', 'card'],
    ['cvv', 'card'],
    ['session_id', 'session'],
    ['api.key', 'api_key'],
    ['payment.card.number', 'card'],
    ['ssh_key', 'sensitive_key'],
    ['user.SSH-Key', 'sensitive_key'],
    ['X-Internal-Signature', 'signature'],
  ])('marks %s as sensitive (%s)', (key, marker) => {
    expect(keys.classify(key)).toEqual({ kind: 'sensitive', marker });
  });

  it.each([
    'token_count',
    'max_tokens',
    'prompt_tokens',
    'secret_arn',
    'secretName',
    'password_policy',
    'passwordless',
    'username',
    'keyboard',
    'monkey',
    'cache_key',
    'correlation_id',
    'tokenizer',
    'token_type',
  ])('does not mark %s as sensitive', (key) => {
    expect(keys.classify(key)).toBeNull();
  });

  it.each(['user_id', 'userId', 'userID', 'user.id', 'usr.id', 'enduser.id', 'context.user_id'])(
    'recognises the user id field %s',
    (key) => {
      expect(keys.classify(key)).toEqual({ kind: 'user_id' });
    },
  );

  it.each(['id', 'order.id', 'user_name', 'users'])('does not take %s for a user id', (key) => {
    expect(keys.classify(key)).toBeNull();
  });
});
