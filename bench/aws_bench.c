/*
 * AWS client benchmark (not a test):
 *   aws_bench sign [N]         SigV4 signatures per second on one core
 *   aws_bench call URL [N]     N sts:GetCallerIdentity calls through aws_call
 *                              against URL (a loopback server), mean time
 * bench/aws_bench.sh runs both and prints the client overhead: the call
 * time minus the server's own time for the same requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "cairn/arena.h"
#include "cairn/aws.h"
#include "cairn/aws_sigv4.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double user_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
}

static int bench_sign(long n)
{
	static const char body[] = "Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-0123456789abcdef0";
	struct sigv4_header h[] = {
		{ "Host", "ec2.us-east-1.amazonaws.com" },
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "User-Agent", "cairn/0.1.0" },
	};
	struct sigv4_request r = { "POST", "/", "", h, 3, body, sizeof(body) - 1 };
	struct sigv4_creds c = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				 "session-token-example" };
	struct sigv4_signer *s = sigv4_signer_new();
	struct sigv4_result res;
	double t0, t;
	long i;

	sigv4_result_init(&res);
	t0 = now_s();
	for (i = 0; i < n; i++)
		sigv4_sign(s, &r, &c, "us-east-1", "ec2", 1795333923 + (i & 1), 0, &res);
	t = now_s() - t0;
	printf("sign: %ld signatures in %.3f s = %.0f/s (%.2f us each)\n", n, t,
	       (double)n / t, t / (double)n * 1e6);
	sigv4_result_release(&res);
	sigv4_signer_free(s);
	return 0;
}

static int bench_call(const char *url, long n)
{
	struct aws_options o;
	struct err err = ERR_INIT;
	struct aws_client *c;
	double t0 = 0, c0 = 0, u0 = 0, t, cpu, user;
	long i;

	memset(&o, 0, sizeof(o));
	o.endpoint_url = url;
	o.region = "us-east-1";
	o.no_pacing = 1; /* measure the client, not the rate limiter */
	c = aws_client_new(&o, &err);
	if (!c) {
		fprintf(stderr, "aws_bench: %s\n", err.msg);
		return 1;
	}
	for (i = -10; i < n; i++) {
		struct arena *a = arena_new();
		if (i == 0) {
			t0 = now_s();
			c0 = cpu_s();
			u0 = user_s();
		}
		if (!aws_call(c, "sts", "GetCallerIdentity", NULL, a, &err)) {
			fprintf(stderr, "aws_bench: %s\n", err.msg);
			arena_free(a);
			aws_client_free(c);
			return 1;
		}
		arena_free(a);
	}
	t = now_s() - t0;
	cpu = cpu_s() - c0;
	user = user_s() - u0;
	printf("call: %ld calls in %.3f s = %.1f us per call\n", n, t, t / (double)n * 1e6);
	/* the client's own CPU time: everything but waiting for the server */
	printf("client CPU: %.1f us per call (serialise, sign, HTTP, parse)\n",
	       cpu / (double)n * 1e6);
	/* of which in cairn/curl/libxml2/OpenSSL code, not the kernel's TCP */
	printf("client user-mode CPU: %.1f us per call\n", user / (double)n * 1e6);
	aws_client_free(c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "sign"))
		return bench_sign(argc > 2 ? atol(argv[2]) : 300000);
	if (argc >= 3 && !strcmp(argv[1], "call"))
		return bench_call(argv[2], argc > 3 ? atol(argv[3]) : 2000);
	fprintf(stderr, "usage: aws_bench sign [N] | aws_bench call URL [N]\n");
	return 2;
}
