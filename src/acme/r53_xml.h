/* r53_xml.h - the fields Postern reads from Route 53's XML answers,
 * parsed with expat. Untrusted input: size-bounded, no DTD (so no entity
 * declarations and no expansion beyond the five predefined entities),
 * nothing fetched; fuzzed by fuzz/fuzz_r53_xml.c. */
#ifndef POSTERN_ACME_R53_XML_H
#define POSTERN_ACME_R53_XML_H

#include <stddef.h>

#define R53_XML_MAX (64u * 1024)	/* Route 53's answers are a few hundred bytes */

/* Each field is the text of the first such element, "" when absent. */
struct r53_answer {
	char code[128];		/* ErrorResponse/Error/Code */
	char message[256];	/* ErrorResponse/Error/Message (cut to fit) */
	char zone_id[128];	/* first HostedZone/Id */
	char zone_name[300];	/* first HostedZone/Name */
	char change_id[128];	/* ChangeInfo/Id */
	char status[32];	/* ChangeInfo/Status */
};

/* Parses one answer document `p[0..len)` into `a`. Element names match by
 * local name (namespace ignored). Returns 0, or -EMSGSIZE (over
 * R53_XML_MAX), -EINVAL (not well-formed, a DTD, markup inside a field)
 * or -ENOBUFS (a field other than Message longer than its buffer). */
int r53_xml_parse(const char *p, size_t len, struct r53_answer *a);

#endif
