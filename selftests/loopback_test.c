// SPDX-License-Identifier: GPL-2.0
/*
 * scripts/ksync-vm promises to run any host program in a guest, and many
 * talk to 127.0.0.1: the guest's loopback interface must be up.  A TCP
 * connection to a listener on 127.0.0.1, with a deadline on every step.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common.h"
#include "kselftest_harness.h"

TEST(connect_to_a_local_listener)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	struct pollfd p;
	int srv, cli, conn;
	char c = 0;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, bind(srv, (struct sockaddr *)&addr, sizeof(addr)));
	ASSERT_EQ(0, listen(srv, 1));
	ASSERT_EQ(0, getsockname(srv, (struct sockaddr *)&addr, &len));
	cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, cli);
	/* non-blocking, so that a dead interface fails within the deadline */
	if (connect(cli, (struct sockaddr *)&addr, sizeof(addr)))
		ASSERT_EQ(EINPROGRESS, errno);
	p = (struct pollfd){ .fd = cli, .events = POLLOUT };
	ASSERT_EQ(1, poll(&p, 1, 5000));
	p = (struct pollfd){ .fd = srv, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 5000));
	conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, conn);
	ASSERT_EQ(1, write(cli, "k", 1));
	p = (struct pollfd){ .fd = conn, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 5000));
	ASSERT_EQ(1, read(conn, &c, 1));
	ASSERT_EQ('k', c);
	close(conn);
	close(cli);
	close(srv);
}

TEST_HARNESS_MAIN
