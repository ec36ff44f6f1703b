// PDEBlocksIntrinsics is header-only (include/PDEBlocksIntrinsics.h); SwiftPM needs a source file.
#include "PDEBlocksIntrinsics.h"
