// PDEBlocksPrefetch is header-only (include/PDEBlocksPrefetch.h); SwiftPM needs a source file.
#include "PDEBlocksPrefetch.h"
