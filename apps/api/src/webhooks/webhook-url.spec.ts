import { isPrivateAddress, refusalOf } from './webhook-url';

describe('webhook URL check', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.5',
    '172.16.3.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:10.0.0.1',
  ])('treats %s as private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '172.32.0.1'])(
    'treats %s as public',
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );

  it('refuses other schemes and credentials even when private targets are allowed', async () => {
    expect(await refusalOf('ftp://example.com/x', true)).toMatch(/http or https/);
    expect(await refusalOf('https://user:pw@example.com/x', true)).toMatch(/credentials/);
    expect(await refusalOf('nonsense', true)).toMatch(/absolute/);
    expect(await refusalOf('http://127.0.0.1:9/x', true)).toBeNull();
  });

  it('refuses literal private addresses unless allowed', async () => {
    expect(await refusalOf('http://127.0.0.1:9/x', false)).toMatch(/127\.0\.0\.1/);
    expect(await refusalOf('http://[::1]:9/x', false)).toMatch(/::1/);
    expect(await refusalOf('http://93.184.216.34/x', false)).toBeNull();
  });
});
