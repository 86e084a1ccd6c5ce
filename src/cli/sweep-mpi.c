// SPDX-License-Identifier: MIT
/*
 * ccmm sweep --mpi: the ranks mpirun (or srun) started share the points
 * (point p on rank p % size), each runs its own in worker processes as a
 * local sweep does, and rank 0 gathers the rows and writes the table.
 * Built when meson finds an MPI (Open MPI or MPICH); otherwise the stubs
 * refuse --mpi.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ccmm_config.h"
#include "cli/cli.h"

#if CCMM_HAVE_MPI
#include <mpi.h>

int cli_mpi_available(void)
{
	return 1;
}

int cli_mpi_init(int *argc, char ***argv, int *rank, int *size)
{
	if (MPI_Init(argc, argv) != MPI_SUCCESS)
		return -EIO;
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	MPI_Comm_size(MPI_COMM_WORLD, size);
	return 0;
}

/* Rows travel as their JSON text, one per line (a row's text has no newline). */
int cli_mpi_gather(char **rows, size_t total, int rank, int size)
{
	size_t len = 0, off = 0;
	char *buf, *all = NULL;
	int n, *lens = NULL, *displs = NULL, ret = 0;

	for (size_t p = (size_t)rank; p < total; p += (size_t)size)
		if (rows[p])
			len += strlen(rows[p]) + 1;
	buf = malloc(len + 1);
	if (!buf)
		len = 0; /* the others still gather: rank 0 finds this rank's points missing */
	for (size_t p = (size_t)rank; buf && p < total; p += (size_t)size) {
		if (!rows[p])
			continue;
		memcpy(buf + off, rows[p], strlen(rows[p]));
		off += strlen(rows[p]);
		buf[off++] = '\n';
	}
	n = len > (size_t)0x7fffffff ? 0 : (int)len;
	if (rank == 0) {
		lens = calloc((size_t)size, sizeof(*lens));
		displs = calloc((size_t)size, sizeof(*displs));
	}
	MPI_Gather(&n, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
	if (rank == 0) {
		size_t sum = 0;

		for (int r = 0; lens && displs && r < size; r++) {
			displs[r] = (int)sum;
			sum += (size_t)lens[r];
		}
		all = malloc(sum + 1);
		if (!all || !lens || !displs || sum > (size_t)0x7fffffff)
			ret = -ENOMEM;
		else
			all[sum] = '\0';
	}
	MPI_Gatherv(buf ? buf : "", n, MPI_CHAR, all, lens, displs, MPI_CHAR, 0, MPI_COMM_WORLD);
	if (rank == 0 && !ret) {
		/* the other ranks' rows into their places */
		for (char *line = all + (lens ? lens[0] : 0), *nl; *line; line = nl + 1) {
			char *end;
			const char *pt;
			unsigned long long p;

			nl = strchr(line, '\n');
			if (!nl)
				break;
			*nl = '\0';
			pt = strstr(line, "\"point\":");
			if (!pt)
				continue;
			p = strtoull(pt + 8, &end, 10);
			if (p < total && !rows[p])
				rows[p] = strdup(line);
		}
	}
	free(all);
	free(lens);
	free(displs);
	free(buf);
	return ret;
}

int cli_mpi_bcast_status(int status)
{
	MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
	return status;
}

void cli_mpi_finalize(void)
{
	int done = 0;

	MPI_Finalized(&done);
	if (!done)
		MPI_Finalize();
}

#else

int cli_mpi_available(void)
{
	return 0;
}

int cli_mpi_init(int *argc, char ***argv, int *rank, int *size)
{
	(void)argc;
	(void)argv;
	*rank = 0;
	*size = 1;
	return -ENOSYS;
}

int cli_mpi_gather(char **rows, size_t total, int rank, int size)
{
	(void)rows;
	(void)total;
	(void)rank;
	(void)size;
	return -ENOSYS;
}

int cli_mpi_bcast_status(int status)
{
	return status;
}

void cli_mpi_finalize(void)
{
}

#endif
