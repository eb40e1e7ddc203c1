/* Handlers, one family per file. Each parses its query, asks a producer,
 * and encodes; none touches libmicrohttpd or sampler internals. */
#ifndef IX_ENDPOINTS_H
#define IX_ENDPOINTS_H

#include "http/router.h"

void ix_ep_index(const struct ix_request *req, struct ix_response *resp);
void ix_ep_cmdline(const struct ix_request *req, struct ix_response *resp);
void ix_ep_profile(const struct ix_request *req, struct ix_response *resp);
void ix_ep_vars(const struct ix_request *req, struct ix_response *resp);
void ix_ep_metrics(const struct ix_request *req, struct ix_response *resp);
void ix_ep_heap(const struct ix_request *req, struct ix_response *resp);
void ix_ep_allocs(const struct ix_request *req, struct ix_response *resp);
/* heap and allocs with ?base=: the delta against a retained snapshot */
void ix_serve_heap_base(const struct ix_request *req, struct ix_response *resp, const char *name);
void ix_ep_leaks(const struct ix_request *req, struct ix_response *resp);
void ix_ep_symbol(const struct ix_request *req, struct ix_response *resp);
void ix_ep_block(const struct ix_request *req, struct ix_response *resp);
void ix_ep_threads(const struct ix_request *req, struct ix_response *resp);
void ix_ep_threadcreate(const struct ix_request *req, struct ix_response *resp);
void ix_ep_mutex(const struct ix_request *req, struct ix_response *resp);
void ix_ep_offcpu(const struct ix_request *req, struct ix_response *resp);
void ix_ep_wall(const struct ix_request *req, struct ix_response *resp);
void ix_ep_tasks(const struct ix_request *req, struct ix_response *resp);
void ix_ep_trace(const struct ix_request *req, struct ix_response *resp);
void ix_ep_processes(const struct ix_request *req, struct ix_response *resp);
/* The process tree as JSON (also in the index). */
void ix_tree_processes_json(ix_buf *out);
void ix_ep_requests(const struct ix_request *req, struct ix_response *resp);
void ix_ep_slo(const struct ix_request *req, struct ix_response *resp);
/* ui */
void ix_ep_ui(const struct ix_request *req, struct ix_response *resp);

#endif
