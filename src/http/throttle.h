/* Failed authentication attempts, slowed per client address.
 *
 * Each address has a bucket of IX_THROTTLE_BURST attempts refilled at
 * IX_THROTTLE_PER_S per second; a wrong token takes one. An empty bucket
 * makes every request from that address that needs the token a 429 with
 * Retry-After, answered without looking at the token, so guessing runs at
 * the refill rate whatever the client does, and no worker sleeps for it.
 * Addresses beyond the table's size share one bucket. */
#ifndef IX_THROTTLE_H
#define IX_THROTTLE_H

#define IX_THROTTLE_BURST 10
#define IX_THROTTLE_PER_S 1.0

/* 0 when addr may try a token now; else the seconds to wait (>= 1). */
long ix_throttle_wait(const char *addr);
/* addr sent a wrong token. */
void ix_throttle_failed(const char *addr);
/* Forget everything (start). */
void ix_throttle_reset(void);

#endif
