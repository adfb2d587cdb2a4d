import type { Redis } from 'ioredis';

export interface LoginLimits {
  maxFailuresPerEmail: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
}

/**
 * Counts failed logins per email and per client address in Redis over a fixed window, so every
 * auth instance sees the same counts. Past either limit, logins are refused before the password is
 * checked, until the window ends.
 */
export class LoginLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly limits: LoginLimits,
  ) {}

  private keys(email: string, ip: string | null): string[] {
    const keys = [`login-failures:email:${email.toLowerCase()}`];
    if (ip) keys.push(`login-failures:ip:${ip}`);
    return keys;
  }

  /** Seconds until a login may be tried again, or 0 when it may be tried now. */
  async retryAfterSeconds(email: string, ip: string | null): Promise<number> {
    const [emailKey, ipKey] = this.keys(email, ip);
    const pipeline = this.redis.pipeline().get(emailKey!).ttl(emailKey!);
    if (ipKey) pipeline.get(ipKey).ttl(ipKey);
    const results = (await pipeline.exec()) ?? [];
    const value = (index: number) => Number(results[index]?.[1] ?? 0);
    if (value(0) >= this.limits.maxFailuresPerEmail) return Math.max(value(1), 1);
    if (ipKey && value(2) >= this.limits.maxFailuresPerIp) return Math.max(value(3), 1);
    return 0;
  }

  async recordFailure(email: string, ip: string | null): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const key of this.keys(email, ip)) {
      pipeline.incr(key).expire(key, this.limits.windowSeconds, 'NX');
    }
    await pipeline.exec();
  }

  /** A successful login clears the email's count; the address's count stays, as it may be guessing others. */
  async recordSuccess(email: string): Promise<void> {
    await this.redis.del(this.keys(email, null)[0]!);
  }
}
