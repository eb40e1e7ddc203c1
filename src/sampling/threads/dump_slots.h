/* Internal to the thread dump: the static capture slots shared by the
 * collector (sampling/threads/dump.c) and the signal handler (sampling/threads/dump_handler.c).
 *
 * A slot's word packs (generation << 2 | state). The collector arms a slot
 * with a new generation; the handler claims it with a CAS from ARMED to
 * WRITING of exactly the generation in its payload, unwinds, and publishes
 * DONE. The collector abandons an unanswered slot with a CAS from ARMED to
 * FREE, so a late handler's CAS fails and it writes nothing. A slot left in
 * WRITING (a handler descheduled mid-unwind past the timeout) is skipped by
 * later dumps until that handler finishes. */
#ifndef IX_THREAD_DUMP_SLOTS_H
#define IX_THREAD_DUMP_SLOTS_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "sampling/threads/dump.h"

enum { IX_SLOT_FREE = 0, IX_SLOT_ARMED = 1, IX_SLOT_WRITING = 2, IX_SLOT_DONE = 3 };
#define IX_SLOT_WORD(gen, state) (((uint64_t)(gen) << 2) | (uint64_t)(state))
#define IX_SLOT_STATE(word) ((int)((word) & 3))
/* The payload: generation above the 16-bit slot index. */
#define IX_PAYLOAD(gen, idx) (((uint64_t)(gen) << 16) | (uint64_t)(idx))

struct ix_dump_slot {
    _Atomic uint64_t word;
    int npcs;
    uintptr_t pcs[IX_DUMP_MAX_FRAMES];
};

extern struct ix_dump_slot ix_dump_slots[IX_DUMP_MAX_THREADS];
extern _Atomic uint64_t ix_dump_late; /* handler runs that found their slot abandoned */

void ix_dump_signal_handler(int sig, siginfo_t *si, void *uc);

#endif
