// SPDX-License-Identifier: MIT
/* The rules of the access checker (layer 2); the list is in check.h. */
#include "check/check.h"
#include "check/internal.h"

CCMM_RULES_DEFINE(check_rules, CCMM_CHECK_RULES);

struct ccmm_subsys ccmm_subsys_check = {
	.name = "check",
	.init = _ccmm_check_init,
	.exit = _ccmm_check_fini,
	.rules = check_rules,
};
