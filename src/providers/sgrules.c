/*
 * Security group rule sets: the template's inline rules and AWS's
 * IpPermissions both become flat lists of single rules with a normalised
 * key, so an update is two set differences (authorize what is new, revoke
 * what is gone) and drift is a comparison of keys.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "prov_int.h"

const struct sg_kind sg_kinds[SG_NKINDS] = {
	{ "cidr", "CidrIp", "CidrIp", "ipRanges", "cidrIp", "IpRanges", "CidrIp",
	  "cidrIpv4", "CidrIpv4" },
	{ "cidr6", "CidrIpv6", "CidrIpv6", "ipv6Ranges", "cidrIpv6", "Ipv6Ranges",
	  "CidrIpv6", "cidrIpv6", "CidrIpv6" },
	{ "sg", "SourceSecurityGroupId", "DestinationSecurityGroupId", "groups",
	  "groupId", "UserIdGroupPairs", "GroupId", "referencedGroupInfo.groupId",
	  "ReferencedGroupId" },
	{ "pl", "SourcePrefixListId", "DestinationPrefixListId", "prefixListIds",
	  "prefixListId", "PrefixListIds", "PrefixListId", "prefixListId",
	  "PrefixListId" },
};

const struct sg_kind *sg_kind_of(const char *kind)
{
	size_t i;

	for (i = 0; i + 1 < SG_NKINDS; i++)
		if (!strcmp(sg_kinds[i].kind, kind))
			return &sg_kinds[i];
	return &sg_kinds[SG_NKINDS - 1];
}

static const char *norm_proto(struct arena *a, const char *p)
{
	char *s;
	size_t i;

	if (!p || !*p || !strcmp(p, "-1") || !strcasecmp(p, "all"))
		return "-1";
	if (!strcmp(p, "6"))
		return "tcp";
	if (!strcmp(p, "17"))
		return "udp";
	if (!strcmp(p, "1"))
		return "icmp";
	if (!strcmp(p, "58"))
		return "icmpv6";
	s = arena_strdup(a, p);
	for (i = 0; s[i]; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

static void add_rule(struct arena *a, struct sg_rules *out, const char *proto,
		     const char *from, const char *to, const char *kind,
		     const char *target, const char *desc)
{
	struct sg_rule *r;
	size_t i;

	proto = norm_proto(a, proto);
	if (!strcmp(proto, "-1"))
		from = to = "";
	/* AWS reports a rule once however often the template lists it */
	for (i = 0; i < out->n; i++) {
		r = &out->items[i];
		if (!strcmp(r->proto, proto) && !strcmp(r->from, from ? from : "") &&
		    !strcmp(r->to, to ? to : "") && !strcmp(r->kind, kind) &&
		    !strcmp(r->target, target))
			return;
	}
	if (out->n == out->cap) {
		size_t ncap = out->cap ? out->cap * 2 : 8;
		out->items = arena_realloc(a, out->items,
					   out->cap * sizeof(*out->items),
					   ncap * sizeof(*out->items));
		out->cap = ncap;
	}
	r = &out->items[out->n++];
	r->proto = proto;
	r->from = from ? from : "";
	r->to = to ? to : "";
	r->kind = kind;
	r->target = target;
	r->desc = desc && *desc ? desc : NULL;
	r->key = arena_sprintf(a, "%s|%s|%s|%s|%s", r->proto, r->from, r->to,
			       r->kind, r->target);
}

