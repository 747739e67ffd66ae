/* api_resource.h - the generic resource engine: list, get, create, update
 * and delete for a table described by its fields.
 *
 * Every resource row has the implicit columns id, rev (its ETag: the seq
 * of the audit entry of its last change) and created_at. Fields are
 * validated strictly: an unknown member, a read-only one, a wrong type, a
 * value out of range or failing its check is a 400 that names the field.
 * Column names come only from these static tables, never from requests. */
#ifndef POSTERN_API_API_RESOURCE_H
#define POSTERN_API_API_RESOURCE_H

#include "api/api_int.h"

enum api_ftype {
	API_T_STR = 0,
	API_T_INT,
	API_T_BOOL,
	API_T_MAX
};

#define API_F_REQUIRED (1u << 0)	/* must be given on create */
#define API_F_READONLY (1u << 1)	/* set by the server only */
#define API_F_FIXED (1u << 2)		/* given on create, never changed */
#define API_F_NULL (1u << 3)		/* null is a value (stored as NULL) */
#define API_F_INPUT (1u << 4)		/* accepted, never stored as a column
					 * nor shown (password, key_pem) */
#define API_F_HIDDEN (1u << 5)		/* a column never shown (hashes) */
#define API_F_NOAUDIT (1u << 6)		/* shown, left out of audit summaries */
#define API_F_MULTILINE (1u << 7)	/* strings may hold CR and LF (PEM) */

/* Checks a string; returns NULL when fine, else what is wrong with it
 * ("must be a DNS name"), to follow the field's name in the error. */
typedef const char *api_check_fn(const char *s);

struct api_field {
	const char *name;	/* JSON member and column */
	enum api_ftype type;
	unsigned flags;
	int64_t min, max;	/* INT: value range; STR: length range */
	api_check_fn *check;
};

struct api_resource {
	const char *name;	/* "route": audit action and object prefix */
	const char *table;
	const struct api_field *fields;
	size_t nfields;
	unsigned changes;	/* API_CHANGED_* after a write */
	const char *create_verb;	/* audited "NAME.VERB"; NULL = "create" */
	const char *fk_field;	/* named when a reference is missing */
	/* Hooks, all optional, all inside the write transaction; each
	 * returns 0, or -1 after replying. */
	/* Cross-field rules and derived columns. `row` is what will be
	 * stored (on update: the old row with the body's members applied),
	 * `old` the row before (NULL on create). */
	int (*prepare)(struct api_ctx *c, json_t *row, const json_t *old);
	/* After the INSERT/UPDATE: secrets and other rows. */
	int (*written)(struct api_ctx *c, int64_t id, const json_t *row,
		       const json_t *old);
	/* Before a DELETE: a last chance to refuse. */
	int (*deleting)(struct api_ctx *c, const json_t *old);
	/* Adds computed members to a row about to be shown (hidden columns
	 * are still there; they are removed afterwards). */
	void (*show)(struct api_ctx *c, json_t *obj);
};

/* A resource's identity in its declaration: its name, its table and its
 * field table, whose size is taken from the table itself. */
#define API_RES_TABLE(NAME, TABLE, FIELDS) \
	.name = (NAME), .table = (TABLE), .fields = (FIELDS), .nfields = ARRAY_SIZE(FIELDS)

/* Validates `body` against `res` (create: required fields must be there;
 * update: fixed fields must not). Returns 0 or -1 after replying 400. */
int api_res_validate(struct api_ctx *c, const struct api_resource *res,
		     const json_t *body, bool create);
/* Loads row `id` as a JSON object (hidden columns included), or NULL. */
json_t *api_res_load(struct api_ctx *c, const struct api_resource *res, int64_t id);
/* The object clients see (a new reference). */
json_t *api_res_public(struct api_ctx *c, const struct api_resource *res,
		       const json_t *row);
/* The compact summary recorded in the audit log (free() it). */
char *api_res_summary(struct api_ctx *c, const struct api_resource *res,
		      const json_t *row);

/* String checks (api_check.c). */
api_check_fn api_check_host, api_check_dns_name, api_check_path,
	api_check_target, api_check_name, api_check_username, api_check_wg_key,
	api_check_ipv4, api_check_ipv6, api_check_role, api_check_scope,
	api_check_agent_status, api_check_agent_kind, api_check_text, api_check_email,
	api_check_groups;

#endif
