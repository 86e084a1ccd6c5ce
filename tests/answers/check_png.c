// SPDX-License-Identifier: MIT
/*
 * check_png FILE...: each PNG decodes with libpng and is not blank (at
 * least four colours, and at least 0.5% of the pixels not the background
 * colour). One line per file; exit 1 when one is bad. The SVGs are checked
 * by check-image.py.
 */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(const char *path)
{
	png_image img;
	uint32_t *px;
	size_t n, most = 0, colours = 0;
	uint32_t seen[64];
	size_t counts[64] = { 0 };

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path)) {
		printf("%s: BAD: %s\n", path, img.message);
		return 1;
	}
	img.format = PNG_FORMAT_RGBA;
	n = (size_t)img.width * img.height;
	px = malloc(n * 4);
	if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
		printf("%s: BAD: %s\n", path, px ? img.message : "out of memory");
		free(px);
		png_image_free(&img);
		return 1;
	}
	/* the commonest colour is the background; count up to 64 distinct colours */
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < colours && seen[k] != px[i]; k++)
			;
		if (k == colours && colours < 64)
			seen[colours++] = px[i];
		if (k < 64)
			counts[k]++;
	}
	for (size_t k = 0; k < colours; k++)
		if (counts[k] > most)
			most = counts[k];
	free(px);
	if (colours < 4 || (double)(n - most) / (double)n < 0.005) {
		printf("%s: BAD: blank (%zu colours, %.2f%% not background)\n", path, colours,
		       100.0 * (double)(n - most) / (double)n);
		return 1;
	}
	printf("%s: %ux%u, %zu%s colours, %.1f%% drawn\n", path, img.width, img.height, colours, colours == 64 ? "+" : "",
	       100.0 * (double)(n - most) / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++)
		bad |= check(argv[i]);
	return bad;
}
