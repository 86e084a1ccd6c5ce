// SPDX-License-Identifier: MIT
/*
 * ccmm-ethpair - send raw Ethernet frames from one NIC of the recorder's
 * guest to another NIC of the same guest and check each one arrives. The
 * two NICs sit on one qemu hub that has no other port, so no frame leaves
 * the VM; the frames carry no IP (a local experimental EtherType, 0x88b5),
 * so the guest's network stack does not route them through loopback: each
 * goes out through the first NIC's transmit DMA and in through the second
 * NIC's receive DMA.
 *
 * usage: ccmm-ethpair TXIF RXIF COUNT SIZE...
 *   frame i carries SIZE[i % n] bytes of payload (46..1500)
 * Prints one summary line; exits 1 when a frame is lost or corrupt, 2 on
 * bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define ETH_P_CCMM 0x88b5

static int open_if(const char *ifname, unsigned char mac[6], int *ifindex)
{
	struct sockaddr_ll sll = { 0 };
	struct ifreq ifr = { 0 };
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_CCMM));

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFINDEX, &ifr))
		return -1;
	*ifindex = ifr.ifr_ifindex;
	if (ioctl(s, SIOCGIFHWADDR, &ifr))
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_CCMM);
	sll.sll_ifindex = *ifindex;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)))
		return -1;
	return s;
}

int main(int argc, char **argv)
{
	unsigned char txmac[6], rxmac[6], frame[ETH_FRAME_LEN], got[ETH_FRAME_LEN];
	int tx, rx, txidx, rxidx;
	unsigned count, nsizes, received = 0;
	unsigned long bytes = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: ccmm-ethpair TXIF RXIF COUNT SIZE...\n");
		return 2;
	}
	tx = open_if(argv[1], txmac, &txidx);
	rx = open_if(argv[2], rxmac, &rxidx);
	if (tx < 0 || rx < 0) {
		fprintf(stderr, "ccmm-ethpair: %s/%s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	count = (unsigned)strtoul(argv[3], NULL, 0);
	nsizes = (unsigned)(argc - 4);
	for (unsigned i = 0; i < count; i++) {
		unsigned len = (unsigned)strtoul(argv[4 + i % nsizes], NULL, 0);
		struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_CCMM),
					  .sll_ifindex = txidx, .sll_halen = 6 };
		struct pollfd pfd = { .fd = rx, .events = POLLIN };
		uint16_t proto = htons(ETH_P_CCMM);
		int matched = 0;

		if (len < 46 || len > 1500) {
			fprintf(stderr, "ccmm-ethpair: payload size %u is outside 46..1500\n", len);
			return 2;
		}
		memcpy(frame, rxmac, 6);
		memcpy(frame + 6, txmac, 6);
		memcpy(frame + 12, &proto, 2);
		for (unsigned b = 0; b < len; b++)
			frame[14 + b] = (unsigned char)(i * 7 + b);
		memcpy(to.sll_addr, rxmac, 6);
		if (sendto(tx, frame, 14 + len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)(14 + len)) {
			fprintf(stderr, "ccmm-ethpair: frame %u: send: %s\n", i, strerror(errno));
			return 1;
		}
		/* the frame, seen by rx's socket (frames rx itself sends would be outgoing: none) */
		while (!matched && poll(&pfd, 1, 3000) == 1) {
			struct sockaddr_ll from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(rx, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);

			if (n < 0)
				break;
			if (from.sll_pkttype == PACKET_OUTGOING)
				continue;
			/* short frames are padded to 60 bytes on the wire */
			if (n >= (ssize_t)(14 + len) && !memcmp(got, frame, 14 + len))
				matched = 1;
		}
		if (!matched) {
			fprintf(stderr, "ccmm-ethpair: frame %u (%u bytes) did not arrive on %s\n", i, len, argv[2]);
			return 1;
		}
		received++;
		bytes += len;
	}
	printf("ccmm-ethpair: %s -> %s: %u frames sent, %u received, %lu payload bytes\n", argv[1], argv[2], count,
	       received, bytes);
	return 0;
}
