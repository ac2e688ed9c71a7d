/*
 * The EC2 wire-name table generated from the vendored EC2 model
 * (tests/emulator/models/ec2, see models/VERSION) by gen_ec2_wire.py.
 * Internal to src/aws. ec2_ops is sorted by name.
 */
#ifndef CAIRN_AWS_EC2_WIRE_H
#define CAIRN_AWS_EC2_WIRE_H

#include <stddef.h>

struct ec2_member {
	const char *name; /* member name, as providers write it */
	const char *wire; /* EC2 wire name */
	int shape;        /* index in ec2_shapes of a structure/list, or -1 */
};

struct ec2_shape {
	int is_list;
	int first, n; /* structure: its members in ec2_members */
	int elem;     /* list: element shape, or -1 for scalars */
};

struct ec2_op {
	const char *name;
	int input; /* index in ec2_shapes */
};

extern const struct ec2_member ec2_members[];
extern const struct ec2_shape ec2_shapes[];
extern const struct ec2_op ec2_ops[];
extern const unsigned ec2_nops;

#endif