int sg_rules_from_template(struct arena *a, const struct value *list,
			   bool egress, struct sg_rules *out, struct err *err)
{
	size_t i;

	if (!list)
		return 0;
	if (list->kind != VALUE_LIST)
		return err_set(err, ERR_VALIDATION, "%s must be a list",
			       egress ? "SecurityGroupEgress"
				      : "SecurityGroupIngress");
	for (i = 0; i < list->u.list.n; i++) {
		const struct value *e = list->u.list.items[i];
		const char *proto = pv_str(e, "IpProtocol");
		const char *from = pv_str(e, "FromPort"), *to = pv_str(e, "ToPort");
		const char *desc = pv_str(e, "Description"), *target = NULL;
		const struct sg_kind *kind = NULL;
		size_t k, set = 0;
		for (k = 0; k < SG_NKINDS; k++) {
			const char *t = pv_str(e, egress ? sg_kinds[k].tmpl_eg
							 : sg_kinds[k].tmpl_in);
			if (t && !set++) {
				target = t;
				kind = &sg_kinds[k];
			}
		}
		if (!proto)
			return err_set(err, ERR_VALIDATION,
				       "%s[%zu]: IpProtocol is required",
				       egress ? "SecurityGroupEgress"
					      : "SecurityGroupIngress", i);
		if (set != 1)
			return err_set(err, ERR_VALIDATION,
				       "%s[%zu]: exactly one of CidrIp, CidrIpv6, "
				       "%s, %s is required",
				       egress ? "SecurityGroupEgress"
					      : "SecurityGroupIngress", i,
				       egress ? "DestinationSecurityGroupId"
					      : "SourceSecurityGroupId",
				       egress ? "DestinationPrefixListId"
					      : "SourcePrefixListId");
		add_rule(a, out, proto, from, to, kind->kind, target, desc);
	}
	return 0;
}

static const struct value *as_list(const struct value *v)
{
	return v && v->kind == VALUE_LIST ? v : NULL;
}

void sg_rules_from_aws(struct arena *a, const struct value *perms,
		       struct sg_rules *out)
{
	size_t i, j, k;

	perms = as_list(perms);
	for (i = 0; perms && i < perms->u.list.n; i++) {
		const struct value *p = perms->u.list.items[i];
		const char *proto = pv_str(p, "ipProtocol");
		const char *from = pv_str(p, "fromPort"), *to = pv_str(p, "toPort");
		for (k = 0; k < SG_NKINDS; k++) {
			const struct value *l = as_list(pv(p, sg_kinds[k].aws_list));
			for (j = 0; l && j < l->u.list.n; j++) {
				const struct value *e = l->u.list.items[j];
				const char *t = pv_str(e, sg_kinds[k].aws_field);
				if (t)
					add_rule(a, out, proto, from, to,
						 sg_kinds[k].kind, t,
						 pv_str(e, "description"));
			}
		}
	}
}

void sg_rules_minus(struct arena *a, const struct sg_rules *x,
		    const struct sg_rules *y, struct sg_rules *out)
{
	size_t i, j;

	for (i = 0; i < x->n; i++) {
		bool found = false;
		for (j = 0; j < y->n && !found; j++)
			found = !strcmp(x->items[i].key, y->items[j].key);
		if (!found) {
			const struct sg_rule *r = &x->items[i];
			add_rule(a, out, r->proto, r->from, r->to, r->kind,
				 r->target, r->desc);
		}
	}
}

struct value *sg_rules_to_params(struct arena *a, const struct sg_rules *r)
{
	struct value *l = value_new_list(a);
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct sg_rule *x = &r->items[i];
		struct value *p = value_new_map(a), *sub = value_new_list(a);
		struct value *e = value_new_map(a);
		const struct sg_kind *k = sg_kind_of(x->kind);
		ps(a, p, "IpProtocol", x->proto);
		if (*x->from)
			pn(a, p, "FromPort", x->from);
		if (*x->to)
			pn(a, p, "ToPort", x->to);
		ps(a, e, k->param_field, x->target);
		ps(a, e, "Description", x->desc);
		value_list_push(a, sub, e);
		value_map_set(a, p, k->param_list, sub);
		value_list_push(a, l, p);
	}
	return l;
}

struct value *sg_rules_to_template(struct arena *a, const struct sg_rules *r,
				   bool egress)
{
	struct value *l = value_new_list(a);
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct sg_rule *x = &r->items[i];
		struct value *m = value_new_map(a);
		const struct sg_kind *k = sg_kind_of(x->kind);
		ps(a, m, "IpProtocol", x->proto);
		if (*x->from)
			pn(a, m, "FromPort", x->from);
		if (*x->to)
			pn(a, m, "ToPort", x->to);
		ps(a, m, egress ? k->tmpl_eg : k->tmpl_in, x->target);
		ps(a, m, "Description", x->desc);
		value_list_push(a, l, m);
	}
	return l;
}

bool sg_rule_is_default_egress(const struct sg_rule *r)
{
	return !strcmp(r->proto, "-1") && !strcmp(r->kind, "cidr") &&
	       !strcmp(r->target, "0.0.0.0/0");
}
