/*
 * pdeblocks_images.h — 2D operators on images: 2D stencils, filter banks, certified norms
 * (included by pdeblocks.h; its conventions apply). Images are row-major (H, W) float64
 * arrays, batches (B, H, W); the 2D conventions (2D stencils with offsets (oy, ox),
 * half-sample mirror per axis, filter banks) are stated in pdeblocks_images.h.
 */
#ifndef PDEBLOCKS_IMAGES_H
#define PDEBLOCKS_IMAGES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_IMAGES_H */
