/* The thread dump's signal handler. Async-signal-safe: no locks, no
 * allocation, no stdio; only atomics, getpid and the libgcc unwinder
 * (see stack/unwind.h). errno is preserved. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "sampling/threads/dump_slots.h"
#include "stack/unwind.h"

struct ix_dump_slot ix_dump_slots[IX_DUMP_MAX_THREADS];
_Atomic uint64_t ix_dump_late;

void ix_dump_signal_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    int saved = errno;
    /* Only our own queued requests carry a payload; a stray kill(1) of this
     * signal is ignored rather than killing the host. */
    if (si && si->si_code == SI_QUEUE && si->si_pid == getpid()) {
        uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
        uint32_t idx = (uint32_t)(v & 0xffff);
        uint64_t gen = v >> 16;
        if (idx < IX_DUMP_MAX_THREADS) {
            struct ix_dump_slot *s = &ix_dump_slots[idx];
            uint64_t want = IX_SLOT_WORD(gen, IX_SLOT_ARMED);
            if (atomic_compare_exchange_strong_explicit(&s->word, &want,
                                                        IX_SLOT_WORD(gen, IX_SLOT_WRITING),
                                                        memory_order_acquire,
                                                        memory_order_relaxed)) {
                s->npcs = ix_unwind_signal(uc, s->pcs, IX_DUMP_MAX_FRAMES);
                atomic_store_explicit(&s->word, IX_SLOT_WORD(gen, IX_SLOT_DONE),
                                      memory_order_release);
            } else {
                atomic_fetch_add_explicit(&ix_dump_late, 1, memory_order_relaxed);
            }
        }
    }
    errno = saved;
}
