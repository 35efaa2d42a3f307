import { beforeDeadline, LATE } from './deadline';

const after = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('beforeDeadline', () => {
  it('answers the reply when it comes first', async () => {
    await expect(beforeDeadline(after(5, 'reply'), 200)).resolves.toBe('reply');
  });

  it('answers LATE when the deadline comes first', async () => {
    await expect(beforeDeadline(after(200, 'reply'), 10)).resolves.toBe(LATE);
  });

  it('passes a rejection that comes first', async () => {
    await expect(beforeDeadline(Promise.reject(new Error('refused')), 200)).rejects.toThrow(
      'refused',
    );
  });

  it('drops a rejection that comes after the deadline instead of leaving it unhandled', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const late = new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 20));
      await expect(beforeDeadline(late, 5)).resolves.toBe(LATE);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
