/*
 * pdeblocks_image_eed.h — edge-enhancing anisotropic diffusion (EED) and AOS semi-implicit image diffusion
 * (included by pdeblocks.h; its conventions apply). Images are row-major (H, W) float64
 * arrays, batches (B, H, W); the 2D conventions (2D stencils with offsets (oy, ox),
 * half-sample mirror per axis, filter banks) are stated in pdeblocks_images.h.
 */
#ifndef PDEBLOCKS_IMAGE_EED_H
#define PDEBLOCKS_IMAGE_EED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_IMAGE_EED_H */
