/* The route table: path -> handler. The endpoint list lives in
 * endpoints/endpoints.c; the router adds auth, method checks and the common
 * headers, so every endpoint behaves the same. */
#ifndef IX_ROUTER_H
#define IX_ROUTER_H

#include "http/request.h"

typedef void (*ix_handler)(const struct ix_request *req, struct ix_response *resp);

enum { IX_GET = 1, IX_POST = 2 };

struct ix_route {
    const char *path;   /* exact path, or a prefix when it ends in '*' */
    unsigned methods;   /* IX_GET (HEAD implied) | IX_POST */
    ix_handler handler;
    const char *summary; /* for the index page; NULL hides it */
    int secret;          /* may carry secrets: not for unauthenticated remote clients */
};

extern const struct ix_route ix_routes[];
extern const size_t ix_nroutes;

/* Calls made around every handler, on the handler's thread. The router does
 * not know who asks: the heap sampler's module registers its "exclude this
 * thread" pair, so the module's own work (symbol caches, encoders) stays out
 * of heap profiles. Set at start before the server listens; NULL clears. */
struct ix_handler_guard {
    void (*enter)(void);
    void (*leave)(void);
};
void ix_router_set_guard(const struct ix_handler_guard *g);

/* A hook in front of every handler, after the access checks (the process
 * tree's: ?pid=N goes to another process, profiles of a tree are merged).
 * Returns 1 when it answered resp, 0 to run the route's handler (`local`,
 * which the hook may also call itself). Set at start; NULL clears. */
typedef int (*ix_route_hook)(const struct ix_request *req, struct ix_response *resp,
                             ix_handler local);
void ix_router_set_hook(ix_route_hook h);

/* The checks a request head alone decides (Host, token, throttling, origin,
 * route, method): 1 after writing the refusal into resp, 0 to go on. */
int ix_route_check_head(const struct ix_request *req, struct ix_response *resp);
/* Route and answer one parsed request (ix_route_check_head included). */
void ix_route_request(const struct ix_request *req, struct ix_response *resp);

#endif
