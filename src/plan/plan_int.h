/* Internal to src/plan: shared between the model and the plan file. */
#ifndef CAIRN_PLAN_INT_H
#define CAIRN_PLAN_INT_H

#include "cairn/plan.h"

/* Indexes every item of p->items by logical id (after a bulk change). */
void plan_index_rebuild(struct plan *p);

#endif
